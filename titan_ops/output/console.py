"""The console renderer: Ansible's task lines and PLAY RECAP, from events."""

from __future__ import annotations

import difflib
import json
import re
import sys
from typing import Any, TextIO

from titan_ops import modules
from titan_ops.engine import events
from titan_ops.engine.results import RunResult, Status, TaskResult

_WIDTH = 80
_QUIET_KEYS = ("stdout", "stderr", "stdout_lines", "stderr_lines", "cmd", "start", "end", "delta", "rc",
               "invocation", "ansible_facts", "changed", "failed", "exception", "skip_reason", "false_condition",
               "skipped", "warnings")  # (warnings show as [WARNING] lines)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Characters a terminal acts on (all but tab and newline): a host's text shows them escaped, so that it
cannot move the cursor, rewrite a line already printed or set the window's title."""
_COLORS = {"ok": "32", "changed": "33", "skipping": "36", "fatal": "31", "ignoring": "36", "recap_bad": "31",
           "warning": "35"}


def banner(message: str) -> str:
    """``TASK [name] ****`` padded with stars to 80 columns, as Ansible draws it."""
    return f"{message} {'*' * max(3, _WIDTH - 1 - len(message))}"


def printable(text: str) -> str:
    """``text`` with the characters a terminal acts on shown as ``\\xNN`` (tab and newline kept)."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def recap_line(host: str, stats: Any) -> str:
    """One PLAY RECAP line in Ansible's exact form."""
    counters = " ".join(f"{name}={str(getattr(stats, name)):<4}" for name in
                        ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"))
    return f"{host:<26} : {counters}"


def _removal(deprecation: dict[str, Any]) -> str:
    """When and where a deprecated feature goes, in ansible-playbook's words."""
    resolved = (deprecation.get("deprecator") or {}).get("resolved_name", "")
    module, collection = resolved.rsplit(".", 1)[-1], deprecation.get("collection_name")
    where = f" from module '{module}'" + (f" in collection '{collection}'" if collection else "") if module else ""
    if deprecation.get("version"):
        return f" This feature will be removed{where} version {deprecation['version']}."
    if deprecation.get("date"):
        return f" This feature will be removed{where} in a release after {deprecation['date']}."
    return ""


def _listed(result: dict[str, Any], key: str) -> list[Any]:
    """The list a module's result holds under ``key`` (nothing when it holds something else)."""
    value = result.get(key)
    return value if isinstance(value, list) else []


def _json(value: Any) -> str:
    """A result on one line, as Ansible prints it: without the ``failed`` flag its banner already says,
    nor the ``exception`` placeholder."""
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if key not in ("failed", "exception")}
    return json.dumps(value, sort_keys=True, default=str)


def _one_line(value: Any) -> str:
    """``value`` as indented JSON with its line breaks taken out (ansible's custom stats lines)."""
    return json.dumps(value, indent=1, sort_keys=True, default=str).replace("\n", "")


