"""``triage``: apply the procedures' decision matrix to the health reports of every host (controller only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from collections.abc import Mapping

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.triage import TriagePolicy, assess, merge_reports


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


class Triage(Module):
    """Severity, response and next playbooks from the hosts' health reports."""

    name = "triage"
    collection = None
    description = ("Apply the Titan incident decision matrix to the health reports (the `fact` variable) of "
                   "`hosts`. A host without a report (unreachable, or its checks failed) counts every service "
                   "its `services_var` inventory variable lists as down. Returns `severity` (null: no incident), "
                   "`response_time`, `response_team`, `findings`, `playbooks` and the merged `facts`.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "hosts": {"type": "array", "items": {"type": "string"},
                      "description": "The hosts whose reports count (default: every inventory host)."},
            "fact": {"type": "string", "default": "titan_health",
                     "description": "The per-host variable holding the health report."},
            "services_var": {"type": "string", "default": "titan_services",
                             "description": "The inventory variable listing the services a host runs."},
            "scavenger_equity_threshold": {"type": "number", "default": 5000,
                                           "description": "Scavenger down: severity 2 below this equity, 3 at "
                                                          "or above it."},
            "latency_high_ms": {"type": "number", "default": 500,
                                "description": "Signal latency over this: severity 2."},
            "latency_degraded_ms": {"type": "number", "default": 200,
                                    "description": "Signal latency from this to `latency_high_ms`: severity 3."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        hostvars = host.variables["hostvars"]
        names = args.get("hosts") or list(host.variables["groups"].get("all", []))
        fact = args.get("fact", "titan_health")
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
            services = _services_of(variables, args.get("services_var", "titan_services"), name)
            if services:
                silent.append(name)
                reports.append({"services": dict.fromkeys(services, False)})
        if not reports:
            return Decision(False, {"msg": f"no health report ('{fact}') and no services listed "
                                           f"for any of: {', '.join(names) or 'no hosts'}"}, failed=True)
        policy = TriagePolicy(float(args.get("scavenger_equity_threshold", 5000)),
                              float(args.get("latency_high_ms", 500)), float(args.get("latency_degraded_ms", 200)))
        facts = merge_reports(reports)
        assessment = assess(facts, policy)
        return Decision(False, {**assessment.to_dict(), "facts": asdict(facts), "policy": asdict(policy),
                                "hosts_without_report": silent})
