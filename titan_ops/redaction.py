"""The one place secrets are scrubbed: every event passes through here
before any subscriber (console, JSON, JUnit, logs) sees it."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "********"
_SCALARS = frozenset({int, float, bool, type(None)})
NO_LOG_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

SECRET_NAME = re.compile(r"pass(word|wd|phrase)?$|passwd|secret|token|api[_-]?key|private[_-]?key|credential|"
                         r"^auth|_auth$|authorization|cookie", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<password>[^@/\s]+)@")
_AUTH_HEADER = re.compile(r"(?P<lead>\b(?:Authorization|Proxy-Authorization)\s*[:=]\s*\"?(?:Basic|Bearer|Token)?\s*)"
                          r"(?P<value>[A-Za-z0-9+/=._~-]{4,})", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for variable and key names that by convention hold secrets (cached: result keys repeat)."""
    return bool(SECRET_NAME.search(name))


class Redactor:
    """Masks known secret values, secret-named keys, URL passwords and auth headers."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[Any]) -> None:
        added = {str(value) for value in values if value is not None and len(str(value)) >= 3}
        if added - self._secrets:
            self._secrets |= added
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))

    def collect_from(self, variables: Mapping[str, Any]) -> None:
        """Remember the values of every secret-named variable in ``variables``."""
        self.add_secrets(_secret_values(variables))

    def text(self, value: str) -> str:
        if self._pattern is not None:
            value = self._pattern.sub(MASK, value)
        if "://" in value:
            value = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
        if "uthorization" in value:
            value = _AUTH_HEADER.sub(lambda m: f"{m['lead']}{MASK}", value)
        return value

    def scrub(self, value: Any) -> Any:
        """A copy of ``value`` with every secret masked."""
        kind = type(value)  # exact types first: this runs for every value of every result
        if kind in _SCALARS:
            return value
        if kind is str or isinstance(value, str):
            return self.text(value)
        if kind is dict or isinstance(value, Mapping):
            return {key: (MASK if isinstance(key, str) and is_secret_name(key) and item not in (None, "")
                          and not isinstance(item, (bool, Mapping, list)) else self.scrub(item))
                    for key, item in value.items()}
        if kind is list or isinstance(value, (list, tuple)):
            return [self.scrub(item) for item in value]
        return value

    def event(self, event: Any) -> Any:
        """A copy of ``event`` with its task result (if any) scrubbed."""
        result = getattr(event, "result", None)
        if result is not None and hasattr(result, "result") and isinstance(result.result, dict):
            payload = hide(result.result) if getattr(result, "no_log", False) else self.scrub(result.result)
            scrubbed = dataclasses.replace(result, result=payload, task=self.text(result.task))
            return dataclasses.replace(event, result=scrubbed)
        if hasattr(event, "name") and isinstance(event.name, str):
            return dataclasses.replace(event, name=self.text(event.name))
        return event


def hide(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result of a ``no_log`` task: its status flags and nothing else."""
    kept = {key: result[key] for key in ("changed", "failed", "skipped", "unreachable", "rc") if key in result}
    return {**kept, "censored": NO_LOG_MESSAGE}


def _secret_values(variables: Mapping[str, Any]) -> Iterable[Any]:
    for name, value in variables.items():
        if isinstance(name, str) and is_secret_name(name) and isinstance(value, (str, int)) \
                and not isinstance(value, bool) and "{{" not in str(value):
            yield value
        elif isinstance(value, Mapping):
            yield from _secret_values(value)
