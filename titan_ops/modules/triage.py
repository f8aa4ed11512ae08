"""``triage``: apply the procedures' decision matrix to the health reports of every host (controller only)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.output.files import write_atomically
from titan_ops.triage import Baseline, TriagePolicy, assess, merge_reports, next_baseline


def _services_of(variables: Mapping[str, Any], name: str, host: str) -> list[str]:
    """The services ``host`` runs, from the inventory variable ``name``.

    The variable lists service names, or maps names (or holds dicts with a
    ``name``) to descriptions; a description with a ``host`` counts only
    for that host (as in ``titan_services``, one dict for the whole fleet).
    """
    listed = variables.get(name) or []
    entries = list(listed.items()) if isinstance(listed, Mapping) else \
        [(entry.get("name"), entry) if isinstance(entry, Mapping) else (entry, {}) for entry in listed]
    return [str(service) for service, description in entries
            if not isinstance(description, Mapping) or description.get("host", host) == host]


_POLICY_FIELDS = {item.name: item for item in fields(TriagePolicy)}
_POLICY_HELP = {
    "scavenger_equity_threshold": "Scavenger down: severity 2 below this equity, 3 at or above it.",
    "latency_high_ms": "Signal latency over this: severity 2.",
    "latency_degraded_ms": "Signal latency from this to `latency_high_ms`: severity 3.",
    "disk_warn_percent": "A host's disk use at or over this percentage: severity 4 (capacity).",
    "memory_warn_percent": "A host's memory use at or over this percentage: severity 4 (capacity).",
    "error_window_minutes": "The recent window of the error rate, in minutes.",
    "error_baseline_minutes": "The baseline window before it, in minutes.",
    "error_spike_factor": "An error spike: the recent rate at least this many times the baseline rate.",
    "error_min_count": "...and at least this many error lines in the recent window.",
    "restart_loop_count": "A pm2 app restarted this many times since the last check: restarting in a loop.",
    "app_memory_limit_mb": "A pm2 app using this many MB or more: memory leak.",
    "memory_growth_factor": "A pm2 app grown this many times its memory at start (and 64 MB): memory leak.",
    "row_loss_ratio": "A table with fewer rows than this share of its last known count: rows lost.",
}


def default_baseline_path() -> Path:
    """``$XDG_STATE_HOME/titan-ops/health-baseline.json`` (else ``~/.local/state/...``)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "titan-ops" / "health-baseline.json"


def read_baseline(path: Path) -> Baseline:
    """The last known values recorded at ``path`` (an empty baseline when there is none or it is unreadable)."""
    try:
        return Baseline.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, AttributeError):
        return Baseline()


class Triage(Module):
    """Severity, response and next playbooks from the hosts' health reports."""

    name = "triage"
    collection = None
    description = ("Apply the Titan incident decision matrix to the health reports (the `fact` variable) of "
                   "`hosts`, the hosts the run visited. A visited host without a report (unreachable, or its "
                   "checks failed) counts every service its `services_var` inventory variable lists as down; "
                   "the services of inventory hosts not in `hosts` are reported as not checked, never as down. "
                   "Row counts and pm2 restarts and memory are compared with the last known values in "
                   "`baseline` (updated after the assessment, except in check mode). Returns `severity` (null: "
                   "no incident), `response_time`, `response_team`, `findings`, `playbooks`, `unchecked` and "
                   "the merged `facts`.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "hosts": {"type": "array", "items": {"type": "string"},
                      "description": "The hosts the run visited, whose reports count (default: every inventory "
                                     "host)."},
            "fact": {"type": "string", "default": "titan_health",
                     "description": "The per-host variable holding the health report."},
            "services_var": {"type": "string", "default": "titan_services",
                             "description": "The inventory variable listing the services a host runs."},
            "baseline": {"type": "string",
                         "description": "The file of last known values (default, or empty: "
                                        "`$XDG_STATE_HOME/titan-ops/health-baseline.json`)."},
            **{name: {"type": "integer" if item.type == "int" else "number", "default": item.default,
                      "description": _POLICY_HELP[name]}
               for name, item in _POLICY_FIELDS.items()},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        hostvars = host.variables["hostvars"]
        everyone = list(host.variables["groups"].get("all", []))
        names = args.get("hosts") or everyone
        fact = args.get("fact", "titan_health")
        services_var = args.get("services_var", "titan_services")
        reports: list[Mapping[str, Any]] = []
        silent: list[str] = []
        unknown = [name for name in names if name not in hostvars and name != host.host]
        if unknown:
            return Decision(False, {"msg": f"unknown hosts: {', '.join(unknown)}"}, failed=True)
        for name in names:
            variables = hostvars[name] if name in hostvars else host.variables
            report = variables.get(fact)
            if isinstance(report, Mapping):
                reports.append(report)
                continue
            services = _services_of(variables, services_var, name)
            if services:
                silent.append(name)
                reports.append({"services": dict.fromkeys(services, False)})
        unchecked = {name: services for name in everyone if name not in names
                     for services in [_services_of(hostvars[name], services_var, name)] if services}
        if not reports:
            return Decision(False, {"msg": f"no health report ('{fact}') and no services listed "
                                           f"for any of: {', '.join(names) or 'no hosts'}"}, failed=True)
        policy = TriagePolicy(**{name: int(args[name]) if item.type == "int" else float(args[name])
                                 for name, item in _POLICY_FIELDS.items() if args.get(name) is not None})
        baseline_path = Path(args["baseline"]).expanduser() if args.get("baseline") else default_baseline_path()
        baseline = read_baseline(baseline_path)
        facts = merge_reports(reports, unchecked)
        assessment = assess(facts, policy, baseline)
        if not host.check_mode:
            write_atomically(baseline_path, json.dumps(next_baseline(facts, baseline, policy).to_dict(),
                                                       indent=2, sort_keys=True) + "\n")
        return Decision(False, {**assessment.to_dict(), "facts": asdict(facts), "policy": asdict(policy),
                                "baseline": baseline.to_dict(), "baseline_file": str(baseline_path),
                                "hosts_without_report": silent})
