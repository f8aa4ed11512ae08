"""A custom module as a program run on the host, by Ansible's module protocol.

What the file is decides how it runs (as in ansible-core):

- a Python module importing ``ansible.module_utils``: run by ``ansible_python_interpreter`` (default
  ``/usr/bin/python3``) with titan-ops' module API (``api/``) served from memory by ``api/launcher.py``;
  its parameters are JSON, ``{"ANSIBLE_MODULE_ARGS": {...}}``;
- a file holding ``WANT_JSON``: run by its ``#!`` line with a file of its parameters (the ``_ansible_*``
  internal ones too) as JSON;
- any other text file: run by its ``#!`` line with a file of ``key=value`` words (quoted as the shell reads
  them), the ``_ansible_*`` internal parameters included (old-style modules);
- a binary: run as it is, with a file of its parameters as JSON (as a WANT_JSON module).

A ``#!`` line naming python runs with ``ansible_python_interpreter``, one naming another program with
``ansible_<program>_interpreter`` when set. The module and its parameters go on stdin into a private
temporary folder that the same remote command removes: no parameter (a secret) is ever on a command line.
The module honours check mode itself (``_ansible_check_mode``), as Ansible's protocol has it.
"""

from __future__ import annotations

import ast
import base64
import functools
import json
import os
import posixpath
import re
import shlex
import zlib
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from typing import Any

from titan_ops.modules.base import HostContext, Module
from titan_ops.modules.custom.results import parse_output

DEFAULT_PYTHON = "/usr/bin/python3"


class Kind(Enum):
    """How a module file is run."""

    API = "module API"
    WANT_JSON = "want JSON"
    OLD_STYLE = "old style"
    BINARY = "binary"


@dataclass(frozen=True)
class Program:
    """A module file read: what it is, what is sent, and how it is started."""

    kind: Kind
    content: bytes
    """What is sent as the module's file (for the module API: the launcher with the module and the API)."""
    shebang: tuple[str, ...]
    """The program of its ``#!`` line and that line's arguments (empty: none)."""
    problem: str | None = None
    """Why it cannot run (the task fails with it)."""


class CustomModule(Module):
    """A module from a ``library/`` folder: one remote run per task, check mode left to the module."""

    schema = {"type": "object"}
    collection = "ansible.legacy"
    runs_whole = True

    def __init__(self, name: str, path: str):
        self.name = name
        self.path = path
        self.description = f"The custom module {path}."

    def problem(self) -> str | None:
        """Why the module's file cannot run on any host (None: it can), known before any host is touched."""
        return _read(self.path).problem

    def run(self, host: HostContext, args: dict[str, Any]) -> dict[str, Any]:
        program = _read(self.path)
        if program.problem:
            return _failed(program.problem)
        interpreter = _interpreter(program, host)
        internal = {"_ansible_check_mode": host.check_mode, "_ansible_no_log": host.no_log,
                    "_ansible_debug": False, "_ansible_diff": host.diff_mode, "_ansible_verbosity": 0,
                    "_ansible_module_name": self.name}
        file_name = f"{self.name}.py" if program.kind is Kind.API else self.name
        done = host.run(_remote_command(file_name, len(program.content), interpreter),
                        stdin=program.content + _arguments(program.kind, args, internal))
        return parse_output(done.stdout, done.stderr, done.rc, self.name)


@functools.lru_cache(maxsize=64)
def module_at(path: str, name: str) -> CustomModule:
    """The custom module ``name`` whose file is ``path``."""
    return CustomModule(name, path)


def _failed(message: str) -> dict[str, Any]:
    return {"failed": True, "changed": False, "msg": message}


def _read(path: str) -> Program:
    """The module file ``path`` as it is now (read again when it changed)."""
    try:
        return _program(*_stamp(path))
    except OSError as error:
        return Program(Kind.BINARY, b"", (), f"cannot read the module {path}: {error.strerror}")


def _stamp(path: str) -> tuple[str, int, int]:
    """The file and what changes when it does (a changed file is read again)."""
    info = os.stat(path)
    return path, info.st_mtime_ns, info.st_size


@functools.lru_cache(maxsize=64)
def _program(path: str, _mtime: int, _size: int) -> Program:
    with open(path, "rb") as handle:
        content = handle.read()
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        return Program(Kind.BINARY, content, ())
    shebang = _shebang(text)
    if _uses_api(text):
        missing = api_imports_missing(text)
        if missing:
            return Program(Kind.API, b"", shebang, f"the module '{name}' imports {missing[0]}, which titan-ops "
                                                   f"does not provide to custom modules (it provides "
                                                   f"{', '.join(provided_api())}: see docs/custom-modules.md)")
        return Program(Kind.API, _launcher(name, text), shebang)
    kind = Kind.WANT_JSON if "WANT_JSON" in text else Kind.OLD_STYLE
    missing = None if shebang else f"Task failed: module ({name}) is missing interpreter line"
    return Program(kind, content, shebang, missing)


