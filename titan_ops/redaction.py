"""The one place that decides which values are secret, and masks them.

Every event passes through a :class:`Redactor` before any subscriber
(console, JSON, JUnit, the incident record) sees it. A value is secret once
it is known to be, and stays secret for the rest of the run:

- by its name (:func:`is_secret_name`): a variable, module argument, fact,
  ``environment:`` entry or result key with a secret word anywhere in its
  name (``password_new``, ``db_passwords`` and each of its items,
  ``api_token``, ``X-Auth-Token``, ``PGPASSWORD``), whatever its value was
  rendered from (``api_token: "{{ raw }}"``: the rendered value). A name
  whose last word names something else (``ansible_ssh_private_key_file``,
  ``token_url``, ``api_user``) is not secret: a key file's path is not a key;
- by ``no_log``: the facts a ``no_log`` task sets;
- by origin: the controller's secret-named environment variables (not the
  shell's ``PWD``, its working directory), every value of a vars file named
  like a secret store (``secrets.yml``, ``credentials.yml``, ``vault.yml``),
  values a lookup reports (``password``).

A secret is masked as :data:`MASK` in every string, together with its
JSON-escaped, URL-encoded and base64 forms (:func:`encoded_forms`);
passwords in URLs and ``Authorization`` headers are masked by their shape.
Errors raised before a run starts are masked with what is known by then
(:meth:`Redactor.mask_error`).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.trust import Authored

MASK = "********"
MIN_LENGTH = 3
"""Shorter values are never masked (masking every ``a`` would hide everything and protect nothing)."""
_SCALARS = frozenset({int, float, bool, type(None)})
NO_LOG_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
CENSORED_ITEM = "(censored due to no_log)"
"""How a loop item of a ``no_log`` task is named where ansible-core names items."""

_SECRET_WORDS = frozenset({"pass", "pwd", "auth", "cookie", "cookies", "credential", "credentials", "secret",
                           "secrets", "token", "tokens", "apikey", "passwd", "password", "passwords", "passphrase",
                           "authorization", "privatekey"})
"""Words of a name that make it secret."""
_SECRET_INSIDE = ("password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "privatekey")
"""Words that make a name secret even inside another word (``PGPASSWORD``, ``MYSECRET``)."""
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
                           ("signing", "key"), ("encryption", "key"), ("master", "key"), ("session", "key")})
"""Two words in a row that make a name secret."""
_OTHER_THINGS = frozenset({"file", "files", "path", "paths", "dir", "directory", "user", "username", "name",
                           "length", "size", "format", "type", "id", "url", "uri", "hint", "prompt", "policy",
                           "enabled", "required", "method", "mode", "expires", "expiry", "ttl", "age", "count",
                           "set", "changed", "source", "store"})
"""Last words that make a name about something other than a secret (``private_key_file``, ``token_url``)."""
_SHELL_VARIABLES = frozenset({"PWD"})
"""Environment variables the shell sets that hold no secret (``PWD``, a working directory: ``pwd`` is a secret
word in a variable's name, ``db_pwd``)."""
_PUBLIC_NAMES = frozenset({"getent_passwd"})
"""Names with a secret word that hold no secret: the ``getent`` fact of the world-readable passwd database."""
_WORD = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SECRET_STORE = re.compile(r"(^|[-_.])(secrets?|credentials?|vault|passwords?)([-_.]|$)", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<password>[^@/\s]+)@")
_AUTH_HEADER = re.compile(r"(?P<lead>\b(?:Authorization|Proxy-Authorization)\s*[:=]\s*\"?(?:Basic|Bearer|Token)?\s*)"
                          r"(?P<value>[A-Za-z0-9+/=._~-]{4,})", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """True for names that hold secrets: a secret word anywhere in them, unless the last word names
    something else (cached: names repeat)."""
    words = [word.lower() for word in _WORD.findall(name)]
    if not words or words[-1] in _OTHER_THINGS or name in _PUBLIC_NAMES:
        return False
    if any(word in _SECRET_WORDS or any(inside in word for inside in _SECRET_INSIDE) for word in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def _secret_under(key: Any, secret: bool) -> bool:
    """Is what ``key`` holds secret, in a mapping that is (``secret``) or is not under a secret name?"""
    if not isinstance(key, str):
        return secret
    if is_secret_name(key):
        return True
    if not secret:
        return False
    words = _WORD.findall(key)
    return not (words and words[-1].lower() in _OTHER_THINGS)


def is_secret_store(path: str) -> bool:
    """True for a vars file whose name says it holds secrets (``secrets.yml``, ``db-credentials.yml``)."""
    return bool(_SECRET_STORE.search(path.rsplit("/", 1)[-1]))


def secret_values(value: Any, secret: bool = False) -> Iterator[str]:
    """The secrets ``value`` holds: every scalar under a secret name, items of lists included (under
    ``secret``, all of them but those under a name of something else). Templates are not secrets: what
    they render to is."""
    kind = type(value)
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            yield from secret_values(item, _secret_under(key, secret))
    elif kind is list or isinstance(value, (list, tuple)):
        for item in value:
            yield from secret_values(item, secret)
    elif secret and kind is not bool and isinstance(value, (str, int, float)):
        text = str(value)
        if not (kind is Authored and "{{" in text):
            yield text


def every_value(value: Any) -> Iterator[str]:
    """Every scalar ``value`` holds (what a ``no_log`` task sets, a secret store's content)."""
    return secret_values(value, secret=True)


def encoded_forms(secret: str) -> set[str]:
    """``secret`` as it may appear in output: itself, JSON-escaped, URL-encoded, and base64 (standard and
    URL-safe; the three alignments it can have inside a longer encoded text, as GitHub Actions masks)."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    data = secret.encode("utf-8", "surrogatepass")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(data).decode("ascii"))
        for offset in range(3):
            encoded = encode(bytes(offset) + data).decode("ascii")
            start, end = -(-8 * offset // 6), 8 * (offset + len(data)) // 6  # characters of the secret's bits only
            if end - start >= 2 * MIN_LENGTH:
                forms.add(encoded[start:end])
    return {form for form in forms if len(form) >= MIN_LENGTH}


class Redactor:
    """Masks known secrets (and their encoded forms), secret-named keys, URL passwords and auth headers.

    Secrets are added as they become known (from any thread); masking is one regular expression.
    """

    def __init__(self, secrets: Iterable[Any] = ()):
        self._known: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self._masked_results = False
        self._learnt_since = False
        """Secrets were learnt after a result was masked: the run's end masks every result again."""
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[Any]) -> None:
        """Remember ``values`` as secrets for the rest of the run."""
        fresh = {text for text in map(str, (value for value in values if value is not None))
                 if len(text) >= MIN_LENGTH and text not in self._known}
        if not fresh:
            return
        with self._lock:
            self._known |= fresh
            self._learnt_since = self._masked_results
            forms = set().union(*(encoded_forms(text) for text in fresh)) - self._forms
            if forms:
                self._forms |= forms
                ordered = sorted(self._forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def collect_from(self, variables: Mapping[str, Any]) -> None:
        """Remember the values of every secret-named variable in ``variables`` (at any depth)."""
        self.add_secrets(secret_values(variables))

    def collect_from_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Remember the values of the controller's secret-named environment variables (``os.environ``'s
        by default), the shell's own aside."""
        environ = os.environ if environ is None else environ
        self.collect_from({name: value for name, value in environ.items() if name not in _SHELL_VARIABLES})

    def mask_error(self, error: TitanOpsError) -> None:
        """Mask every known secret in ``error``'s message, in place (a validation error quoting what a
        secret rendered to: ``-e api_token=...`` in a host pattern)."""
        masked = self.text(error.message)
        if masked != error.message:
            error.message = masked
            error.args = (str(error),)

    def text(self, value: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        if "://" in value:
            value = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
        if "uthorization" in value:
            value = _AUTH_HEADER.sub(lambda m: f"{m['lead']}{MASK}", value)
        return value

    def scrub(self, value: Any, secret: bool = False) -> Any:
        """A copy of ``value`` with every secret masked (everything under a secret-named key)."""
        kind = type(value)  # exact types first: this runs for every value of every result
        if kind in _SCALARS:
            return MASK if secret and kind is not bool and value is not None else value
        if kind is str or isinstance(value, str):
            return MASK if secret and value else self.text(value)
        if kind is dict or isinstance(value, Mapping):
            if not secret:  # the usual case, without a call per key
                return {key: self.scrub(item, True) if isinstance(key, str) and is_secret_name(key)
                        else self.scrub(item) for key, item in value.items()}
            return {key: self.scrub(item, _secret_under(key, True)) for key, item in value.items()}
        if kind is list or isinstance(value, (list, tuple)):
            return [self.scrub(item, secret) for item in value]
        return value

    def event(self, event: Any) -> Any:
        """A copy of ``event`` with its task result (if any) scrubbed; at a run's end, when secrets were
        learnt after results were masked, every result of the run is masked again with them (its custom stats,
        kept unmasked until then, are masked at the end in any case)."""
        result = getattr(event, "result", None)
        if result is not None and hasattr(result, "result") and isinstance(result.result, dict):
            return dataclasses.replace(event, result=self.task_result(result))
        if result is not None and hasattr(result, "plays"):
            result.custom_stats = self.scrub(result.custom_stats)
            result.global_custom_stats = self.scrub(result.global_custom_stats)
            if not self._learnt_since:
                return event
            for play in result.plays:
                for host, results in play.tasks.items():
                    play.tasks[host] = [self.task_result(item) for item in results]
            return event
        if hasattr(event, "name") and isinstance(event.name, str):
            return dataclasses.replace(event, name=self.text(event.name))
        if hasattr(event, "label"):  # (an include's file and loop item)
            return dataclasses.replace(event, path=self.text(event.path),
                                       label=None if event.label is None else self.text(event.label))
        return event

    def task_result(self, result: Any) -> Any:
        """A copy of a TaskResult with its result scrubbed (hidden under ``no_log``)."""
        self._masked_results = True
        payload = hide(result.result) if getattr(result, "no_log", False) else self.scrub(result.result)
        return dataclasses.replace(result, result=payload, task=self.text(result.task))


def hide(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result of a ``no_log`` task: its status flags and nothing else."""
    kept = {key: result[key] for key in ("changed", "failed", "skipped", "unreachable", "rc") if key in result}
    return {**kept, "censored": NO_LOG_MESSAGE}
