"""``AnsibleModule``: what a custom module written against ansible-core's module API uses most (see
docs/custom-modules.md for the list), written for titan-ops.

The parameters arrive as JSON, ``{"ANSIBLE_MODULE_ARGS": {...}}``, with titan-ops' ``_ansible_*``
internal ones (check mode, diff, no_log, the module's name). The result is printed as one JSON object
and the process exits (``exit_json`` 0, ``fail_json`` 1); the values of ``no_log`` options are masked in it.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import hashlib
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from .common.arg_spec import AnsibleFallbackNotFound, ArgumentSpecValidator, env_fallback
from .common.text.converters import to_bytes, to_native, to_text
from .parsing.convert_bool import BOOLEANS, BOOLEANS_FALSE, BOOLEANS_TRUE, boolean

__all__ = ["AnsibleModule", "AnsibleFallbackNotFound", "BOOLEANS", "BOOLEANS_FALSE", "BOOLEANS_TRUE",
           "env_fallback", "remove_values", "to_bytes", "to_native", "to_text"]

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
"""What a value equal to a secret becomes in a result (a secret inside a longer text becomes ``********``)."""

_ANSIBLE_ARGS: bytes | None = None
"""The parameters' JSON, set by titan-ops' launcher before the module runs (else read from argv[1] or stdin)."""
_PRIVATE_FOLDER: str | None = None
"""The private folder the module runs in, which its remote command removes however it ends (set by the
launcher): :attr:`AnsibleModule.tmpdir` is made inside it, so a module that raises or is killed leaves none."""

FILE_COMMON_ARGUMENTS = {
    "mode": {"type": "raw"}, "owner": {"type": "str"}, "group": {"type": "str"},
    "seuser": {"type": "str"}, "serole": {"type": "str"}, "selevel": {"type": "str"}, "setype": {"type": "str"},
    "attributes": {"type": "str", "aliases": ["attr"]}, "unsafe_writes": {"type": "bool", "default": False},
}
"""The options ``add_file_common_args=True`` adds."""


def _load_params() -> dict[str, Any]:
    """The module's parameters (with the ``_ansible_*`` internal ones)."""
    raw = _ANSIBLE_ARGS
    if raw is None:
        if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]):
            with open(sys.argv[1], "rb") as handle:
                raw = handle.read()
        else:
            raw = sys.stdin.buffer.read()
    try:
        document = json.loads(raw.decode("utf-8"))
        return document["ANSIBLE_MODULE_ARGS"]
    except (ValueError, KeyError, TypeError, AttributeError):
        print(json.dumps({"failed": True, "msg": "Error: Module unable to decode valid JSON on stdin. Unable to "
                                                  "figure out what parameters were passed"}))
        sys.exit(1)


