"""``titan-ops incident ...``: the incident process, over ``titan_ops.incident``.

Every command appends to (or reads) ``<dir>/ID/timeline.jsonl``; the ones
that need the policy read ``--policy`` (default ``$TITAN_OPS_INCIDENT_POLICY``).
``--now`` sets the clock (an ISO time): what is due at that moment. Exit
codes: 0 ok, 2 something overdue (``check``) or a channel refused a message
(``notify``), 5 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

from titan_ops.errors import TitanOpsError

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "incident", help="the incident process: lifecycle, clock, messages, report, metrics",
        description="Incidents live in <dir>/ID/timeline.jsonl (dir: --dir, else $TITAN_OPS_INCIDENT_DIR, "
                    "else ./incidents). See docs/incidents.md.")
    actions = parser.add_subparsers(dest="incident_action", metavar="ACTION", required=True)

    def command(name: str, help_text: str, handler: Handler, *, incident: bool = True) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        if incident:
            sub.add_argument("incident_id", metavar="ID", help="the incident id")
        sub.add_argument("--dir", metavar="DIR", help="the incidents folder")
        sub.add_argument("--policy", metavar="FILE", help="the incident policy (default $TITAN_OPS_INCIDENT_POLICY)")
        sub.add_argument("--now", metavar="TIME", help="the clock: act as if it were TIME (ISO 8601)")
        sub.set_defaults(handler=lambda args: _guarded(handler, args))
        return sub

    opening = command("open", "open an incident", _open, incident=False)
    opening.add_argument("title", help="what is wrong, in a line")
    opening.add_argument("--id", dest="incident_id", metavar="ID", help="the id (default INC-YYYYMMDD-NNN)")
    opening.add_argument("--severity", type=int, choices=(1, 2, 3, 4), help="the severity, if known")
    opening.add_argument("--detected-at", metavar="TIME", help="when it was detected (default now)")
    opening.add_argument("--started-at", metavar="TIME", help="when the problem began, if known")
    opening.add_argument("--source", default="manual", help="how it was detected (alert, user report, ...)")
    opening.add_argument("--category", action="append", default=[], help="security, data-breach, position-tracking...")
    command("ack", "acknowledge the incident", _ack).add_argument("--at", metavar="TIME", help="when (default now)")
    status = command("status", "what is due and overdue now; with STATUS, set the status", _status)
    status.add_argument("new_status", nargs="?", metavar="STATUS",
                        help="INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED")
    status.add_argument("-m", "--message", default="", help="what changed")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    note = command("note", "a note, a decision with its rationale, or a manual action", _note)
    note.add_argument("text")
    note.add_argument("--type", default="note", choices=("note", "decision", "manual-action"))
    note.add_argument("--rationale", default="", help="why (for a decision)")
    note.add_argument("--at", metavar="TIME", help="when it happened (default now)")
    assign = command("assign", "assign a role: commander, technical, operations, communications", _assign)
    assign.add_argument("role", choices=("commander", "technical", "operations", "communications"))
    assign.add_argument("person")
    severity = command("severity", "change the severity", _severity)
    severity.add_argument("severity", type=int, choices=(1, 2, 3, 4))
    severity.add_argument("--reason", default="")
    impact = command("impact", "record the impact", _impact)
    impact.add_argument("--financial", type=float, metavar="AMOUNT", help="financial impact")
    impact.add_argument("--description", default="", help="the impact for people")
    impact.add_argument("--start", metavar="TIME", help="customer impact start")
    impact.add_argument("--end", metavar="TIME", help="customer impact end")
    impact.add_argument("--customers", type=int, metavar="N", help="customers affected")
    impact.add_argument("--category", action="append", default=[], help="add a category (security, ...)")
    escalate = command("escalate", "escalate now (default: the next level, if due)", _escalate)
    escalate.add_argument("--level", type=int, help="the level to go to")
    escalate.add_argument("--reason", default="")
    notify = command("notify", "render and send the audience's message through its channels", _notify)
    notify.add_argument("--audience", default="internal",
                        help="internal, external, ticket, escalation or regulatory (default internal)")
    notify.add_argument("--channel", action="append", default=[], help="only these channels")
    resolve = command("resolve", "mark the incident resolved", _resolve)
    resolve.add_argument("--summary", default="")
    resolve.add_argument("--at", metavar="TIME", help="when it was resolved (default now)")
    close = command("close", "close the incident", _close)
    close.add_argument("--false-positive", action="store_true", help="it was no incident")
    close.add_argument("--reason", default="")
    command("tick", "tick a checklist item by hand", _tick).add_argument("item", help="the item's text")
    action = command("action", "action items: add TEXT --owner O [--due DATE], or done N", _action)
    action.add_argument("verb", choices=("add", "done"))
    action.add_argument("what", help="the action's text (add) or number (done)")
    action.add_argument("--owner", default="")
    action.add_argument("--due", metavar="DATE", help="YYYY-MM-DD or an ISO time")
    cause = command("root-cause", "the five whys and a root-cause tag", _root_cause)
    cause.add_argument("--why", action="append", default=[], help="one why, in order (up to five)")
    cause.add_argument("--tag", help="a tag shared by incidents of the same root cause")
    review = command("review", "schedule or record the post-incident review", _review)
    review.add_argument("--held", action="store_true", help="the review took place")
    review.add_argument("--scheduled-for", metavar="TIME")
    regulatory = command("regulatory", "generate a regulatory notice, or record its submission", _regulatory)
    regulatory.add_argument("notice", help="initial, detailed or final (as the policy names them)")
    regulatory.add_argument("--submitted", action="store_true", help="record that it was submitted")
    regulatory.add_argument("--at", metavar="TIME", help="when it was submitted (default now)")
    check = command("check", "exit 2 when any open incident has an overdue duty (for cron)", _check, incident=False)
    check.add_argument("incident_ids", nargs="*", metavar="ID", help="only these incidents")
    check.add_argument("--json", action="store_true")
    report = command("report", "the post-incident report (Markdown; --html with the timeline chart)", _report)
    report.add_argument("-o", "--output", metavar="FILE", help="write the Markdown to FILE instead of stdout")
    report.add_argument("--html", metavar="FILE", help="also write the HTML report with the timeline chart")
    metrics = command("metrics", "response metrics across incidents", _metrics, incident=False)
    metrics.add_argument("--since", metavar="DATE", help="only incidents detected from DATE on")
    metrics.add_argument("--json", action="store_true", help="print JSON instead of a table")
    metrics.add_argument("--chart", metavar="FILE.png", help="write the monthly trend chart")
    command("list", "the incidents and their state", _list, incident=False)


def _guarded(handler: Handler, args: argparse.Namespace) -> int:
    """``handler``'s exit code, 5 with one error line for bad input; a damaged timeline line is named once, and the
    command's work on the rest done (exit code 5)."""
    from titan_ops.incident.timeline import DamagedLine

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DamagedLine)
            code = handler(args)
        for other in (warning for warning in caught if warning.category is not DamagedLine):
            warnings.showwarning(other.message, other.category, other.filename, other.lineno)
        damaged = dict.fromkeys(str(warning.message) for warning in caught if warning.category is DamagedLine)
        for message in damaged:
            print(f"ERROR! {message}", file=sys.stderr)
        return 5 if damaged else code
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    except ModuleNotFoundError as error:
        print(f"ERROR! the incident process needs {error.name}: pip install 'titan-ops[incident]'", file=sys.stderr)
        return 5


