"""``get_url`` on the local connection against an HTTP server the test starts (127.0.0.1), and against
ansible-core for the same tasks."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from titan_ops.connection import LocalConnection

from tests.local_oracle import play_ansible, play_titan, project
from tests.serving import served

KEYS = ("changed", "msg", "status_code", "response", "checksum_src", "checksum_dest", "md5sum", "mode", "size",
        "dest")
BODY = b"hello file\n"
STALLED = threading.Event()
"""Released when the test that asks for /stall is done with it."""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the served folder (/stall never answers: it holds its request until STALLED is set, when its client
    has given up); /private only with the header ``X-Token: t0ken`` and user ``u:s3cr3t-pw``
    (sent without being asked: the server never answers 401)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/stall":
            STALLED.wait(30)
            return  # (an answer to the closed connection: a BrokenPipeError's traceback on the suite's stderr)
        if self.path == "/private" and (self.headers.get("X-Token") != "t0ken"
                                        or self.headers.get("Authorization") != "Basic dTpzM2NyM3QtcHc="):
            self.send_error(403, "Forbidden")
            return
        if self.path == "/private":
            self.path = "/a.txt"
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path) -> Iterator[str]:
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "a.txt").write_bytes(BODY)
    handler = functools.partial(_Handler, directory=str(folder))
    with served(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as httpd:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"


def _playbook(url: str) -> str:
    sha1 = hashlib.sha1(BODY).hexdigest()
    return f"""