class ConsoleRenderer:
    """Prints what Ansible's default callback prints; ``-v`` adds results."""

    def __init__(self, stream: TextIO | None = None, verbosity: int = 0, color: bool | None = None,
                 show_custom_stats: bool = False):
        self.stream = stream or sys.stdout
        self.verbosity = verbosity
        self.show_custom_stats = show_custom_stats
        """Print ``set_stats``'s stats after the recap (ansible's ``show_custom_stats``)."""
        self.color = self.stream.isatty() if color is None else color

    def __call__(self, event: events.Event) -> None:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
            self.stream.flush()

    def _write(self, text: str = "", kind: str | None = None) -> None:
        """One line, its control characters escaped, in the colour of ``kind`` on a terminal."""
        text = printable(text)
        if kind is not None and self.color:
            text = f"\033[{_COLORS[kind]}m{text}\033[0m"
        self.stream.write(text + "\n")

    def _on_PlayStarted(self, event: events.PlayStarted) -> None:
        self._write()
        self._write(banner(f"PLAY [{event.name}]"))

    def _on_NoHostsMatched(self, event: events.NoHostsMatched) -> None:
        self._write("skipping: no hosts matched")

    def _on_TaskStarted(self, event: events.TaskStarted) -> None:
        self._write()
        self._write(banner(f"{'RUNNING HANDLER' if event.handler else 'TASK'} [{event.name}]"))
        if self.verbosity >= 2:
            self._write(f"task path: {event.location}")

    def _on_TaskProgress(self, event: events.TaskProgress) -> None:
        self._write(f"  ... {event.name}: {event.done}/{event.total} hosts done after {event.elapsed:.0f}s")

    def _on_Included(self, event: events.Included) -> None:
        item = "" if event.label is None else f" => (item={event.label})"
        self._write(f"included: {event.path} for {', '.join(event.hosts)}{item}")

    def _on_HostTaskDone(self, event: events.HostTaskDone) -> None:
        result = event.result
        if result.module in ("include_tasks", "include_role") and result.status is Status.OK:
            return
        for diff in result.diff:
            self._write_diff(diff)
        self._write_warnings(result.result)
        for item in result.result.get("results", []) if isinstance(result.result.get("results"), list) else []:
            self._write(*self._item_line(result, item))
        self._write(*self._host_line(result))
        if result.ignored:
            self._write("...ignoring", "ignoring")

    def _write_warnings(self, result: dict[str, Any]) -> None:
        """The warnings and deprecations a module returned (a custom module's), as ansible-playbook shows them."""
        for warning in _listed(result, "warnings"):
            self._write(f"[WARNING]: {warning}", "warning")
        for entry in _listed(result, "deprecations"):
            if isinstance(entry, dict) and entry.get("msg"):
                self._write(f"[DEPRECATION WARNING]: {entry['msg']}{_removal(entry)}", "warning")

    def _item_line(self, result: TaskResult, item: dict[str, Any]) -> tuple[str, str]:
        label = item.get("_ansible_item_label", item.get(item.get("ansible_loop_var", "item")))
        if item.get("failed"):
            return f"failed: [{result.host}] (item={label}) => {_json(item)}", "fatal"
        if item.get("skipped"):
            return f"skipping: [{result.host}] (item={label})", "skipping"
        word = "changed" if item.get("changed") else "ok"
        return f"{word}: [{result.host}] (item={label})", word

    def _write_diff(self, diff: dict[str, Any]) -> None:
        if "prepared" in diff:  # a module's own account of the change (apt's), shown as it is
            self._write(str(diff["prepared"]))
            return
        before, after = diff.get("before", ""), diff.get("after", "")
        before_header = diff.get("before_header", "before")
        after_header = diff.get("after_header", "after")
        if isinstance(before, dict) or isinstance(after, dict):
            before = json.dumps(before, indent=4, sort_keys=True) + "\n"
            after = json.dumps(after, indent=4, sort_keys=True) + "\n"
        lines = difflib.unified_diff(str(before).splitlines(keepends=True), str(after).splitlines(keepends=True),
                                     fromfile=f"before: {before_header}", tofile=f"after: {after_header}")
        for line in lines:
            self._write(line.removesuffix("\n"))

    def _host_line(self, result: TaskResult) -> tuple[str, str]:
        host = f"[{result.host}]"
        if result.status is Status.UNREACHABLE:
            return f"fatal: {host}: UNREACHABLE! => {_json(result.result)}", "fatal"
        if result.status is Status.FAILED:
            return f"fatal: {host}: FAILED! => {_json(result.result)}", "fatal"
        if result.status is Status.SKIPPED:
            suffix = f" => {_json(result.result)}" if self.verbosity else ""
            return f"skipping: {host}{suffix}", "skipping"
        word = "changed" if result.status is Status.CHANGED else "ok"
        shown = self._shown_fields(result)
        suffix = f" => {json.dumps(shown, indent=4, sort_keys=True, default=str)}" if shown else ""
        if self.verbosity and not modules.shows_result(result.module):
            suffix = f" => {_json(result.result)}"
        return f"{word}: {host}{suffix}", word

    def _shown_fields(self, result: TaskResult) -> dict[str, Any]:
        if not modules.shows_result(result.module):
            return {}
        return {key: value for key, value in result.result.items() if key not in _QUIET_KEYS}

    def _on_RunDone(self, event: events.RunDone) -> None:
        if event.result.error:
            self._write(f"ERROR! {event.result.error}")
        self._write_recap(event.result)

    def _write_custom_stats(self, result: RunResult) -> None:
        """``CUSTOM STATS``: each host's stats, then the run's, each on one line as ansible-playbook shows them."""
        self._write()
        self._write(banner("CUSTOM STATS:"))
        for host, stats in sorted(result.custom_stats.items()):
            self._write(f"\t{host}: {_one_line(stats)}")
        if result.global_custom_stats:
            self._write()
            self._write(f"\tRUN: {_one_line(result.global_custom_stats)}")
        self._write()

    def _write_recap(self, result: RunResult) -> None:
        self._write()
        self._write(banner("PLAY RECAP"))
        for host, stats in sorted(result.stats.items()):
            self._write(recap_line(host, stats))
        self._write()
        if self.show_custom_stats and (result.custom_stats or result.global_custom_stats):
            self._write_custom_stats(result)
        if result.interrupted:
            self._write("Interrupted: no new task was started; what was running on the hosts was ended.")
        if result.end is not None:
            seconds = (result.end - result.start).total_seconds()
            tasks = sum(len(results) for play in result.plays for results in play.tasks.values())
            self._write(f"titan-ops: {len(result.stats)} hosts, {tasks} host-tasks in {seconds:.2f}s")