# -- helpers -------------------------------------------------------------------------
def _clock(args: argparse.Namespace) -> Any:
    from titan_ops.incident.clock import parse_time, system_clock

    if not args.now:
        return system_clock
    fixed = parse_time(args.now)
    return lambda: fixed


def _time(text: str | None, args: argparse.Namespace) -> Any:
    from titan_ops.incident.clock import parse_time

    if not text:
        return None
    policy = _policy(args, required=False)
    return parse_time(text, policy.timezone) if policy else parse_time(text)


def _policy(args: argparse.Namespace, required: bool = True) -> Any:
    from titan_ops.incident.policy import default_policy_path, load_policy

    path = args.policy or default_policy_path()
    if path is None:
        if required:
            raise TitanOpsError("no incident policy: give --policy FILE or set $TITAN_OPS_INCIDENT_POLICY")
        return None
    cached = getattr(args, "_loaded_policy", None)
    if cached is None:
        cached = load_policy(path)
        args._loaded_policy = cached
    return cached


def _incident(args: argparse.Namespace) -> Any:
    from titan_ops.incident.lifecycle import Incident

    return Incident(args.incident_id, args.dir, clock=_clock(args))


def _done(entry: dict[str, Any]) -> int:
    print(f"{entry['kind']} recorded at {entry['timestamp']}")
    return 0