- hosts: all
  gather_facts: false
  tasks:
    - {{name: downloaded, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/a.txt", mode: "0640"}}}}
    - {{name: not modified, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/a.txt"}}}}
    - {{name: forced and the same, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/a.txt", force: true}}}}
    - {{name: into a folder, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/"}}}}
    - {{name: not found, get_url: {{url: "{url}/nope", dest: "{{{{ base }}}}/n"}}, ignore_errors: true}}
    - name: a wrong checksum
      get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/b", checksum: "sha1:00"}}
      ignore_errors: true
    - {{name: the checksum holds, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/a.txt", checksum: "sha1:{sha1}"}}}}
    - {{name: in check mode, get_url: {{url: "{url}/a.txt", dest: "{{{{ base }}}}/c"}}, check_mode: true}}
    - name: credentials only when asked
      get_url: {{url: "{url}/private", dest: "{{{{ base }}}}/q", headers: {{X-Token: t0ken}}, url_username: u,
                 url_password: s3cr3t-pw}}
      ignore_errors: true
    - name: with a header and credentials
      get_url: {{url: "{url}/private", dest: "{{{{ base }}}}/p", headers: {{X-Token: t0ken}}, url_username: u,
                 url_password: s3cr3t-pw, force_basic_auth: true}}
"""


def test_get_url_downloads_once(tmp_path, server):
    folder = tmp_path / "project"
    project(folder, _playbook(server))
    side = play_titan(folder, tmp_path / "base", KEYS)
    sha1, md5 = hashlib.sha1(BODY).hexdigest(), hashlib.md5(BODY).hexdigest()
    statuses = [(name, status) for name, status, _ in side.tasks]
    assert statuses == [("downloaded", "changed"), ("not modified", "ok"), ("forced and the same", "ok"),
                        ("into a folder", "ok"), ("not found", "failed"), ("a wrong checksum", "failed"),
                        ("the checksum holds", "ok"), ("in check mode", "changed"),
                        ("credentials only when asked", "failed"), ("with a header and credentials", "changed")]
    results = {name: result for name, _, result in side.tasks}
    assert results["downloaded"] == {"changed": True, "msg": "OK (11 bytes)", "status_code": 200,
                                     "checksum_src": sha1, "checksum_dest": None, "md5sum": md5, "mode": "0640",
                                     "size": 11, "dest": "BASE/a.txt"}
    assert results["not modified"]["msg"] == "HTTP Error 304: Not Modified"
    assert results["forced and the same"]["checksum_dest"] == sha1
    assert results["into a folder"]["dest"] == "BASE/a.txt"
    assert results["not found"]["response"] == "HTTP Error 404: File not found"
    assert results["a wrong checksum"]["msg"].endswith(f"did not match 00; it was {sha1}.")
    assert results["the checksum holds"]["msg"] == "file already exists"
    assert set(side.files) == {"a.txt", "p"} and side.files["p"][2] == BODY
    assert side.files["a.txt"][1] == "0o640"
    assert not list(Path("/tmp").glob("titan-ops-get_url.*")), "no temporary file left on the host"


def test_get_url_keeps_credentials_in_the_url_off_command_lines(tmp_path, server, monkeypatch):
    """The URL may hold the credentials: neither curl's command line nor its shell's names it."""
    bin_dir, seen = tmp_path / "bin", tmp_path / "command-lines"
    bin_dir.mkdir()
    curl = bin_dir / "curl"  # the real curl, its command line and its parent's written down first
    curl.write_text(f"#!/bin/sh\n{{ printf '%s\\n' \"$*\"; tr '\\0\\n' '  ' < /proc/$PPID/cmdline; echo; }} >> {seen}\n"
                    f'exec {shutil.which("curl")} "$@"\n')
    curl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    url = server.replace("http://", "http://u:s3cr3t-pw@") + "/private"
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                    f'    - {{get_url: {{url: "{url}", dest: "{{{{ base }}}}/p", headers: {{X-Token: t0ken}}, '
                    "force_basic_auth: true}}\n")
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [status for _, status, _ in side.tasks] == ["changed"] and side.files["p"][2] == BODY
    assert seen.read_text().count("/private") == 0 and "s3cr3t-pw" not in seen.read_text()
    assert seen.read_text().count("\n") == 2, "curl ran once, its command line written down"


def test_get_url_ended_by_its_timeout_leaves_no_temporary_file(tmp_path, server, monkeypatch):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                    f'    - {{get_url: {{url: "{server}/stall", dest: "{{{{ base }}}}/s"}}, timeout: 1}}\n')
    STALLED.clear()
    try:
        side = play_titan(folder, tmp_path / "base", KEYS)
    finally:
        STALLED.set()
    assert [status for _, status, _ in side.tasks] == ["failed"] and side.files == {}
    assert list(temporary.iterdir()) == [], "no temporary file left on the host"


def test_get_url_not_modified_reads_dest_once(tmp_path, server, monkeypatch):
    """A dest the server says is not modified: inspect's stat gives its attributes (no second look); the
    commands are inspect, the download and its temporary file's removal."""
    dest = tmp_path / "a.txt"
    for name, extra in (("first", ', mode: "0640"'), ("again", "")):
        project(tmp_path / name, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                                 f'    - {{get_url: {{url: "{server}/a.txt", dest: "{dest}"{extra}}}}}\n')
    play_titan(tmp_path / "first", tmp_path / "first-base", KEYS)
    commands: list[object] = []
    run = LocalConnection.run

    def counted(self, command, **options):
        commands.append(command)
        return run(self, command, **options)

    monkeypatch.setattr(LocalConnection, "run", counted)
    [(_, status, result)] = play_titan(tmp_path / "again", tmp_path / "again-base", KEYS).tasks
    assert (status, result["msg"], result["mode"], result["size"]) == ("ok", "HTTP Error 304: Not Modified", "0640",
                                                                       len(BODY))
    assert len(commands) == 3, commands


@pytest.mark.oracle
def test_get_url_as_ansible(tmp_path, server):
    folder = tmp_path / "project"
    project(folder, _playbook(server))
    ours, theirs = play_titan(folder, tmp_path / "t", KEYS), play_ansible(folder, tmp_path / "a", KEYS)
    assert _without_temp_paths(ours.tasks) == _without_temp_paths(theirs.tasks) and ours.files == theirs.files


def _without_temp_paths(tasks: list) -> list:
    """The tasks with the download's temporary path (each side's own) in a message written TMP."""
    return [(name, status, {**result, **({"msg": re.sub(r"checksum for \S+ did", "checksum for TMP did",
                                                       result["msg"])} if "msg" in result else {})})
            for name, status, result in tasks]
