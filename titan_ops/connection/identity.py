"""The controller's own user name and home directory, looked up once before any host is connected."""

from __future__ import annotations

import os
import pwd

USER_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""Where ``getpass.getuser()`` looks, in its order, before it reads the password database."""


def settle_local_identity() -> None:
    """Put the controller's user name (``USER``) and home (``HOME``) in the environment if it lacks them.

    paramiko and fabric look both up for every connection (``getpass.getuser()``,
    ``os.path.expanduser("~")``) and fall back to the password database, which cannot be read once the
    descriptors are exhausted: a ``KeyError`` traceback instead of an unreachable host. Looked up here,
    while descriptors are free, they never fall back. A uid with no entry leaves the environment as it is.
    """
    needs_user = not any(os.environ.get(name) for name in USER_VARIABLES)
    if not needs_user and "HOME" in os.environ:
        return
    try:
        entry = pwd.getpwuid(os.getuid())
    except KeyError:
        return
    if needs_user:
        os.environ["USER"] = entry.pw_name
    os.environ.setdefault("HOME", entry.pw_dir)
