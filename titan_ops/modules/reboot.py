"""``reboot``: reboot the host, wait until it has booted again (its boot id changed) and runs a test command.

The reboot command losing the connection is how a reboot usually ends a command: it counts as done. Every
check after it logs in anew (as ``wait_for_connection`` does) until ``reboot_timeout`` passes.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from typing import Any

from titan_ops.connection.local import LocalConnection
from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module

_SEARCH_PATHS = ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"]
_BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


class Reboot(Module):
    """Reboot the host and wait until it is back."""

    name = "reboot"
    description = ("Reboot the host, then wait until its boot id (boot_time_command's output) changes and "
                   "test_command succeeds, logging in anew for every check. In check mode nothing is run. On a "
                   "local connection it is refused, as in ansible-core (it would reboot the controller), unless "
                   "reboot_command is given (ansible-core refuses that too).")
    schema = {
        "type": "object",
        "properties": {
            "reboot_command": {"type": "string",
                               "description": "The command that reboots (default: shutdown -r, found in "
                                              "search_paths, with pre_reboot_delay and msg)."},
            "boot_time_command": {"type": "string", "default": _BOOT_ID,
                                  "description": "A command whose output changes with every boot."},
            "test_command": {"type": "string", "default": "whoami",
                             "description": "A command that succeeds once the host is ready."},
            "reboot_timeout": {"type": "integer", "minimum": 0, "default": 600,
                               "description": "Seconds to wait for the new boot, and again for test_command."},
            "connect_timeout": {"type": "integer", "minimum": 0,
                                "description": "Accepted for compatibility: each login waits as long as the "
                                               "run's connection timeout."},
            "pre_reboot_delay": {"type": "integer", "minimum": 0, "default": 0,
                                 "description": "Seconds before the reboot, given to shutdown in whole minutes."},
            "post_reboot_delay": {"type": "integer", "minimum": 0, "default": 0,
                                  "description": "Seconds to wait after the reboot command before checking."},
            "msg": {"type": "string", "default": "Reboot initiated by Ansible",
                    "description": "The message shutdown shows to logged-in users."},
            "search_paths": {"type": "array", "items": {"type": "string"}, "default": _SEARCH_PATHS,
                             "description": "Where shutdown is looked for (PATH is not)."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        """Refused on a local connection (it would reboot the controller) but with a reboot_command of its own."""
        if "reboot_command" not in args and isinstance(host.connection, LocalConnection):
            return Decision(False, {"rebooted": False, "elapsed": 0, "msg": "Running reboot with local connection "
                                    "would reboot the control node."}, failed=True)
        return Decision(True, {"rebooted": True, "elapsed": 0})

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        start = time.monotonic()
        boot = host.run(args.get("boot_time_command", _BOOT_ID))
        if boot.rc != 0:
            return _failure(start, f"Failed to read the boot id with boot_time_command (rc {boot.rc}): "
                                   f"{boot.stderr.strip()}", rebooted=False)
        command = args.get("reboot_command") or _shutdown(host, args)
        if command is None:
            return _failure(start, f'Unable to find command "shutdown" in search paths: '
                                   f'{args.get("search_paths", _SEARCH_PATHS)}', rebooted=False)
        try:
            done = host.run(command)
            if done.rc != 0:
                return _failure(start, f"Reboot command failed. Error was: '{done.stdout.strip()}, "
                                       f"{done.stderr.strip()}'", rebooted=False)
        except TitanOpsError:  # the connection went down with the host
            pass
        time.sleep(args.get("post_reboot_delay", 0))
        timeout = args.get("reboot_timeout", 600)
        booted = _until(host, timeout, lambda: _booted(host, args, boot.stdout))
        if booted is not None:
            return _failure(start, f"Timed out waiting for last boot time check (timeout={timeout}): {booted}")
        ready = _until(host, timeout, lambda: _ready(host, args))
        if ready is not None:
            return _failure(start, f"Timed out waiting for post-reboot test command (timeout={timeout}): {ready}")
        return {"changed": True, "rebooted": True, "elapsed": int(time.monotonic() - start)}


def _shutdown(host: HostContext, args: dict[str, Any]) -> str | None:
    """``shutdown -r`` from ``search_paths`` with the delay and message; None when there is none."""
    paths = " ".join(shlex.quote(f"{path}/shutdown") for path in args.get("search_paths", _SEARCH_PATHS))
    found = host.run(f'for c in {paths}; do if [ -x "$c" ]; then echo "$c"; exit 0; fi; done; exit 1')
    if found.rc != 0:
        return None
    minutes = args.get("pre_reboot_delay", 0) // 60
    when = f"+{minutes}" if minutes else "now"
    message = args.get("msg", "Reboot initiated by Ansible")
    return f"{shlex.quote(found.stdout.strip())} -r {when} {shlex.quote(message)}"


def _booted(host: HostContext, args: dict[str, Any], before: str) -> str | None:
    """None once the boot id differs from ``before``; else why not yet."""
    done = host.run(args.get("boot_time_command", _BOOT_ID))
    if done.rc != 0:
        return f"boot_time_command failed (rc {done.rc})"
    return None if done.stdout != before else "the boot id has not changed"


def _ready(host: HostContext, args: dict[str, Any]) -> str | None:
    done = host.run(args.get("test_command", "whoami"))
    return None if done.rc == 0 else f"test_command failed (rc {done.rc})"


def _until(host: HostContext, timeout: int, check: Callable[[], str | None]) -> str | None:
    """Log in anew and ``check`` every second until it passes (None) or ``timeout`` seconds pass (its last
    reason)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            host.connection.close()  # the next command logs in again
            problem = check()
        except TitanOpsError as error:
            problem = error.message
        if problem is None or time.monotonic() + 1 > deadline:
            return problem
        time.sleep(1)


def _failure(start: float, msg: str, rebooted: bool = True) -> dict[str, Any]:
    return {"changed": False, "failed": True, "rebooted": rebooted, "elapsed": int(time.monotonic() - start),
            "msg": msg}