# -- the lifecycle ---------------------------------------------------------------------
def _open(args: argparse.Namespace) -> int:
    from titan_ops.incident.lifecycle import Incident

    incident = Incident.create(args.title, args.dir, incident_id=args.incident_id, severity=args.severity,
                               detected_at=_time(args.detected_at, args), started_at=_time(args.started_at, args),
                               source=args.source, categories=args.category, clock=_clock(args))
    print(incident.incident_id)
    return 0


def _ack(args: argparse.Namespace) -> int:
    return _done(_incident(args).ack(_time(args.at, args)))


def _status(args: argparse.Namespace) -> int:
    from titan_ops.incident.status import status_data, status_table

    incident = _incident(args)
    if args.new_status:
        return _done(incident.set_status(args.new_status, args.message))
    data = status_data(incident.state(), _policy(args), incident.clock())
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.json else status_table(data))
    return 0


def _note(args: argparse.Namespace) -> int:
    return _done(_incident(args).note(args.text, args.type, args.rationale, _time(args.at, args)))


def _assign(args: argparse.Namespace) -> int:
    return _done(_incident(args).assign(args.role, args.person))


def _severity(args: argparse.Namespace) -> int:
    return _done(_incident(args).set_severity(args.severity, args.reason))


def _impact(args: argparse.Namespace) -> int:
    return _done(_incident(args).record_impact(
        financial_impact=args.financial, description=args.description, start=_time(args.start, args),
        end=_time(args.end, args), customers_affected=args.customers, categories=args.category))


def _escalate(args: argparse.Namespace) -> int:
    from titan_ops.incident.respond import escalate

    entry = escalate(_incident(args), _policy(args), args.level, args.reason)
    if entry is None:
        print("no escalation is due")
        return 0
    print(f"escalated to level {entry['level']}: {', '.join(entry['contacts']) or '-'} ({entry['reason']})")
    return 0


def _notify(args: argparse.Namespace) -> int:
    from titan_ops.incident.respond import notify

    return _delivered(notify(_incident(args), _policy(args), args.audience, args.channel or None))


def _delivered(entries: list[dict[str, Any]]) -> int:
    """Print each ``message`` entry's outcome; 2 when a channel refused its message."""
    messages = [entry for entry in entries if entry["kind"] == "message"]
    for entry in messages:
        print(f"{'sent' if entry['ok'] else 'REFUSED'}: {entry['channel']} ({entry['channel_type']})"
              + (f": {entry['error']}" if entry["error"] else ""))
    refused = [entry for entry in messages if not entry["ok"]]
    if refused:
        print(f"ERROR! {len(refused)} of {len(messages)} channels did not take the message "
              f"({refused[0]['channel']}: {refused[0]['error']})", file=sys.stderr)
        return 2
    return 0


def _resolve(args: argparse.Namespace) -> int:
    return _done(_incident(args).resolve(args.summary, _time(args.at, args)))


