"""wait_for on the lab hosts: ports opened and closed later, files that appear, vanish or gain a line."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import titan_ops
from titan_ops.engine.results import Status

# Listens on the port after a second, holds one connection to itself until 3 s
# (closed with RST, so no TIME_WAIT is left), stops listening at 4 s.
LISTENER = """
import socket, struct, sys, time
port = int(sys.argv[1])
time.sleep(1)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen()
client = socket.create_connection(("127.0.0.1", port))
accepted, _ = server.accept()
time.sleep(2)
client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
client.close()
accepted.close()
time.sleep(1)
server.close()
time.sleep(60)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "play.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_port_started_drained_stopped(lab, tmp_path):
    port = _free_port()
    playbook = _write(tmp_path, f"""
        - hosts: lab1
          gather_facts: false
          tasks:
            - name: open later
              wait_for: {{port: {port}, timeout: 20, sleep: 0.2}}
            - name: drained
              wait_for: {{port: {port}, state: drained, timeout: 20, sleep: 0.2}}
            - name: stopped
              wait_for: {{port: {port}, host: localhost, state: stopped, timeout: 20, sleep: 0.2}}
            - name: never opens
              wait_for: {{port: {port}, timeout: 1, sleep: 0.2}}
              ignore_errors: true
        """)
    listener = subprocess.Popen([sys.executable, "-c", LISTENER, str(port)])
    try:
        result = titan_ops.run(playbook, lab.inventory_path)
    finally:
        listener.kill()
        listener.wait()
    started, drained, stopped, never = result.host_results("lab1")
    assert started.status is Status.OK, started.result
    assert started.result["port"] == port and started.result["state"] == "started"
    assert started.result["path"] is None and isinstance(started.result["elapsed"], int)
    assert drained.status is Status.OK, drained.result
    assert stopped.status is Status.OK, stopped.result
    assert never.status is Status.FAILED and never.ignored
    assert never.msg == f"Timeout when waiting for 127.0.0.1:{port}"
    assert never.result["elapsed"] >= 1


def _later(seconds: float, action) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_files_on_each_host_are_its_own(lab, tmp_path):
    folder = f"/tmp/wait-for-{uuid.uuid4().hex[:8]}"
    backing = {host: lab.host_path(host, folder) for host in ("lab1", "lab2", "lab3")}
    for path in backing.values():
        path.mkdir(parents=True)
    (backing["lab3"] / "lock").write_text("busy\n")
    (backing["lab2"] / "app.log").write_text("starting\n")

    def appear() -> None:
        (backing["lab2"] / "ready").write_text("yes\n")
        with open(backing["lab2"] / "app.log", "a") as log:
            log.write("listening on port 8125 (worker alpha)\n")
        (backing["lab3"] / "lock").unlink()

    playbook = _write(tmp_path, f"""
        - hosts: lab
          gather_facts: false
          tasks:
            - name: ready file
              wait_for: {{path: {folder}/ready, timeout: 2, sleep: 0.2}}
              when: inventory_hostname != 'lab3'
              ignore_errors: true
            - name: log line
              wait_for:
                path: {folder}/app.log
                search_regex: 'listening on port (\\d+) \\(worker (?P<worker>\\w+)\\)'
                timeout: 15
                sleep: 0.2
              when: inventory_hostname == 'lab2'
            - name: lock gone
              wait_for: {{path: {folder}/lock, state: absent, timeout: 15, sleep: 0.2}}
              when: inventory_hostname == 'lab3'
            - name: own message
              wait_for: {{path: {folder}/never, timeout: 0, msg: "no never file on {{{{ inventory_hostname }}}}"}}
              when: inventory_hostname == 'lab1'
              ignore_errors: true
        """)
    thread = _later(0.8, appear)
    try:
        result = titan_ops.run(playbook, lab.inventory_path)
    finally:
        thread.join()
        for path in backing.values():
            shutil.rmtree(path, ignore_errors=True)
    lab1 = result.host_results("lab1")
    assert lab1[0].status is Status.FAILED and lab1[0].ignored
    assert lab1[0].msg == f"Timeout when waiting for file {folder}/ready"
    assert lab1[3].msg == "no never file on lab1"
    ready, line = result.host_results("lab2")[:2]
    assert ready.status is Status.OK, ready.result
    assert ready.result["state"] == "file" and ready.result["size"] == 4 and ready.result["mode"] == "0644"
    assert line.status is Status.OK, line.result
    assert line.result["match_groups"] == ["8125", "alpha"]
    assert line.result["match_groupdict"] == {"worker": "alpha"}
    assert result.host_results("lab3")[2].status is Status.OK


def test_timeout_on_a_missing_search_string_and_a_bad_regex(lab, tmp_path):
    folder = f"/tmp/wait-for-{uuid.uuid4().hex[:8]}"
    backing = lab.host_path("lab1", folder)
    backing.mkdir(parents=True)
    (backing / "app.log").write_text("nothing to see\n")
    playbook = _write(tmp_path, f"""
        - hosts: lab1
          gather_facts: false
          tasks:
            - wait_for: {{path: {folder}/app.log, search_regex: "ready", timeout: 1, sleep: 0.2}}
              ignore_errors: true
            - wait_for: {{path: {folder}/app.log, search_regex: "(unclosed", timeout: 1}}
              ignore_errors: true
        """)
    try:
        result = titan_ops.run(playbook, lab.inventory_path)
    finally:
        shutil.rmtree(backing, ignore_errors=True)
    missing, bad = result.host_results("lab1")
    assert missing.msg == f"Timeout when waiting for search string ready in {folder}/app.log"
    assert bad.status is Status.FAILED and "invalid search_regex" in bad.msg


def test_check_mode_skips_wait_for_like_ansible(lab, tmp_path):
    playbook = _write(tmp_path, """
        - hosts: lab1
          gather_facts: false
          tasks:
            - wait_for: {path: /tmp/does-not-exist, timeout: 60}
        """)
    result = titan_ops.run(playbook, lab.inventory_path, check=True)
    skipped = result.host_results("lab1")[0]
    assert skipped.status is Status.SKIPPED
    assert skipped.msg == "remote module (wait_for) does not support check mode"


def test_port_and_path_together_are_rejected_before_running(lab, tmp_path):
    playbook = _write(tmp_path, """
        - hosts: lab1
          gather_facts: false
          tasks:
            - wait_for: {path: /tmp/x, port: 22}
        """)
    try:
        titan_ops.run(playbook, lab.inventory_path)
    except titan_ops.TitanOpsError as error:
        assert "parameters are mutually exclusive: port|path" in str(error) and "play.yml:5:" in str(error)
    else:
        raise AssertionError("wait_for accepted both port and path")