def _shebang(text: str) -> tuple[str, ...]:
    first = text.split("\n", 1)[0]
    return tuple(first[2:].split()) if first.startswith("#!") else ()


_IMPORTS_ANSIBLE = re.compile(r"^\s*(?:from|import)\s+ansible(?:\.|\s)", re.MULTILINE)


def _uses_api(text: str) -> bool:
    """True for a Python module that imports from ``ansible`` (the module API)."""
    return _IMPORTS_ANSIBLE.search(text) is not None


def api_imports_missing(source: str) -> list[str]:
    """The ``ansible`` modules the Python ``source`` imports that titan-ops' module API does not have."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # (the module fails on the host with Python's own message)
    provided, packages = _api_sources()
    missing: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            wanted = [node.module]
            if node.module in packages:  # ``from ansible.module_utils import basic``
                wanted = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        missing.extend(name for name in wanted
                       if (name == "ansible" or name.startswith("ansible.")) and name not in provided
                       and name not in missing)
    return missing


def provided_api() -> list[str]:
    """The modules of the module API titan-ops provides (not its packages)."""
    sources, packages = _api_sources()
    return sorted(name for name in sources if name not in packages)


@functools.lru_cache(maxsize=1)
def _api_sources() -> tuple[dict[str, str], frozenset[str]]:
    """The module API's sources by module name (``ansible.module_utils.basic``), and which are packages."""
    root = resources.files("titan_ops.modules.custom.api")
    sources: dict[str, str] = {}
    packages: set[str] = set()

    def walk(folder: Any, dotted: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir() and entry.joinpath("__init__.py").is_file():
                packages.add(f"{dotted}.{entry.name}")
                walk(entry, f"{dotted}.{entry.name}")
            elif entry.name.endswith(".py"):
                stem = entry.name[:-3]
                sources[dotted if stem == "__init__" else f"{dotted}.{stem}"] = entry.read_text(encoding="utf-8")

    packages.add("ansible")
    walk(root.joinpath("ansible"), "ansible")
    return sources, frozenset(packages)


def _launcher(name: str, source: str) -> bytes:
    """The file run on the host for a module of the module API: the launcher, then the call of its
    ``main`` with the module and the API."""
    sources, packages = _api_sources()
    document = json.dumps({"name": f"{name}.py", "module": source, "sources": sources, "packages": sorted(packages)})
    payload = base64.b64encode(zlib.compress(document.encode("utf-8"), 9)).decode("ascii")
    launcher = resources.files("titan_ops.modules.custom.api").joinpath("launcher.py").read_text(encoding="utf-8")
    return f'{launcher}\nmain("{payload}")\n'.encode()


def _interpreter(program: Program, host: HostContext) -> list[str]:
    """The command that runs the module's file (empty: the file itself)."""
    if program.kind is Kind.BINARY:
        return []
    if program.kind is Kind.API:
        return _variable_interpreter(host, "ansible_python_interpreter") or [DEFAULT_PYTHON]
    words = list(program.shebang)
    named = posixpath.basename(words[1] if posixpath.basename(words[0]) == "env" and len(words) > 1 else words[0])
    if named.startswith("python"):
        return _variable_interpreter(host, "ansible_python_interpreter") or [DEFAULT_PYTHON]
    return _variable_interpreter(host, f"ansible_{named}_interpreter") or words


def _variable_interpreter(host: HostContext, variable: str) -> list[str] | None:
    value = host.connection_variable(variable)  # (the delegated host's in a delegated run, as in ansible-core)
    return shlex.split(value) if isinstance(value, str) and value.strip() else None


def _arguments(kind: Kind, args: dict[str, Any], internal: dict[str, Any]) -> bytes:
    """The module's parameters file, in the form its kind reads."""
    if kind is Kind.API:
        return json.dumps({"ANSIBLE_MODULE_ARGS": {**args, **internal}}, default=str).encode()
    if kind is Kind.OLD_STYLE:
        return " ".join(f"{key}={shlex.quote(str(value))}" for key, value in {**args, **internal}.items()).encode()
    return json.dumps({**args, **internal}, default=str).encode()


def _remote_command(file_name: str, size: int, interpreter: list[str]) -> str:
    """Save stdin's first ``size`` bytes as the module and the rest as its parameters in a new private
    folder, run the module, and remove the folder whatever happens (a timeout's TERM or a hang-up too: the
    shell runs its EXIT trap on ``exit`` only, so each of those signals exits)."""
    module = f'"$d"/{shlex.quote(file_name)}'
    return "\n".join([
        "d=; trap 'rm -rf -- \"$d\"' EXIT",
        "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
        "d=$(mktemp -d) || exit 1",
        "umask 077",
        f'head -c {size} > {module} && cat > "$d"/args && chmod 700 {module} || exit 1',
        f'{" ".join(shlex.quote(word) for word in interpreter)} {module} "$d"/args'.lstrip(),
    ])