def remove_values(value: Any, no_log_strings: Any) -> Any:
    """``value`` with every secret of ``no_log_strings`` masked: a value equal to one replaced whole, one
    inside a longer text by ``********`` (the longest secrets first, so none is half masked)."""
    secrets = sorted({str(secret) for secret in no_log_strings if str(secret)}, key=len, reverse=True)
    return _masked(value, secrets) if secrets else value


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, Mapping):
        return {_masked(key, secrets) if isinstance(key, str) else key: _masked(item, secrets)
                for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_masked(item, secrets) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return NO_LOG_PLACEHOLDER if str(value) in secrets else value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if value in secrets:
            return NO_LOG_PLACEHOLDER
        for secret in secrets:
            value = value.replace(secret, "********")
    return value


class AnsibleModule:
    """A module's parameters, validated against ``argument_spec``, and the ways it reports its result."""

    def __init__(self, argument_spec: Mapping[str, Any], bypass_checks: bool = False, no_log: bool = False,
                 mutually_exclusive: Any = None, required_together: Any = None, required_one_of: Any = None,
                 add_file_common_args: bool = False, supports_check_mode: bool = False, required_if: Any = None,
                 required_by: Any = None):
        self.argument_spec = dict(argument_spec)
        if add_file_common_args:
            for name, option in FILE_COMMON_ARGUMENTS.items():
                self.argument_spec.setdefault(name, option)
        self.supports_check_mode = supports_check_mode
        self.no_log = no_log
        self._warnings: list[str] = []
        self._deprecations: list[dict[str, Any]] = []
        self._tmpdir: str | None = None
        given = _load_params()
        self.check_mode = bool(given.get("_ansible_check_mode", False))
        self._diff = bool(given.get("_ansible_diff", False))
        self._verbosity = int(given.get("_ansible_verbosity", 0) or 0)
        self._debug = bool(given.get("_ansible_debug", False))
        self._name = str(given.get("_ansible_module_name") or os.path.splitext(os.path.basename(sys.argv[0]))[0])
        self.no_log = self.no_log or bool(given.get("_ansible_no_log", False))
        self.ansible_version = given.get("_ansible_version", "")
        parameters = {key: value for key, value in given.items() if not key.startswith("_ansible_")}
        self.validator = ArgumentSpecValidator(self.argument_spec, mutually_exclusive, required_together,
                                               required_one_of, required_if, required_by)
        self.validation_result = self.validator.validate(parameters)
        self.no_log_values = set(self.validation_result.no_log_values)
        self.params: dict[str, Any] = self.validation_result.validated_parameters
        for warning in self.validation_result.warnings:
            self.warn(warning)
        if self.validation_result.error_messages and not bypass_checks:
            self.fail_json(msg=self._first_error())
        if self.check_mode and not self.supports_check_mode:
            self.exit_json(skipped=True, msg=f"remote module ({self._name}) does not support check mode")

    def _first_error(self) -> str:
        """What the module fails with: the first validation error (ansible-core's words for unsupported options)."""
        first = self.validation_result.error_messages[0]
        if first == self.validation_result.unsupported_error:
            return f"Unsupported parameters for ({self._name}) module: {first}"
        return first

    # -- reporting -------------------------------------------------------------
    def warn(self, warning: str) -> None:
        """A warning shown with the task's result."""
        self._warnings.append(str(warning))

    def deprecate(self, msg: str, version: str | None = None, date: str | None = None,
                  collection_name: str | None = None) -> None:
        """A deprecation shown with the task's result."""
        entry: dict[str, Any] = {"msg": str(msg)}
        if date is not None:
            entry["date"] = date
        else:
            entry["version"] = version
        entry["collection_name"] = collection_name
        self._deprecations.append(entry)

    def exit_json(self, **kwargs: Any) -> NoReturn:
        """Print the result and exit 0."""
        self._finish(kwargs, 0)

    def fail_json(self, msg: str | None = None, **kwargs: Any) -> NoReturn:
        """Print a failed result with ``msg`` and exit 1."""
        kwargs["failed"] = True
        kwargs["msg"] = msg if msg is not None else "implementation error -- msg to explain the error is required"
        self._finish(kwargs, 1)

    def _finish(self, result: dict[str, Any], code: int) -> NoReturn:
        if self._warnings:
            result["warnings"] = list(result.get("warnings") or []) + self._warnings
        if self._deprecations:
            result["deprecations"] = list(result.get("deprecations") or []) + self._deprecations
        result = remove_values(result, self.no_log_values)
        self._cleanup()
        print(json.dumps(result, default=_jsonable))
        sys.stdout.flush()
        sys.exit(code)

    def jsonify(self, data: Any) -> str:
        return json.dumps(data, default=_jsonable)

    def from_json(self, data: str) -> Any:
        return json.loads(data)

    def log(self, msg: str, log_args: Any = None) -> None:
        """Nothing: titan-ops modules do not write to the host's syslog."""

    def debug(self, msg: str) -> None:
        if self._debug:
            self.log(msg)

    def boolean(self, arg: Any) -> bool | None:
        return None if arg is None else boolean(arg)

    # -- the host ----------------------------------------------------------------
    @property
    def tmpdir(self) -> str:
        """A private temporary folder, removed when the module exits."""
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="titan-ops-module-", dir=_PRIVATE_FOLDER)
        return self._tmpdir

    def _cleanup(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def get_bin_path(self, arg: str, required: bool = False, opt_dirs: Any = None) -> str | None:
        """The program ``arg`` in ``opt_dirs``, ``$PATH`` or the sbin folders; None (or a failure when
        ``required``) when it is nowhere."""
        folders = [*(opt_dirs or []), *os.environ.get("PATH", "").split(os.pathsep),
                   "/sbin", "/usr/sbin", "/usr/local/sbin"]
        for folder in folders:
            candidate = os.path.join(folder, arg)
            if folder and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        if required:
            self.fail_json(msg=f'Failed to find required executable "{arg}" in paths: '
                               f'{os.pathsep.join(folder for folder in folders if folder)}')
        return None

    def run_command(self, args: Any, check_rc: bool = False, close_fds: bool = True, executable: str | None = None,
                    data: Any = None, binary_data: bool = False, path_prefix: str | None = None,
                    cwd: str | None = None, use_unsafe_shell: bool = False, prompt_regex: str | None = None,
                    environ_update: Mapping[str, str] | None = None, umask: int | None = None,
                    encoding: str | None = "utf-8", errors: str = "surrogate_or_strict",
                    expand_user_and_vars: bool = True, **_: Any) -> tuple[int, Any, Any]:
        """Run a command (a list, or a string split as the shell would unless ``use_unsafe_shell``);
        ``(rc, stdout, stderr)``. ``check_rc`` fails the module when rc is not 0."""
        shell = bool(use_unsafe_shell)
        if isinstance(args, (list, tuple)):
            command: Any = [str(arg) for arg in args if arg is not None]
            if shell:
                command = " ".join(shlex.quote(arg) for arg in command)
        elif shell:
            command = to_text(args)
        else:
            command = shlex.split(to_text(args))
        if expand_user_and_vars and not shell:
            command = [os.path.expanduser(os.path.expandvars(arg)) for arg in command]
        environment = dict(os.environ)
        environment.update(environ_update or {})
        if path_prefix:
            environment["PATH"] = f"{path_prefix}:{environment.get('PATH', '')}"
        stdin = None
        if data is not None:
            stdin = to_bytes(data) + (b"" if binary_data else b"\n")
        old_umask = os.umask(umask) if umask is not None else None
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, shell=shell, cwd=cwd, env=environment,
                                  close_fds=close_fds, executable=executable if shell else None)
        except OSError as error:
            self.fail_json(rc=getattr(error, "errno", 2) or 2, msg=to_native(error), cmd=self._shown(command))
        finally:
            if old_umask is not None:
                os.umask(old_umask)
        out, err = done.stdout, done.stderr
        if encoding is not None:
            out, err = out.decode(encoding, "surrogateescape"), err.decode(encoding, "surrogateescape")
        if check_rc and done.returncode != 0:
            self.fail_json(cmd=self._shown(command), rc=done.returncode, stdout=out, stderr=err,
                           msg=to_text(err).rstrip() or f"Command failed rc={done.returncode}")
        return done.returncode, out, err

    def _shown(self, command: Any) -> str:
        return command if isinstance(command, str) else " ".join(shlex.quote(arg) for arg in command)

    # -- files -----------------------------------------------------------------
    def digest_from_file(self, filename: str, algorithm: Any) -> str | None:
        """The hex digest of a file (None when it does not exist)."""
        if not os.path.exists(filename):
            return None
        digest = hashlib.new(algorithm) if isinstance(algorithm, str) else algorithm()
        with open(filename, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        return digest.hexdigest()

    def md5(self, filename: str) -> str | None:
        return self.digest_from_file(filename, "md5")

    def sha1(self, filename: str) -> str | None:
        return self.digest_from_file(filename, "sha1")

    def sha256(self, filename: str) -> str | None:
        return self.digest_from_file(filename, "sha256")

    def backup_local(self, fn: str) -> str:
        """A copy of ``fn`` beside it, named with the process id and the time; its name."""
        if not os.path.exists(fn):
            return ""
        backup = f"{fn}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S')}~"
        shutil.copy2(fn, backup)
        return backup

    def load_file_common_arguments(self, params: Mapping[str, Any], path: str | None = None) -> dict[str, Any]:
        """The file options of ``params`` for the file ``path`` (default: its ``path`` or ``dest``)."""
        path = path or params.get("path") or params.get("dest")
        return {"path": os.path.expanduser(path) if path else path,
                **{key: params.get(key) for key in ("mode", "owner", "group", "attributes")}}

    def set_fs_attributes_if_different(self, file_args: Mapping[str, Any], changed: bool, diff: Any = None,
                                       expand: bool = True) -> bool:
        """Give ``file_args['path']`` its owner, group and mode (not in check mode); True when one differed
        (or ``changed`` was already)."""
        path = file_args["path"]
        changed = self.set_owner_if_different(path, file_args.get("owner"), changed, diff, expand)
        changed = self.set_group_if_different(path, file_args.get("group"), changed, diff, expand)
        return self.set_mode_if_different(path, file_args.get("mode"), changed, diff, expand)

    set_file_attributes_if_different = set_fs_attributes_if_different

    def set_mode_if_different(self, path: str, mode: Any, changed: bool, diff: Any = None,
                              expand: bool = True) -> bool:
        """Give ``path`` the octal ``mode`` (an int, or a string of octal digits)."""
        if mode is None:
            return changed
        path = os.path.expanduser(path) if expand else path
        if isinstance(mode, int) and not isinstance(mode, bool):
            wanted = mode
        elif isinstance(mode, str) and mode and all(digit in "01234567" for digit in mode):
            wanted = int(mode, 8)
        else:
            self.fail_json(path=path, msg=f"mode must be in octal form in titan-ops' module API, not {mode!r}")
        current = stat.S_IMODE(os.lstat(path).st_mode)
        return self._change(path, "mode", f"0{current:03o}", f"0{wanted:03o}", current != wanted,
                            lambda: os.chmod(path, wanted), changed, diff)

    def set_owner_if_different(self, path: str, owner: Any, changed: bool, diff: Any = None,
                               expand: bool = True) -> bool:
        """Give ``path`` the owner ``owner`` (a name or a uid)."""
        return self._set_account(path, owner, "owner", changed, diff, expand)

    def set_group_if_different(self, path: str, group: Any, changed: bool, diff: Any = None,
                               expand: bool = True) -> bool:
        """Give ``path`` the group ``group`` (a name or a gid)."""
        return self._set_account(path, group, "group", changed, diff, expand)

    def _set_account(self, path: str, name: Any, key: str, changed: bool, diff: Any, expand: bool) -> bool:
        """Give ``path`` the owner or group (``key``) ``name``."""
        if name is None:
            return changed
        path = os.path.expanduser(path) if expand else path
        owner = key == "owner"
        wanted = self._account_id(name, pwd.getpwnam if owner else grp.getgrnam, "user" if owner else "group")
        info = os.lstat(path)
        current = info.st_uid if owner else info.st_gid
        ids = (wanted, -1) if owner else (-1, wanted)
        return self._change(path, key, current, wanted, current != wanted, lambda: os.lchown(path, *ids),
                            changed, diff)

    def _account_id(self, name: Any, lookup: Any, kind: str) -> int:
        if str(name).isdigit():
            return int(name)
        try:
            entry = lookup(str(name))
        except KeyError:
            self.fail_json(msg=f"chown failed: failed to look up {kind} {name}")
        return entry[2]

    def _change(self, path: str, key: str, before: Any, after: Any, differs: bool, apply: Any, changed: bool,
                diff: Any) -> bool:
        """Record the change of ``key`` in ``diff`` and apply it unless in check mode; whether anything changed."""
        if not differs:
            return changed
        if isinstance(diff, dict):
            diff.setdefault("before", {})[key] = before
            diff.setdefault("after", {})[key] = after
        if not self.check_mode:
            try:
                apply()
            except OSError as error:
                self.fail_json(path=path, msg=f"chown or chmod failed: {error}")
        return True

    def atomic_move(self, src: str, dest: str, unsafe_writes: bool = False, keep_dest_attrs: bool = True) -> None:
        """Put ``src`` in place of ``dest`` in one rename (keeping ``dest``'s mode and owner); from another
        file system (``tmpdir`` on a tmpfs), through a copy beside ``dest`` renamed in its place."""
        if keep_dest_attrs and os.path.exists(dest):
            shutil.copymode(dest, src)
            info = os.stat(dest)
            try:
                os.chown(src, info.st_uid, info.st_gid)
            except OSError:
                pass
        try:
            try:
                os.replace(src, dest)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                self._replace_by_copy(src, dest)
        except OSError as error:
            if not unsafe_writes:
                self.fail_json(msg=f"Could not replace file: {src} to {dest}: {error}")
            shutil.copyfile(src, dest)
            os.unlink(src)

    @staticmethod
    def _replace_by_copy(src: str, dest: str) -> None:
        """``src`` copied to a new file beside ``dest``, renamed in its place; ``src`` removed."""
        handle, copy = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=os.path.dirname(dest) or ".")
        os.close(handle)
        try:
            shutil.copy2(src, copy)
            try:
                info = os.stat(src)
                os.chown(copy, info.st_uid, info.st_gid)
            except OSError:
                pass
            os.replace(copy, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(copy)
            raise
        os.unlink(src)


def _jsonable(value: Any) -> Any:
    """How a result value JSON cannot hold is printed (sets and tuples as lists, bytes as text, ...)."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
