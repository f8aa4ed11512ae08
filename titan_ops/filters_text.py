"""Ansible's filters that make or read text: ``comment``, ``regex_escape``, ``to_uuid``, ``strftime`` and
``to_datetime``, with ansible-core 2.19's results and messages."""

from __future__ import annotations

import datetime
import re
import time
import uuid
from typing import Any

from titan_ops import sandbox
from titan_ops.errors import TemplateError

_COMMENT_STYLES: dict[str, dict[str, str]] = {
    "plain": {"decoration": "# "},
    "erlang": {"decoration": "% "},
    "c": {"decoration": "// "},
    "cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
    "xml": {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}
ANSIBLE_UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")
"""The namespace of ``to_uuid`` by default (ansible-core's)."""


def comment(text: Any, style: str = "plain", **options: Any) -> str:
    """``text`` as a comment block of ``style`` (plain ``#``, erlang ``%``, c ``//``, cblock ``/* */``, xml
    ``<!-- -->``); ``decoration``, ``prefix``, ``prefix_count``, ``postfix``, ``postfix_count``,
    ``beginning``, ``end`` and ``newline`` change its parts, as Ansible's ``comment``."""
    if style not in _COMMENT_STYLES:
        raise TemplateError(f"Invalid style {style!r}. Available styles: {', '.join(_COMMENT_STYLES)}")
    marker = options.get("decoration", _COMMENT_STYLES[style]["decoration"])
    parts: dict[str, Any] = {"newline": "\n", "beginning": "", "prefix": marker.rstrip(), "prefix_count": 1,
                             "decoration": "", "postfix": marker.rstrip(), "postfix_count": 1, "end": "",
                             **_COMMENT_STYLES[style], **options}
    for count in ("prefix_count", "postfix_count"):
        sandbox.check_size(int(parts[count]), f"the {count} given to 'comment'")
    newline, decoration = parts["newline"], parts["decoration"]
    sandbox.check_size(_comment_size(str(text), parts), "the text 'comment' would make")
    head = f"{parts['beginning']}{newline}" if parts["beginning"] else ""
    if parts["prefix"]:
        prefix = parts["prefix"] if parts["prefix"] == newline else parts["prefix"] + newline
        head += prefix * int(parts["prefix_count"])
    body = decoration + str(text).replace(newline, newline + decoration)
    body = body.replace(decoration + newline, decoration.rstrip() + newline)  # no trailing blanks on empty lines
    tail = "".join(newline + parts["postfix"] for _ in range(int(parts["postfix_count"])))
    if parts["end"]:
        tail += newline + parts["end"]
    return head + body + tail


def _comment_size(text: str, parts: dict[str, Any]) -> int:
    """How long the comment block of ``text`` would be, at most (its parts' lengths times their counts)."""
    newline, decoration = len(str(parts["newline"])), len(str(parts["decoration"]))
    lines = text.count(parts["newline"]) + 1 if parts["newline"] else len(text) + 1
    return (len(str(parts["beginning"])) + newline + (len(str(parts["prefix"])) + newline) * int(parts["prefix_count"])
            + len(text) + lines * (newline + decoration)
            + (newline + len(str(parts["postfix"]))) * int(parts["postfix_count"]) + newline + len(str(parts["end"])))


def regex_escape(text: Any, re_type: str = "python") -> str:
    """``text`` with the special characters of a ``python`` or ``posix_basic`` regular expression escaped."""
    if re_type == "python":
        return re.escape(str(text))
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", str(text))
    if re_type == "posix_extended":
        raise TemplateError(f"Regex type ({re_type}) not yet implemented")
    raise TemplateError(f"Invalid regex type ({re_type})")


def to_uuid(text: Any, namespace: Any = ANSIBLE_UUID_NAMESPACE) -> str:
    """The name-based (version 5) UUID of ``text`` in ``namespace`` (Ansible's own by default)."""
    if not isinstance(namespace, uuid.UUID):
        try:
            namespace = uuid.UUID(namespace)
        except (AttributeError, TypeError, ValueError) as error:
            raise TemplateError(f"Invalid value '{namespace}' for 'namespace': {error}") from None
    return str(uuid.uuid5(namespace, str(text)))


def strftime(text_format: str, second: Any = None, utc: bool = False) -> str:
    """The time ``second`` (seconds since the epoch; now when None) formatted by ``text_format``, in local
    time or UTC."""
    if second is not None:
        try:
            second = float(second)
        except (TypeError, ValueError):
            raise TemplateError(f"Invalid value for epoch value ({second})") from None
    return time.strftime(text_format, (time.gmtime if utc else time.localtime)(second))


def to_datetime(text: Any, format: str = "%Y-%m-%d %H:%M:%S") -> datetime.datetime:  # noqa: A002 - ansible's name
    """``text`` read as a date and time written in ``format``."""
    try:
        return datetime.datetime.strptime(str(text), format)
    except ValueError as error:
        raise TemplateError(f"to_datetime: {error}") from None


FILTERS = {
    "comment": comment,
    "regex_escape": regex_escape,
    "to_uuid": to_uuid,
    "strftime": strftime,
    "to_datetime": to_datetime,
}
