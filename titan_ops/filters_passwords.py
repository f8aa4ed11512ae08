"""Ansible's ``password_hash`` filter: a password as a crypt(3) hash (for ``user``'s ``password``).

As in ansible-core 2.19, the hashing is passlib's (the maintained fork ``libpass`` provides it:
``pip install 'titan-ops[passwords]'``); without it every use fails with ansible-core's message.
"""

from __future__ import annotations

import importlib
from typing import Any

import jinja2

from titan_ops import sandbox
from titan_ops.errors import TemplateError

_SCHEMES = {"md5": "md5_crypt", "blowfish": "bcrypt", "sha256": "sha256_crypt", "sha512": "sha512_crypt"}
"""ansible-core's names of the hash types, to passlib's."""
_DEFAULT_ROUNDS = {"bcrypt": 12, "sha256_crypt": 535000, "sha512_crypt": 656000}
"""The rounds of crypt(3) when none are given (ansible-core's, whatever passlib's own default)."""
MAX_ROUNDS = {"bcrypt": 16, "sha256_crypt": 10_000_000, "sha512_crypt": 10_000_000}
"""More rounds than these would outlive a template's deadline (hashing cannot be interrupted): refused."""


def _passlib_hash() -> Any:
    """passlib's ``hash`` module; TemplateError with ansible-core's words when passlib is not installed."""
    try:
        return importlib.import_module("passlib.hash")
    except ImportError as error:
        raise TemplateError(f"Unable to encrypt nor hash, passlib must be installed: {error}") from None


def _count(rounds: Any) -> int:
    """The number of rounds ``rounds`` asks for (passlib reads a numeral as its number), 0 when none."""
    try:
        return int(rounds) if rounds is not None and not isinstance(rounds, bool) else 0
    except (TypeError, ValueError):
        return 0


@jinja2.pass_environment
def password_hash(environment: jinja2.Environment, password: Any, hashtype: str = "sha512", salt: Any = None,
                  salt_size: Any = None, rounds: Any = None, ident: Any = None) -> str:
    """``password`` hashed with ``hashtype`` (``sha512``, ``sha256``, ``md5``, ``blowfish``, or passlib's
    names of those), with ``salt`` (random when none), ``salt_size``, ``rounds`` and, for bcrypt, ``ident``.
    The password is a secret from here on (masked in every output and record)."""
    environment.templar.note_secrets([str(password)])  # type: ignore[attr-defined]
    scheme = _SCHEMES.get(hashtype, hashtype)
    if _count(rounds) > MAX_ROUNDS.get(scheme, _count(rounds)):
        raise sandbox.LimitReached(f"password_hash: {rounds} rounds of {scheme} would outlive the template's "
                                   f"deadline (at most {MAX_ROUNDS[scheme]}): refused")
    hashes = _passlib_hash()
    if scheme not in _SCHEMES.values():
        raise TemplateError(f"{hashtype} is not in the list of supported passlib algorithms: {', '.join(_SCHEMES)}")
    if salt_size is not None and (not isinstance(salt_size, int) or isinstance(salt_size, bool)):
        raise TemplateError("salt_size must be an integer")
    settings: dict[str, Any] = {"rounds": rounds or _DEFAULT_ROUNDS.get(scheme)}
    if salt:
        settings["salt"] = str(salt)
    if salt_size:
        settings["salt_size"] = salt_size
    if scheme == "bcrypt":
        settings["ident"] = ident or "2b"
        if salt:
            settings["salt"] = importlib.import_module("passlib.utils.binary").bcrypt64.repair_unused(str(salt))
    try:
        return str(getattr(hashes, scheme).using(**{key: value for key, value in settings.items() if value})
                   .hash(str(password)))
    except (ValueError, TypeError) as error:
        raise TemplateError(f"Could not hash the secret: {error}") from None


FILTERS = {"password_hash": password_hash}
