"""The ``password`` lookup: a random password kept in a controller file, so later runs get the same one.

``lookup('password', 'credentials/db length=24 chars=ascii_letters,digits')`` reads the file when it
exists and otherwise generates a password and writes it there (folder 0700, file 0600, atomically);
``/dev/null`` generates a new password each time. The password is a secret from then on: it is
masked in every output.
"""

from __future__ import annotations

import os
import random
import secrets
import string
import threading
from collections.abc import Callable
from typing import Any

from titan_ops.lookups.context import LookupContext, LookupFailed, key_values
from titan_ops.modules.files.local import write_local

_CHARACTER_SETS = {name: getattr(string, name) for name in
                   ("ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits", "octdigits",
                    "punctuation", "printable", "letters", "lowercase", "uppercase") if hasattr(string, name)}
_DEFAULT_CHARS = ["ascii_letters", "digits", ".,:-_"]
_OPTIONS = ("length", "chars", "seed")
_FILES_LOCK = threading.Lock()
"""Hosts asking for a password file not written yet get the one password written first."""


def password(terms: list[Any], context: LookupContext, **options: Any) -> list[Any]:
    passwords = []
    for term in terms:
        path, settings = _parse(str(term), options)
        passwords.append(_password(path, settings, context))
    context.add_secrets(passwords)
    return passwords


def _parse(term: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    path, _, rest = term.strip().partition(" ")
    settings = {**options, **key_values(rest)}
    unknown = sorted(set(settings) - set(_OPTIONS))
    if unknown:
        raise LookupFailed(f"Unrecognized parameter(s) given to password lookup: {', '.join(unknown)}")
    if not path:
        raise LookupFailed("the password lookup needs a file path (or /dev/null)")
    return path, settings


def _password(path: str, settings: dict[str, Any], context: LookupContext) -> str:
    if path == "/dev/null":
        return _generate(settings)
    full = os.path.join(context.base_dir(), os.path.expanduser(path))
    with _FILES_LOCK:
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as handle:
                return handle.readline().rstrip("\n").split(" salt=", 1)[0]
        generated = _generate(settings)
        os.makedirs(os.path.dirname(full) or ".", mode=0o700, exist_ok=True)
        write_local(full, (generated + "\n").encode(), mode=0o600)
        return generated


def _generate(settings: dict[str, Any]) -> str:
    try:
        length = int(settings.get("length", 20))
    except (TypeError, ValueError):
        raise LookupFailed(f"length must be an integer, got {settings['length']!r}") from None
    chars = settings.get("chars", _DEFAULT_CHARS)
    names = chars.split(",") if isinstance(chars, str) else [str(item) for item in chars]
    alphabet = "".join(_CHARACTER_SETS.get(name, name) for name in names)
    if not alphabet:
        raise LookupFailed("chars gives no characters to choose from")
    chooser = random.Random(str(settings["seed"])) if "seed" in settings else secrets.SystemRandom()
    return "".join(chooser.choice(alphabet) for _ in range(length))


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {"password": password}
