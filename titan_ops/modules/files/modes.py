"""File modes as Ansible takes them: ints, octal strings and symbolic clauses.

``0644`` in YAML is already the int 420; ``'0644'`` and ``'644'`` are octal
strings; ``'u=rw,g=r,o=r'``, ``'u+x'``, ``'a-w'``, ``'go=u'``, ``'u=rwX'`` are
symbolic. As in Ansible, a clause without ``u``/``g``/``o``/``a`` means all
three with the umask applied to r, w and x, and the classes of a clause are
changed one after the other, each seeing the mode the previous one left.
"""

from __future__ import annotations

import re
from typing import Any

_OCTAL = re.compile(r"^[0-7]{1,5}$")
_CLAUSE = re.compile(r"^(?P<who>[ugoa]*)(?P<actions>(?:[-+=](?:[ugo]|[rwxXst]*))+)$")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxXst]*)")
_SYMBOLIC_PATTERN = r"[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+"

_SHIFT = {"u": 6, "g": 3, "o": 0}
_SPECIAL = {"u": 0o4000, "g": 0o2000, "o": 0o1000}
"""The setuid, setgid and sticky bit, each going with one class (``s`` for u and g, ``t`` for o)."""


class ModeError(ValueError):
    """A mode that is neither octal nor symbolic."""


def mode_schema(*, preserve: bool = False) -> dict[str, Any]:
    """The JSON Schema of a ``mode`` argument."""
    alternatives = [r"[0-7]{1,5}", f"{_SYMBOLIC_PATTERN}(?:,{_SYMBOLIC_PATTERN})*", *(["preserve"] if preserve else [])]
    extra = " or 'preserve' (the source file's mode)" if preserve else ""
    return {
        "type": ["string", "integer"],
        "pattern": "^(?:" + "|".join(alternatives) + ")$",
        "description": (
            "Permissions of the result: an octal string ('0644' or '644'), an int (YAML 0644 is octal), "
            f"or symbolic clauses like 'u=rw,g=r,o=r', 'u+x', 'go-w', 'a=rX'{extra}. "
            "When omitted an existing file keeps its mode and a new one gets the remote umask's default."
        ),
    }


def is_symbolic(mode: int | str) -> bool:
    """True for symbolic modes, whose result depends on the file's current mode."""
    return isinstance(mode, str) and not _OCTAL.match(mode.strip())


def resolve(mode: int | str, current: int, is_dir: bool, umask: int = 0o022) -> int:
    """The permission bits ``mode`` gives a file (a directory if ``is_dir``) whose bits are ``current``."""
    if isinstance(mode, bool):
        raise ModeError(f"mode must be octal or symbolic, not {mode!r}")
    if not is_symbolic(mode):
        return (mode if isinstance(mode, int) else int(mode.strip(), 8)) & 0o7777
    result = current & 0o7777
    for clause in str(mode).strip().split(","):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ModeError(f"invalid mode clause '{clause}' (expected e.g. 'u=rw', 'g+x', 'o-w')")
        who = match.group("who")
        allowed = 0o777 & ~umask if not who else 0o777
        classes = "ugo" if not who or "a" in who else who
        for operator, perms in _ACTION.findall(match.group("actions")):
            for cls in classes:
                result = _operate(cls, operator, _bits(cls, perms, result, is_dir, allowed), result)
    return result


def _bits(cls: str, perms: str, mode: int, is_dir: bool, allowed: int) -> int:
    """The bits ``perms`` stands for in class ``cls`` of a file whose mode is ``mode``."""
    shift = _SHIFT[cls]
    if perms in _SHIFT:
        return ((mode >> _SHIFT[perms]) & 0o7) << shift
    executable = is_dir or bool(mode & 0o111)
    bits = 0
    for perm in perms:
        if perm == "r":
            bits |= (0o4 << shift) & allowed
        elif perm == "w":
            bits |= (0o2 << shift) & allowed
        elif perm == "x" or (perm == "X" and executable):
            bits |= (0o1 << shift) & allowed
        elif (perm == "s" and cls in "ug") or (perm == "t" and cls == "o"):
            bits |= _SPECIAL[cls]
    return bits


def _operate(cls: str, operator: str, bits: int, mode: int) -> int:
    if operator == "+":
        return mode | bits
    if operator == "-":
        return mode & ~bits
    return (mode & ~((0o7 << _SHIFT[cls]) | _SPECIAL[cls])) | bits


def chmod_argument(mode: int) -> str:
    """Bits as chmod's argument: five octal digits, so a directory's setgid bit is not kept
    behind our back."""
    return f"{mode & 0o7777:05o}"


def octal(bits: int) -> str:
    """Ansible's way of showing a mode in results: '0644', '4755'."""
    return f"{bits & 0o7777:04o}"


def diff_octal(bits: int) -> str:
    """Ansible's way of showing a mode in diffs: '0644', '04755'."""
    return f"0{bits & 0o7777:03o}"
