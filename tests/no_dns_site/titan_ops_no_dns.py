"""The test suite looks up no name outside this machine: name lookups (``getaddrinfo``, ``gethostbyname``)
of anything but an address, ``localhost`` or a name in /etc/hosts fail as an unknown name would, and
are recorded, so that the test that made one fails (tests/conftest.py). Self-contained: it is also
loaded by ``sitecustomize`` in every Python process the tests start (this folder is put on PYTHONPATH).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

LOG_VARIABLE = "TITAN_OPS_TEST_DNS_LOG"
"""The file where processes started by a test append the names they were refused."""

refused: list[str] = []
"""Names refused in this process."""

_real = {"getaddrinfo": socket.getaddrinfo, "gethostbyname": socket.gethostbyname,
         "gethostbyname_ex": socket.gethostbyname_ex}


def local_names() -> set[str]:
    """``localhost`` and the names /etc/hosts gives (they resolve without asking a name server)."""
    names = {"localhost"}
    try:
        with open("/etc/hosts") as hosts:
            for line in hosts:
                names.update(line.split("#", 1)[0].split()[1:])
    except OSError:
        pass
    return {name.lower() for name in names}


def is_local(host: Any, names: set[str]) -> bool:
    if host is None:
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
        return True
    except ValueError:
        pass
    text = text.lower().rstrip(".")
    return text in names or text.endswith(".localhost")


def install() -> None:
    """Refuse (and record) lookups of non-local names in this process."""
    names = local_names()

    def guarded(function: str) -> Any:
        real = _real[function]

        def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_local(host, names):
                refused.append(str(host))
                log = os.environ.get(LOG_VARIABLE)
                if log:
                    with open(log, "a") as record:
                        record.write(f"{host}\n")
                raise socket.gaierror(socket.EAI_NONAME, f"{host}: not looked up (the tests resolve local names only)")
            return real(host, *args, **kwargs)

        return lookup

    for function in _real:
        setattr(socket, function, guarded(function))
