"""The controller's open-file limit: raised where the hard limit allows, and named when exhausted."""

from __future__ import annotations

import errno
import os
import resource

OPEN_FILES_WANTED = 1 << 16
"""The soft limit asked for: each host's connection holds a socket for the whole run. Not more, as a
command the run starts inherits it (some programs walk every possible descriptor when they start)."""


def raise_open_file_limit() -> None:
    """Raise the soft open-file limit towards :data:`OPEN_FILES_WANTED`, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(OPEN_FILES_WANTED, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass  # not allowed here: the run goes on with the limit it has


def out_of_files(error: BaseException) -> bool:
    """Whether ``error`` says the controller has no file descriptor left (per process or system-wide)."""
    return isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE)


def no_descriptor_left() -> bool:
    """Whether the controller cannot open a file now for want of a descriptor."""
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as error:
        return out_of_files(error)
    return False


def out_of_files_message() -> str:
    """One line for a host that could not be reached because the controller ran out of open files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (f"the controller ran out of open files (limit {soft}, hard limit {hard}): "
            "too many hosts at once for this limit (raise it with 'ulimit -n', or run fewer hosts)")
