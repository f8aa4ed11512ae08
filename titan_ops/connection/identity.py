"""The controller's own user name and home directory, looked up once, before any host is connected.

paramiko and fabric look both up for every connection (``getpass.getuser()``, ``os.path.expanduser``),
falling back to the password database when the environment lacks ``USER``/``HOME``; that database cannot be
read once the descriptors are exhausted. titan-ops's own lookups use the identity settled here (while
descriptors are free) and leave the process's environment as it is; a connection whose library lookup fails
for want of the password database is an unreachable host with one line saying why.
"""

from __future__ import annotations

import functools
import os
import pwd
from dataclasses import dataclass

USER_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""Where ``getpass.getuser()`` looks, in its order, before it reads the password database."""


@dataclass(frozen=True)
class Identity:
    """The controller's user name and home directory (None when neither the environment nor the password
    database gives it)."""

    user: str | None
    home: str | None


@functools.cache
def local_identity() -> Identity:
    """The controller's identity, from the environment as ``getpass`` reads it, else the password database;
    looked up on the first call only."""
    user = next((os.environ[name] for name in USER_VARIABLES if os.environ.get(name)), None)
    home = os.environ.get("HOME")
    if user is None or home is None:
        try:
            entry = pwd.getpwuid(os.getuid())
        except KeyError:
            entry = None
        user = user or (entry.pw_name if entry else None)
        home = home if home is not None else (entry.pw_dir if entry else None)
    return Identity(user, home)


def expand_home(path: str) -> str:
    """``path`` with a leading ``~`` (alone or before ``/``) as the controller's home; other paths as given."""
    home = local_identity().home
    if home is None or not (path == "~" or path.startswith("~/")):
        return os.path.expanduser(path)
    return home + path[1:]


def user_unknown_to_libraries() -> bool:
    """True when the environment names no user: the connection libraries then read the password database."""
    return not any(os.environ.get(name) for name in USER_VARIABLES)
