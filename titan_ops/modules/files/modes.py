"""File modes as Ansible takes them: ints, octal strings and symbolic clauses.

``0644`` in YAML is already the int 420; ``'0644'`` and ``'644'`` are octal
strings; ``'u=rw,g=r,o=r'``, ``'u+x'``, ``'a-w'``, ``'go=u'``, ``'u=rwX'`` are
symbolic (a clause without ``u``/``g``/``o``/``a`` means ``a``, as in Ansible).
"""

from __future__ import annotations

import re
from typing import Any

_OCTAL = re.compile(r"^[0-7]{1,5}$")
_CLAUSE = re.compile(r"^(?P<who>[ugoa]*)(?P<actions>(?:[-+=](?:[rwxXst]*|[ugo]))+)$")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxXst]*)")

_SYMBOLIC_PATTERN = r"[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+"

_WHO_BITS = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_SHIFT = {"u": 6, "g": 3, "o": 0}


class ModeError(ValueError):
    """A mode that is neither octal nor symbolic."""


def mode_schema(*, preserve: bool = False) -> dict[str, Any]:
    """The JSON Schema of a ``mode`` argument."""
    alternatives = [r"[0-7]{1,5}", f"{_SYMBOLIC_PATTERN}(?:,{_SYMBOLIC_PATTERN})*", *(["preserve"] if preserve else [])]
    pattern = "^(?:" + "|".join(alternatives) + ")$"
    extra = " or 'preserve' (the source file's mode)" if preserve else ""
    return {
        "type": ["string", "integer"],
        "pattern": pattern,
        "description": (
            "Permissions of the result: an octal string ('0644' or '644'), an int (YAML 0644 is octal), "
            f"or symbolic clauses like 'u=rw,g=r,o=r', 'u+x', 'go-w', 'a=rX'{extra}. "
            "When omitted an existing file keeps its mode and a new one gets the remote umask's default."
        ),
    }


def resolve(mode: int | str, current: int, is_dir: bool) -> int:
    """The permission bits ``mode`` gives a file whose bits are ``current`` now."""
    if isinstance(mode, bool):
        raise ModeError(f"mode must be octal or symbolic, not {mode!r}")
    if isinstance(mode, int):
        return mode & 0o7777
    text = mode.strip()
    if _OCTAL.match(text):
        return int(text, 8) & 0o7777
    result = current & 0o7777
    for clause in text.split(","):
        result = _apply_clause(clause, result, is_dir)
    return result


def _apply_clause(clause: str, bits: int, is_dir: bool) -> int:
    match = _CLAUSE.match(clause)
    if match is None:
        raise ModeError(f"invalid mode clause '{clause}' (expected e.g. 'u=rw', 'g+x', 'o-w')")
    who = match.group("who") or "a"
    if "a" in who:
        who = "ugo"
    for operator, perms in _ACTION.findall(match.group("actions")):
        mask = _mask(who, perms, bits, is_dir)
        if operator == "+":
            bits |= mask
        elif operator == "-":
            bits &= ~mask
        else:
            cleared = 0
            for user in who:
                cleared |= _WHO_BITS[user]
            bits = (bits & ~cleared) | mask
    return bits


def _mask(who: str, perms: str, bits: int, is_dir: bool) -> int:
    """The bits ``perms`` stands for, for each class in ``who``."""
    if perms in _SHIFT:
        copied = (bits >> _SHIFT[perms]) & 0o7
        return sum(copied << _SHIFT[user] for user in who)
    mask = 0
    executable = is_dir or bool(bits & 0o111)
    for user in who:
        shift = _SHIFT[user]
        for perm in perms:
            if perm == "r":
                mask |= 0o4 << shift
            elif perm == "w":
                mask |= 0o2 << shift
            elif perm == "x" or (perm == "X" and executable):
                mask |= 0o1 << shift
            elif perm == "s" and user in "ug":
                mask |= 0o4000 if user == "u" else 0o2000
            elif perm == "t" and user == "o":
                mask |= 0o1000
    return mask


def chmod_argument(mode: int | str) -> str:
    """``mode`` as chmod's argument: five octal digits (so a directory's setgid bit is not
    kept behind our back), or symbolic clauses with an explicit ``a`` where none was given."""
    if isinstance(mode, int) or _OCTAL.match(mode.strip()):
        return f"{resolve(mode, 0, False):05o}"
    return ",".join(clause if clause[0] in "ugoa" else "a" + clause for clause in mode.split(","))


def octal(bits: int) -> str:
    """Ansible's way of showing a mode: '0644'."""
    return f"{bits & 0o7777:04o}"
