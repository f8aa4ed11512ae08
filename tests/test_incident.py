"""The incident record: timeline entries from API and CLI runs, evidence bundles, the report; no secret leaks."""

from __future__ import annotations

import json
import tarfile
import textwrap
from pathlib import Path

import pytest

import titan_ops
from tests.forked_cli import run_cli
from titan_ops.errors import TitanOpsError
from titan_ops.incident import Timeline, render_report
from titan_ops.incident.timeline import DamagedLine

SECRET_VAR = "pw-Inventory-7731"
SECRET_EXTRA = "xv-Extra-2290"
SECRET_ENV = "env-Token-5514"

PLAYBOOK = """
- name: collect on the controller
  hosts: localhost
  gather_facts: false
  vars:
    db_password: "{secret_var}"
    diagnostics:
      - {{name: identity, cmd: "uname -n"}}
      - {{name: sar, cmd: "titan-no-such-tool -A"}}
      - {{name: chatty, cmd: "echo db={secret_var} env=$TITAN_API_TOKEN extra={secret_extra}"}}
  tasks:
    - name: run the diagnostics
      shell: "{{{{ item.cmd }}}}"
      loop: "{{{{ diagnostics }}}}"
      loop_control: {{label: "{{{{ item.name }}}}"}}
      register: diagnostic
      failed_when: false
      changed_when: false
      check_mode: false
    - name: write the evidence bundle
      evidence:
        dest: "{{{{ incident_dir }}}}/{{{{ incident_id }}}}"
        results: "{{{{ diagnostic.results }}}}"
"""


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    path = tmp_path / "collect.yml"
    path.write_text(textwrap.dedent(PLAYBOOK.format(secret_var=SECRET_VAR, secret_extra=SECRET_EXTRA)))
    return path


@pytest.fixture(autouse=True)
def operator_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TITAN_OPERATOR", "alice")
    monkeypatch.setenv("TITAN_API_TOKEN", SECRET_ENV)


def all_text(folder: Path) -> str:
    """Every file under ``folder`` (tarballs unpacked) as one string."""
    texts = []
    for path in folder.rglob("*"):
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                texts += [archive.extractfile(member).read().decode() for member in archive if member.isfile()]
        elif path.is_file():
            texts.append(path.read_text())
    return "\n".join(texts)