def _close(args: argparse.Namespace) -> int:
    return _done(_incident(args).close(args.false_positive, args.reason))


def _tick(args: argparse.Namespace) -> int:
    items = [item.item for item in _policy(args).checklists]
    return _done(_incident(args).tick(args.item, items))


def _action(args: argparse.Namespace) -> int:
    incident = _incident(args)
    if args.verb == "add":
        if args.due:
            _time(args.due if "T" in args.due else args.due + "T00:00:00", args)
        entry = incident.add_action(args.what, args.owner, args.due)
        print(f"action {entry['number']} added")
        return 0
    if not args.what.isdigit():
        raise TitanOpsError(f"action done takes the action's number, not {args.what!r}")
    return _done(incident.finish_action(int(args.what)))


def _root_cause(args: argparse.Namespace) -> int:
    return _done(_incident(args).root_cause(args.why, args.tag))


def _review(args: argparse.Namespace) -> int:
    return _done(_incident(args).review(held=args.held, scheduled_for=_time(args.scheduled_for, args)))


def _regulatory(args: argparse.Namespace) -> int:
    from titan_ops.incident.respond import regulatory_notice

    entry, *messages = regulatory_notice(_incident(args), _policy(args), args.notice, submitted=args.submitted,
                                         at=_time(args.at, args))
    print(entry.get("path") or f"{args.notice} notice submitted at {entry.get('at') or entry['timestamp']}")
    return _delivered(messages)


def _check(args: argparse.Namespace) -> int:
    from titan_ops.incident.clock import format_span
    from titan_ops.incident.duties import overdue
    from titan_ops.incident.lifecycle import Incident
    from titan_ops.incident.state import fold
    from titan_ops.incident.timeline import incident_ids

    policy = _policy(args)
    clock = _clock(args)
    now = clock()
    found: dict[str, list[dict[str, Any]]] = {}
    for incident_id in args.incident_ids or incident_ids(args.dir):
        state = fold(incident_id, Incident(incident_id, args.dir).entries())
        if state.opened is None or (state.closed is not None and not args.incident_ids):
            continue
        late = overdue(state, policy, now)
        if late:
            found[incident_id] = [duty.to_dict(now) for duty in late]
    if args.json:
        print(json.dumps(found, indent=2))
    for incident_id, late in found.items():
        for duty in late if not args.json else ():
            print(f"{incident_id}: OVERDUE {duty['kind']} {duty['subject']} "
                  f"(due {duty['due']}, {format_span(-duty['seconds_left'])} ago)")
    if not found and not args.json:
        print("nothing overdue")
    return 2 if found else 0


def _report(args: argparse.Namespace) -> int:
    from titan_ops.incident.report import render_html, render_report
    from titan_ops.output.files import write_atomically

    incident = _incident(args)
    entries = incident.entries()
    policy = _policy(args, required=False)
    now = incident.clock()
    text = render_report(args.incident_id, entries, policy, now)
    if args.html:
        write_atomically(args.html, render_html(args.incident_id, entries, policy, now))
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from titan_ops.incident.metrics import collect, metrics_table, trend_chart

    since = _time(args.since if not args.since or "T" in args.since else args.since + "T00:00:00", args)
    result = collect(args.dir, _policy(args), _clock(args)(), since)
    if args.chart:
        trend_chart(result, args.chart)
    sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n" if args.json else metrics_table(result))
    return 0


def _list(args: argparse.Namespace) -> int:
    from titan_ops.incident.lifecycle import Incident
    from titan_ops.incident.state import fold
    from titan_ops.incident.timeline import incident_ids

    for incident_id in incident_ids(args.dir):
        state = fold(incident_id, Incident(incident_id, args.dir).entries())
        opened = state.opened.isoformat(timespec="seconds") if state.opened else "-"
        print(f"{incident_id}  sev {state.severity or '-'}  {state.status:<13}  "
              f"{'closed' if state.closed else 'open'}  {opened}  {state.title}")
    return 0
