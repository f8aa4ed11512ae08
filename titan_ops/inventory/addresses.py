"""Host addresses with an optional port: ``name:22``, ``10.0.0.1:22``, ``[fe80::1]:22``, ``fe80::1``.

Colons inside a host range (``web[1:3]``) are not port separators. A bare
IPv6 address has no port; one in brackets may have one.
"""

from __future__ import annotations

import ipaddress
import re

_RANGE = r"\[[^\]]*\]"
_LABEL = rf"(?:[A-Za-z0-9_]|{_RANGE})(?:[\w\-]|{_RANGE})*"
_HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*"
_NAME_WITH_PORT = re.compile(rf"^(?P<name>{_HOSTNAME})(?::(?P<port>\d+))?$")
_BRACKETED = re.compile(r"^\[(?P<name>[^\]]*(?:\[[^\]]*\][^\]]*)*)\](?::(?P<port>\d+))?$")


def split_port(address: str) -> tuple[str, int | None] | None:
    """``(host, port)`` when ``address`` is a host name or address with an optional port, else None."""
    if _is_ipv6(address):
        return address, None
    bracketed = _BRACKETED.match(address)
    if bracketed and _is_ipv6(bracketed.group("name")):
        port = bracketed.group("port")
        return bracketed.group("name"), int(port) if port else None
    match = _NAME_WITH_PORT.match(address)
    if match:
        port = match.group("port")
        return match.group("name"), int(port) if port else None
    return None


def _is_ipv6(text: str) -> bool:
    """True for an IPv6 address, host ranges standing in for some of its digits."""
    try:
        ipaddress.IPv6Address(re.sub(_RANGE, "0", text))
    except ValueError:
        return False
    return ":" in text