def test_api_run_appends_a_redacted_entry_with_outcome_and_evidence(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    result = titan_ops.run(playbook, None, extra_vars={"api_key": SECRET_EXTRA, "operator_id": "ops-1"},
                           incident="INC-7", incident_dir=incidents)
    assert result.ok
    [entry] = Timeline("INC-7", incidents).entries()
    assert entry["kind"] == "run" and entry["operator"] == "alice"
    assert entry["playbook"] == str(playbook) and entry["hosts"] == ["localhost"]
    assert entry["arguments"]["extra_vars"] == {"api_key": "********", "operator_id": "ops-1"}
    assert entry["arguments"]["check"] is False
    assert entry["outcome"]["exit_code"] == 0 and entry["outcome"]["stats"]["localhost"]["changed"] == 1
    [bundle] = entry["evidence"]
    data = Path(bundle["path"]).read_bytes()
    assert bundle["size"] == len(data) and len(bundle["sha256"]) == 64
    assert Path(bundle["path"]).parent == incidents / "INC-7"


def test_evidence_manifest_records_every_diagnostic_and_missing_tools(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    titan_ops.run(playbook, None, incident="INC-8", incident_dir=incidents)
    folder = incidents / "INC-8" / "localhost"
    manifest = json.loads((folder / "manifest.json").read_text())
    entries = {entry["name"]: entry for entry in manifest["diagnostics"]}
    assert set(entries) == {"identity", "sar", "chatty"}
    assert entries["identity"]["exit_code"] == 0 and entries["identity"]["command"] == "uname -n"
    assert entries["sar"]["exit_code"] == 127 and entries["sar"]["missing"] is True
    for entry in entries.values():
        content = (folder / entry["file"]).read_bytes()
        assert entry["size"] == len(content)
        import hashlib
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["start"] <= entry["end"]
    [bundle] = sorted((incidents / "INC-8").glob("localhost-*.tar.gz"))
    with tarfile.open(bundle) as archive:
        assert {"localhost/manifest.json", "localhost/identity.txt", "localhost/sar.stderr.txt"} <= \
            set(archive.getnames())


def test_no_secret_in_bundles_timeline_or_report(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    titan_ops.run(playbook, None, extra_vars={"api_key": SECRET_EXTRA}, incident="INC-9", incident_dir=incidents)
    text = all_text(incidents) + render_report("INC-9", Timeline("INC-9", incidents).entries())
    assert "db=********" in text
    for secret in (SECRET_VAR, SECRET_EXTRA, SECRET_ENV):
        assert secret not in text


def test_a_second_collection_keeps_the_first(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    for _ in range(2):
        titan_ops.run(playbook, None, incident="INC-10", incident_dir=incidents)
    folder = incidents / "INC-10"
    assert len(list(folder.glob("localhost-*.tar.gz"))) == 2
    assert (folder / "localhost" / "manifest.json").exists()
    assert len(list(folder.glob("localhost@*"))) == 1
    assert len(Timeline("INC-10", incidents).entries()) == 2


def test_check_mode_writes_no_evidence_but_is_recorded(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    result = titan_ops.run(playbook, None, check=True, incident="INC-11", incident_dir=incidents)
    assert result.ok
    assert sorted(path.name for path in (incidents / "INC-11").iterdir()) == ["timeline.jsonl"]
    [entry] = Timeline("INC-11", incidents).entries()
    assert entry["arguments"]["check"] is True and entry["evidence"] == []


def test_cli_run_and_report(playbook, tmp_path):
    incidents = tmp_path / "incidents"
    done = run_cli(["run", playbook, "--incident", "INC-12", "--incident-dir", incidents, "-e",
                    f"api_token={SECRET_EXTRA}"])
    assert done.returncode == 0, done.stdout + done.stderr
    failing = tmp_path / "failing.yml"
    failing.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                       "    - name: the restart fails\n      command: /bin/false\n")
    done = run_cli(["run", failing, "--incident", "INC-12", "--incident-dir", incidents])
    assert done.returncode == 2
    report = run_cli(["incident", "report", "INC-12", "--dir", incidents])
    assert report.returncode == 0, report.stderr
    text = report.stdout
    for heading in ("# Post-incident report: INC-12", "## Summary", "## Timeline", "## Impact", "## Actions taken",
                    "## Evidence", "## Root cause", "## Follow-ups", "## Lessons learned"):
        assert heading in text
    assert "| Operators | alice |" in text
    assert "2 (1 succeeded, 1 failed, 0 in check mode)" in text
    assert f"run `{failing}`" in text and "FAILED (exit 2)" in text
    assert "failed on localhost: the restart fails: non-zero return code" in text
    assert ".tar.gz` |" in text
    assert SECRET_EXTRA not in text and SECRET_ENV not in text
    written = tmp_path / "report.md"
    assert run_cli(["incident", "report", "INC-12", "--dir", incidents, "-o", written]).returncode == 0
    assert written.read_text() == text
    missing = run_cli(["incident", "report", "INC-404", "--dir", incidents])
    assert missing.returncode == 5 and "no timeline" in missing.stderr


def test_timeline_rejects_unsafe_ids_and_skips_bad_lines(tmp_path):
    for bad in ("../etc", "a/b", "", "."):
        with pytest.raises(TitanOpsError):
            Timeline(bad, tmp_path)
    timeline = Timeline("INC-1", tmp_path)
    timeline.append({"kind": "run", "timestamp": "2024-01-01T00:00:00+00:00", "operator": "bob"})
    with open(timeline.path, "a") as handle:
        handle.write("{not json\n")
    with pytest.warns(DamagedLine, match="timeline.jsonl:2:2: a damaged line"):
        assert [entry["operator"] for entry in timeline.entries()] == ["bob"]


def test_a_run_reading_a_damaged_timeline_names_the_line_once_in_one_line(tmp_path):
    """Readers other than the incident commands (a runbook's incident_steps, the watcher) skip a damaged line
    and say so in one line, as titan-ops says things, not as a Python warning with its source line."""
    timeline = Timeline("INC-7", tmp_path / "incidents")
    timeline.append({"kind": "open", "timestamp": "2024-01-01T00:00:00+00:00", "operator": "bob"})
    with open(timeline.path, "a") as handle:
        handle.write('{"kind": cut\n')
    playbook = tmp_path / "steps.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        + "    - incident_steps: {incident_id: INC-7}\n" * 2)
    done = run_cli(["run", playbook, "--incident", "INC-7", "--incident-dir", tmp_path / "incidents"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == f"[WARNING]: {timeline.path}:2:10: a damaged line (Expecting value), skipped\n"


def test_report_of_triage_and_drill_entries():
    entries = [
        {"kind": "triage", "timestamp": "2024-05-01T03:00:00+00:00", "operator": "carol", "severity": 2,
         "response_time": "15 minutes", "response_team": "On-call engineer + Operations manager",
         "findings": [{"severity": 2, "reason": "console down (no monitoring)"}], "playbooks": []},
        {"kind": "triage", "timestamp": "2024-05-01T03:05:00+00:00", "operator": "carol", "severity": 1,
         "response_time": "Immediate", "response_team": "everyone", "findings": [], "playbooks": []},
        {"kind": "drill", "timestamp": "2024-05-01T04:10:30+00:00", "operator": "ci", "drill": "db loss",
         "passed": True, "budget": 120, "time_to_recover": 42.5,
         "phases": [{"name": "db-recovery.yml", "status": "passed", "duration": 30.0}]},
    ]
    text = render_report("INC-3", entries)
    assert "| Severity (highest triaged) | 1 (response: Immediate; team: everyone) |" in text
    assert "| Elapsed | 1h 10m 30s |" in text
    assert "### Drill `db loss`: passed" in text and "time to recover: 42.5s (budget 120s)" in text
    assert "No evidence bundle was collected." in text
