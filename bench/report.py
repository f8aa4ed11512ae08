"""Markdown for docs/performance.md from a results JSON: machine, versions, table, target verdicts.

    bench/.venv-bench/bin/python -m bench.report bench/results/latest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.__main__ import table


def render(document: dict) -> str:
    machine, versions = document["machine"], document["versions"]
    lines = [
        f"Run {document['date']}, `{document['command']}`, {document['repetitions']} repetitions "
        f"(ansible: `--slow-reps` in the command, else 3 and 1 from 50 hosts), "
        f"{document['seconds_total'] / 60:.0f} minutes in all.",
        "",
        f"- machine: {machine['cpus']} cores ({machine['cpu']}), {machine['memory_gb']} GB, {machine['os']}, "
        f"kernel {machine['kernel']}; load average before/after: "
        + "/".join(f"{value:.1f}" for value in document.get("load_average_before", [])[:1])
        + " / " + "/".join(f"{value:.1f}" for value in document.get("load_average_after", [])[:1]),
        "- versions: " + ", ".join(f"{name} {value}" for name, value in versions.items()),
        "",
        table(document["rows"]),
        "",
    ]
    for key, limit in document.get("skipped", {}).items():
        lines.append(f"- not run: {key.replace('@', ' at ')} hosts (`--skip-above`, above {limit} hosts)")
    for error in document.get("errors", []):
        lines.append(f"- failed run, left out of the medians: {error}")
    if document.get("cluster_overheads"):
        lines += [""] + [f"- {line}" for line in document["cluster_overheads"]]
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    for verdict in document.get("targets", []):
        lines.append(f"| {verdict['target']} | {'yes' if verdict['met'] else '**no**'} | {verdict['detail']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    print(render(json.loads(Path(argv[0]).read_text())), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
