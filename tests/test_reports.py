"""The JSON and JUnit reports of a run with every outcome: ok, changed, failed, ignored, skipped, unreachable."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

import titan_ops
from titan_ops.output.json_output import JsonWriter
from titan_ops.output.junit import JUnitWriter

PLAYBOOK = """
- name: report play
  hosts: all
  gather_facts: false
  tasks:
    - name: look
      command: echo looked
    - name: break lab2
      fail: {msg: "lab2 broke <&> \\u001b[31m"}
      when: inventory_hostname == 'lab2'
    - name: ignored failure
      command: /bin/false
      when: inventory_hostname == 'lab3'
      ignore_errors: true
    - name: say hi
      debug: {msg: hi}
- name: second play
  hosts: lab1
  gather_facts: false
  tasks:
    - name: again
      debug: {msg: again}
"""

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
OUTCOMES = ("failure", "error", "skipped")


def _inventory_with_a_dead_host(lab, tmp_path: Path) -> Path:
    data = yaml.safe_load(Path(lab.inventory_path).read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    ghost = dict(data["all"]["children"]["lab"]["hosts"]["lab1"], ansible_port=dead_port)
    data["all"]["hosts"] = {"ghost": ghost}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def check_junit_shape(root: ET.Element) -> None:
    """What the JUnit XSD (Ant's report, as Jenkins and GitLab read it) asks of the document."""
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        for attribute in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id"):
            assert attribute in suite.attrib, attribute
        assert DATETIME.match(suite.get("timestamp"))
        float(suite.get("time"))
        cases = list(suite)
        assert all(case.tag == "testcase" for case in cases)
        counted = dict.fromkeys(OUTCOMES, 0)
        for case in cases:
            assert case.get("name") and case.get("classname") and float(case.get("time")) >= 0
            tags = [child.tag for child in case]
            outcome = [tag for tag in tags if tag in OUTCOMES]
            assert len(outcome) <= 1 and tags == outcome + [t for t in ("system-out", "system-err") if t in tags]
            for tag in outcome:
                counted[tag] += 1
                if tag != "skipped":
                    assert case.find(tag).get("message") and case.find(tag).get("type")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == counted["failure"]
        assert int(suite.get("errors")) == counted["error"]
        assert int(suite.get("skipped")) == counted["skipped"]
        for key, value in (("tests", len(cases)), ("failures", counted["failure"]), ("errors", counted["error"]),
                           ("skipped", counted["skipped"])):
            totals[key] += value
    assert {key: int(root.get(key)) for key in totals} == totals


def test_json_and_junit_reports(lab, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    json_path, junit_path = tmp_path / "out" / "run.json", tmp_path / "out" / "junit.xml"
    result = titan_ops.run(playbook, _inventory_with_a_dead_host(lab, tmp_path), connect_timeout=5,
                           subscribers=[JsonWriter(json_path), JUnitWriter(junit_path)])
    assert result.exit_code == 4 and result.unreachable_hosts == ["ghost"]  # unreachable and failed hosts: 4, as ansible

    written = json.loads(json_path.read_text())
    assert written == json.loads(json.dumps(result.to_dict(), default=str))
    assert written["stats"]["lab3"]["ignored"] == 1 and written["failed_hosts"] == ["lab2"]

    root = ET.parse(junit_path).getroot()
    check_junit_shape(root)
    first, second = root.findall("testsuite")
    assert first.get("name") == "report play" and second.get("name") == "second play"
    cases = {(case.get("classname"), case.get("name")): case for case in first}
    assert len(cases) == len(list(first)) == 11  # lab1 4, lab2 2, lab3 4, ghost 1
    assert cases[("report play/lab1", "look")].find("system-out").text.startswith("changed")
    failure = cases[("report play/lab2", "break lab2")].find("failure")
    assert failure.get("message") == "lab2 broke <&> \\x1b[31m"
    unreachable = cases[("report play/ghost", "look")].find("error")
    assert unreachable.get("type") == "unreachable" and unreachable.get("message")
    assert cases[("report play/lab1", "break lab2")].find("skipped").get("message") == "Conditional result was False"
    ignored = cases[("report play/lab3", "ignored failure")]
    assert ignored.find("failure") is None and "ignored failed: non-zero return code" in ignored.find("system-out").text
    assert [case.get("name") for case in second] == ["again"]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("12", "1", "1", "3")


def test_cli_writes_both_reports(lab, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    json_path, junit_path = tmp_path / "run.json", tmp_path / "junit.xml"
    done = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i",
                           str(_inventory_with_a_dead_host(lab, tmp_path)), "--output-json", str(json_path),
                           "--junit", str(junit_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stdout + done.stderr
    assert json.loads(json_path.read_text())["unreachable_hosts"] == ["ghost"]
    root = ET.parse(junit_path).getroot()
    check_junit_shape(root)
    assert root.get("tests") == "12"
