"""The file modules on the real SSH lab: final state, idempotency, check mode, diff, backup,
validate, argument errors, and how many remote commands each costs."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import titan_ops
from titan_ops.connection import ConnectionOptions, ConnectionPool
from titan_ops.engine.executor import run_module
from titan_ops.engine.results import Status
from titan_ops.errors import PlaybookError
from titan_ops.modules import lookup
from titan_ops.modules.base import HostContext
from titan_ops.modules.files import modes
from titan_ops.modules.files.remote_file import RemoteFileError
from titan_ops.modules.files.writer import WritePlan, write, write_outcome, write_script
from titan_ops.templating import Templar

NOBODY, DAEMON = 65534, 1


@dataclass
class Area:
    """A fresh folder on lab1: its remote path and the controller path behind it."""

    remote: str
    local: Path

    def put(self, name: str, text: str, mode: int = 0o644) -> Path:
        path = self.local / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return path


@pytest.fixture
def area(lab, request) -> Area:
    remote = "/srv/titan/files-test/" + re.sub(r"\W", "_", request.node.name)
    local = lab.host_path("lab1", remote)
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    return Area(remote, local)


def playbook(directory: Path, tasks: str, hosts: str = "lab1", variables: str = "") -> Path:
    path = directory / "play.yml"
    path.write_text(f"- hosts: {hosts}\n  gather_facts: false\n{variables}  tasks:\n"
                    + textwrap.indent(textwrap.dedent(tasks), "    "))
    return path


def run(lab, path: Path, host: str = "lab1", **options: Any) -> list[titan_ops.TaskResult]:
    return titan_ops.run(path, lab.inventory_path, **options).host_results(host)


def statuses(results: list[titan_ops.TaskResult]) -> list[Status]:
    return [result.status for result in results]


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: content (or link target), mode, owner, group and mtime."""
    found = {}
    for path in sorted([root, *root.rglob("*")]):
        info = os.lstat(path)
        body = os.readlink(path) if path.is_symlink() else "dir" if path.is_dir() else path.read_bytes()
        found[str(path.relative_to(root))] = (body, info.st_mode, info.st_uid, info.st_gid, info.st_mtime_ns)
    return found


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o7777


# -- copy -------------------------------------------------------------------------

def test_copy_writes_mode_owner_and_backup_then_changes_nothing(lab, tmp_path, area):
    area.put("app.conf", "old\n", 0o600)
    play = playbook(tmp_path, f"""
        - ansible.builtin.copy:
            content: "new {{{{ inventory_hostname }}}}\\n"
            dest: {area.remote}/app.conf
            mode: u=rw,g=r
            owner: nobody
            group: daemon
            backup: true
    """)
    first = run(lab, play)[0]
    assert first.status is Status.CHANGED
    target = area.local / "app.conf"
    assert target.read_text() == "new lab1\n"
    assert (mode_of(target), target.stat().st_uid, target.stat().st_gid) == (0o640, NOBODY, DAEMON)
    backup = first.result["backup_file"]
    assert re.fullmatch(rf"{area.remote}/app\.conf\.\d+\.\d{{4}}-\d\d-\d\d@\d\d:\d\d:\d\d~", backup)
    kept = area.local / Path(backup).name
    assert kept.read_text() == "old\n" and mode_of(kept) == 0o600
    assert first.result["checksum"] == hashlib.sha1(b"new lab1\n").hexdigest()
    assert (first.result["dest"], first.result["mode"], first.result["owner"]) == (f"{area.remote}/app.conf",
                                                                                   "0640", "nobody")
    again = run(lab, play)[0]
    assert again.status is Status.OK and not again.changed
    assert sorted(path.name for path in area.local.iterdir()) == ["app.conf", Path(backup).name]


def test_copy_keeps_mode_and_owner_of_a_replaced_file(lab, tmp_path, area):
    target = area.put("secret", "one\n", 0o600)
    os.chown(target, NOBODY, DAEMON)
    run(lab, playbook(tmp_path, f'- copy: {{content: "two\\n", dest: {area.remote}/secret}}'))
    assert target.read_text() == "two\n"
    assert (mode_of(target), target.stat().st_uid, target.stat().st_gid) == (0o600, NOBODY, DAEMON)


def test_copy_sources_and_destinations(lab, tmp_path, area):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "static.txt").write_text("static\n")
    (tmp_path / "files" / "static.txt").chmod(0o750)
    (area.local / "into").mkdir()
    area.put("remote.src", "on the host\n")
    area.put("kept", "mine\n")
    area.put("real", "real\n")
    os.symlink("real", area.local / "link")
    results = run(lab, playbook(tmp_path, f"""
        - copy: {{src: static.txt, dest: {area.remote}/into}}
        - copy: {{src: static.txt, dest: {area.remote}/made/, mode: preserve}}
        - copy: {{src: {area.remote}/remote.src, dest: {area.remote}/remote.dst, remote_src: true, mode: '0600'}}
        - copy: {{content: {{a: [1, 2]}}, dest: {area.remote}/data.json}}
        - copy: {{content: replaced, dest: {area.remote}/kept, force: false}}
        - copy: {{content: "real\\n", dest: {area.remote}/link}}
    """))
    assert statuses(results) == [Status.CHANGED] * 4 + [Status.OK, Status.CHANGED]
    assert (area.local / "into" / "static.txt").read_text() == "static\n"
    assert mode_of(area.local / "made" / "static.txt") == 0o750
    assert (area.local / "remote.dst").read_text() == "on the host\n"
    assert mode_of(area.local / "remote.dst") == 0o600
    assert (area.local / "data.json").read_text() == '{"a": [1, 2]}'
    assert (area.local / "kept").read_text() == "mine\n"
    assert not (area.local / "link").is_symlink() and (area.local / "link").read_text() == "real\n"


def test_validate_failure_leaves_dest_untouched(lab, tmp_path, area):
    area.put("sudoers", "good\n", 0o440)
    before = snapshot(area.local)
    play = playbook(tmp_path, f"""
        - copy: {{content: "bad\\n", dest: {area.remote}/sudoers, validate: "grep -q good %s", backup: true}}
          ignore_errors: true
        - copy: {{content: "still good\\n", dest: {area.remote}/sudoers, validate: "grep -q good %s"}}
    """)
    refused, accepted = run(lab, play)
    assert refused.status is Status.FAILED and refused.result["msg"] == "failed to validate"
    assert refused.result["exit_status"] == 1 and not refused.changed
    assert accepted.status is Status.CHANGED
    assert (area.local / "sudoers").read_text() == "still good\n"
    assert mode_of(area.local / "sudoers") == 0o440
    assert sorted(before) == sorted(snapshot(area.local)), "no backup nor temp file left by the refused write"


def test_missing_folder_and_directory_dest_fail(lab, tmp_path, area):
    (area.local / "adir").mkdir()
    results = run(lab, playbook(tmp_path, f"""
        - copy: {{content: x, dest: {area.remote}/nowhere/x}}
          ignore_errors: true
        - copy: {{content: x, dest: {area.remote}/adir}}
          ignore_errors: true
        - copy: {{content: x, dest: {area.remote}/adir/}}
          ignore_errors: true
    """))
    assert statuses(results) == [Status.FAILED] * 3
    assert results[0].result["msg"] == f"Destination directory {area.remote}/nowhere does not exist"
    assert results[2].result["msg"] == "can not use content with a dir as dest"


# -- template -----------------------------------------------------------------------

def test_template_renders_each_hosts_variables(lab, tmp_path):
    remote = "/srv/titan/files-test/template"
    for host in ("lab1", "lab2", "lab3"):
        shutil.rmtree(lab.host_path(host, remote), ignore_errors=True)
        lab.host_path(host, remote).mkdir(parents=True)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "app.j2").write_text(
        "host={{ inventory_hostname }}\n{% for p in ports %}\nport={{ p }}\n{% endfor %}\nend\n")
    play = playbook(tmp_path, f"- template: {{src: app.j2, dest: {remote}/app.conf, mode: '0600'}}",
                    hosts="lab", variables="  vars: {ports: [1, 2]}\n")
    first = titan_ops.run(play, lab.inventory_path)
    for host in ("lab1", "lab2", "lab3"):
        rendered = lab.host_path(host, f"{remote}/app.conf")
        assert rendered.read_text() == f"host={host}\nport=1\nport=2\nend\n"
        assert mode_of(rendered) == 0o600
        assert first.stats[host].changed == 1
    again = titan_ops.run(play, lab.inventory_path)
    assert all(again.stats[host].changed == 0 for host in ("lab1", "lab2", "lab3"))


def test_template_with_an_undefined_variable_fails_naming_it(lab, tmp_path, area):
    (tmp_path / "bad.j2").write_text("x={{ nowhere_defined }}\n")
    result = run(lab, playbook(tmp_path, f"- template: {{src: bad.j2, dest: {area.remote}/x}}"))[0]
    assert result.status is Status.FAILED
    assert "nowhere_defined" in result.msg
    assert not (area.local / "x").exists()


# -- file ---------------------------------------------------------------------------

def test_file_states_then_nothing_to_do(lab, tmp_path, area):
    area.put("doomed/inner", "x\n")
    area.put("tree/a/f", "f\n", 0o600)
    area.put("target", "t\n")
    play = playbook(tmp_path, f"""
        - file: {{path: {area.remote}/d1/d2/d3, state: directory, mode: '0750', group: daemon}}
        - file: {{path: {area.remote}/stamp, state: touch, mode: 'u=rw,go=', modification_time: preserve,
                  access_time: preserve}}
        - file: {{path: {area.remote}/link, state: link, src: target}}
        - file: {{path: {area.remote}/doomed, state: absent}}
        - file: {{path: {area.remote}/tree, state: directory, recurse: true, mode: 'u=rwX,g=rX,o=', owner: nobody}}
        - file: {{path: {area.remote}/target, mode: '0444'}}
    """)
    assert statuses(run(lab, play)) == [Status.CHANGED] * 6
    for folder in ("d1", "d1/d2", "d1/d2/d3"):
        assert mode_of(area.local / folder) == 0o750 and (area.local / folder).stat().st_gid == DAEMON
    assert (area.local / "stamp").read_bytes() == b"" and mode_of(area.local / "stamp") == 0o600
    assert os.readlink(area.local / "link") == "target"
    assert not (area.local / "doomed").exists()
    assert [mode_of(area.local / p) for p in ("tree", "tree/a", "tree/a/f")] == [0o750, 0o750, 0o640]
    assert {(area.local / p).stat().st_uid for p in ("tree", "tree/a", "tree/a/f")} == {NOBODY}
    assert mode_of(area.local / "target") == 0o444
    before = snapshot(area.local)
    assert statuses(run(lab, play)) == [Status.OK] * 6
    assert snapshot(area.local) == before


def test_file_refuses_what_ansible_refuses(lab, tmp_path, area):
    area.put("plain", "p\n")
    results = run(lab, playbook(tmp_path, f"""
        - file: {{path: {area.remote}/plain, state: link, src: elsewhere}}
          ignore_errors: true
        - file: {{path: {area.remote}/plain, state: directory}}
          ignore_errors: true
        - file: {{path: {area.remote}/absent, state: file}}
          ignore_errors: true
        - file: {{path: {area.remote}/link, state: link, src: nowhere}}
          ignore_errors: true
    """))
    assert statuses(results) == [Status.FAILED] * 4
    assert [result.result["msg"] for result in results] == [
        f"src file does not exist, use 'force=yes' if you really want to create the link: {area.remote}/elsewhere",
        f"{area.remote}/plain already exists as a file",
        f"file ({area.remote}/absent) is absent, cannot continue",
        f"src file does not exist, use 'force=yes' if you really want to create the link: {area.remote}/nowhere",
    ]
    assert (area.local / "plain").read_text() == "p\n"


# -- stat ---------------------------------------------------------------------------

def test_stat_reports_what_the_host_has(lab, tmp_path, area):
    target = area.put("data", "some data\n", 0o640)
    os.chown(target, NOBODY, DAEMON)
    os.symlink("data", area.local / "link")
    results = run(lab, playbook(tmp_path, f"""
        - stat: {{path: {area.remote}/data}}
        - stat: {{path: {area.remote}/data, checksum_algorithm: sha256}}
        - ansible.builtin.stat: {{path: {area.remote}/link}}
        - stat: {{path: {area.remote}/link, follow: true, get_checksum: false}}
        - stat: {{path: {area.remote}}}
        - stat: {{path: {area.remote}/missing}}
    """))
    assert statuses(results) == [Status.OK] * 6
    facts = results[0].result["stat"]
    info = target.stat()
    assert facts["exists"] and facts["isreg"] and not facts["isdir"] and not facts["islnk"]
    assert (facts["mode"], facts["uid"], facts["gid"], facts["pw_name"], facts["gr_name"]) == (
        "0640", NOBODY, DAEMON, "nobody", "daemon")
    assert (facts["size"], facts["inode"], facts["nlink"]) == (info.st_size, info.st_ino, info.st_nlink)
    assert facts["mtime"] == pytest.approx(info.st_mtime, abs=1e-6)
    assert facts["checksum"] == hashlib.sha1(b"some data\n").hexdigest()
    assert results[1].result["stat"]["checksum"] == hashlib.sha256(b"some data\n").hexdigest()
    link = results[2].result["stat"]
    assert link["islnk"] and link["lnk_target"] == "data" and link["lnk_source"] == f"{area.remote}/data"
    assert "checksum" not in link
    followed = results[3].result["stat"]
    assert followed["isreg"] and "checksum" not in followed
    assert results[4].result["stat"]["isdir"] and results[4].result["stat"]["mode"] == "0755"
    assert results[5].result["stat"] == {"exists": False}


# -- lineinfile -----------------------------------------------------------------------

def test_lineinfile_edits_then_nothing_to_do(lab, tmp_path, area):
    config = area.put("app.ini", "a=1\n# comment\nport=80\n[db]\nhost=old\n", 0o640)
    play = playbook(tmp_path, f"""
        - lineinfile: {{path: {area.remote}/app.ini, regexp: '^port=', line: port=8080, backup: true}}
        - lineinfile: {{path: {area.remote}/app.ini, line: b=2, insertafter: '^a='}}
        - lineinfile: {{path: {area.remote}/app.ini, line: '# top', insertbefore: BOF}}
        - lineinfile: {{path: {area.remote}/app.ini, regexp: '^host=(?:db-)?(.*)$', line: 'host=db-\\1',
                        backrefs: true}}
        - lineinfile: {{path: {area.remote}/app.ini, regexp: '^# comment', state: absent}}
        - lineinfile: {{path: {area.remote}/new/created.conf, line: x=1, create: true, mode: '0600'}}
    """)
    first = run(lab, play)
    assert statuses(first) == [Status.CHANGED] * 6
    assert config.read_text() == "# top\na=1\nb=2\nport=8080\n[db]\nhost=db-old\n"
    assert mode_of(config) == 0o640
    assert first[0].result["msg"] == "line replaced" and first[1].result["msg"] == "line added"
    assert first[4].result["found"] == 1
    assert Path(first[0].result["backup"]).name in os.listdir(area.local)
    created = area.local / "new" / "created.conf"
    assert created.read_text() == "x=1\n" and mode_of(created) == 0o600
    assert statuses(run(lab, play)) == [Status.OK] * 6


def test_lineinfile_edits_the_file_a_link_leads_to(lab, tmp_path, area):
    real = area.put("real.conf", "a=1\n", 0o644)
    os.symlink("real.conf", area.local / "app.conf")
    result = run(lab, playbook(tmp_path, f"""
        - lineinfile: {{path: {area.remote}/app.conf, line: b=2, mode: '0600', backup: true}}
    """))[0]
    assert result.status is Status.CHANGED
    assert os.readlink(area.local / "app.conf") == "real.conf"
    assert real.read_text() == "a=1\nb=2\n" and mode_of(real) == 0o600
    assert Path(result.result["backup"]).name.startswith("app.conf.")


def test_lineinfile_missing_file_fails_without_create(lab, tmp_path, area):
    result = run(lab, playbook(tmp_path, f"- lineinfile: {{path: {area.remote}/none.conf, line: x}}"))[0]
    assert result.status is Status.FAILED
    assert result.result["msg"] == f"Destination {area.remote}/none.conf does not exist !"


# -- check mode and diff ----------------------------------------------------------------

def test_check_mode_changes_nothing_and_diff_shows_each_change(lab, tmp_path, area):
    area.put("app.conf", "a\nb\n")
    area.put("app.ini", "port=80\n")
    area.put("plain", "p\n", 0o600)
    area.put("doomed", "d\n")
    (tmp_path / "t.j2").write_text("{{ inventory_hostname }}\n")
    play = playbook(tmp_path, f"""
        - copy: {{content: "a\\nc\\n", dest: {area.remote}/app.conf, backup: true}}
        - copy: {{content: "new\\n", dest: {area.remote}/new/file, mode: '0600'}}
        - template: {{src: t.j2, dest: {area.remote}/t.out}}
        - file: {{path: {area.remote}/dir, state: directory}}
        - file: {{path: {area.remote}/plain, mode: '0644'}}
        - file: {{path: {area.remote}/doomed, state: absent}}
        - file: {{path: {area.remote}/link, state: link, src: plain}}
        - file: {{path: {area.remote}/stamp, state: touch}}
        - lineinfile: {{path: {area.remote}/app.ini, regexp: '^port=', line: port=8080}}
    """)
    before = snapshot(area.local)
    results = run(lab, play, check=True, diff=True)
    assert snapshot(area.local) == before
    assert statuses(results) == [Status.CHANGED] * 9
    copy = results[0].diff[0]
    assert list(difflib.unified_diff(copy["before"].splitlines(), copy["after"].splitlines(), lineterm=""))[2:] \
        == ["@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    assert copy["before_header"] == f"{area.remote}/app.conf"
    assert results[2].diff[0]["after"] == "lab1\n" and results[2].diff[0]["before"] == ""
    assert results[3].diff[0] == {"before": {"path": f"{area.remote}/dir", "state": "absent"},
                                  "after": {"path": f"{area.remote}/dir", "state": "directory"}}
    assert results[4].diff[0] == {"before": {"path": f"{area.remote}/plain", "mode": "0600"},
                                  "after": {"path": f"{area.remote}/plain", "mode": "0644"}}
    assert results[5].diff[0]["after"]["state"] == "absent"
    assert results[8].diff[0]["before"] == "port=80\n" and results[8].diff[0]["after"] == "port=8080\n"
    without_diff = run(lab, play, check=True)
    assert snapshot(area.local) == before
    assert statuses(without_diff) == [Status.CHANGED] * 9
    # No diff outside diff mode; copy and template results carry ansible-core 2.19's empty ``diff: []``
    # (its lineinfile carries empty placeholders, left out here).
    assert [r.result.get("diff") for r in without_diff] == [[]] * 3 + [None] * 6


# -- fetch ----------------------------------------------------------------------------

def test_fetch_into_host_folders_and_flat(lab, tmp_path, area):
    area.put("report.txt", "lab1 report\n")
    play = playbook(tmp_path, f"""
        - fetch: {{src: {area.remote}/report.txt, dest: out}}
        - fetch: {{src: {area.remote}/report.txt, dest: flat/, flat: true}}
        - fetch: {{src: {area.remote}/missing, dest: out}}
          ignore_errors: true
        - fetch: {{src: {area.remote}/missing, dest: out, fail_on_missing: false}}
    """)
    first = run(lab, play)
    assert statuses(first) == [Status.CHANGED, Status.CHANGED, Status.FAILED, Status.OK]
    fetched = tmp_path / "out" / "lab1" / area.remote.lstrip("/") / "report.txt"
    assert fetched.read_text() == "lab1 report\n"
    assert (tmp_path / "flat" / "report.txt").read_text() == "lab1 report\n"
    assert first[0].result["dest"] == str(fetched)
    assert first[2].result["msg"] == "the remote file does not exist, not transferring, ignored"
    assert statuses(run(lab, play)) == [Status.OK, Status.OK, Status.FAILED, Status.OK]
    area.put("report.txt", "changed\n")
    assert run(lab, play)[0].status is Status.CHANGED and fetched.read_text() == "changed\n"


# -- arguments ----------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ("copy: {content: x, dest: /tmp/x, mode: [1]}", "mode", "must be of type"),
    ("copy: {content: x, dest: /tmp/x, destination: /tmp/y}", "destination", "Unsupported parameters for (copy) module: destination"),
    ("copy: {content: x}", None, "missing a required argument"),
    ("copy: {content: x, src: y, dest: /tmp/x}", None, "parameters are mutually exclusive: src|content"),
    ("copy: {content: x, dest: /tmp/x, mode: 'rwxr-x'}", "mode", "does not match"),
    ("copy: {content: x, dest: /tmp/x, validate: 'visudo -c'}", "validate", "does not match"),
    ("file: {path: /tmp/x, state: linked}", "state", "is not one of"),
    ("file: {path: /tmp/x, state: link}", None, "'src' is a required property"),
    ("lineinfile: {path: /tmp/x, regexp: '^a'}", None, "'line' is a required property"),
    ("stat: {path: /tmp/x, get_checksum: maybe}", "get_checksum", "must be of type boolean"),
    ("fetch: {src: /tmp/x}", None, "missing a required argument"),
    ("template: {src: t.j2, dest: /tmp/x, content: x}", "content", "Unsupported parameters for (template) module: content"),
]


@pytest.mark.parametrize("task,key,message", BAD_ARGUMENTS, ids=[case[0] for case in BAD_ARGUMENTS])
def test_bad_arguments_are_rejected_at_load_with_location(tmp_path, task, key, message):
    path = playbook(tmp_path, f"- name: the task\n  {task}\n")
    with pytest.raises(PlaybookError) as caught:
        titan_ops.load_playbook(path)
    error = caught.value
    assert message in str(error)
    assert error.location is not None and error.location.file == str(path) and error.location.line == 5
    assert error.key == key


# -- cost ----------------------------------------------------------------------------------

class CountingConnection:
    """The real SSH connection, counting the remote commands it is asked to run."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.count = 0

    def run(self, command: Any, **options: Any) -> Any:
        self.count += 1
        return self.inner.run(command, **options)

    def put(self, data: bytes, path: str, mode: int | None = None) -> None:
        self.count += 1
        self.inner.put(data, path, mode)

    def get(self, path: str) -> bytes:
        self.count += 1
        return self.inner.get(path)


@pytest.fixture
def counting(lab, tmp_path):
    pool = ConnectionPool(ConnectionOptions(command_timeout=30))
    connection = CountingConnection(pool.get(lab.address("lab1")))
    host = HostContext(host="lab1", connection_factory=lambda: connection, templar=Templar(),
                       variables={"inventory_hostname": "lab1"}, playbook_dir=str(tmp_path))
    yield connection, host
    pool.close_all()


def _commands(counting, module: str, args: dict[str, Any]) -> int:
    """Remote commands one task costs (inspect, then act when there is a change), as the executor runs it."""
    connection, host = counting
    connection.count = 0
    assert not run_module(lookup(module), args, host).get("failed")
    return connection.count


def test_one_command_when_unchanged_or_new_two_when_changed(counting, tmp_path, area):
    (tmp_path / "t.j2").write_text("{{ inventory_hostname }}\n")
    area.put("lines", "a\n")
    area.put("report", "r\n")
    cases = [  # (module, arguments, commands the first time)
        ("copy", {"content": "x\n", "dest": f"{area.remote}/c", "mode": "0600", "owner": "nobody",
                  "backup": True, "validate": "test -f %s"}, 1),  # new: written behind the guess's test
        ("template", {"src": "t.j2", "dest": f"{area.remote}/t", "mode": "0640"}, 1),
        ("file", {"path": f"{area.remote}/d/e", "state": "directory", "mode": "0700"}, 2),  # d is missing too
        ("file", {"path": f"{area.remote}/f", "state": "directory"}, 1),
        ("file", {"path": f"{area.remote}/d", "state": "directory", "recurse": True, "owner": "nobody"}, 2),
        ("lineinfile", {"path": f"{area.remote}/lines", "line": "b", "backup": True}, 2),
    ]
    for module, args, first in cases:
        assert _commands(counting, module, args) == first, module
        assert _commands(counting, module, args) == 1, module
    replaced = {"content": "y\n", "dest": f"{area.remote}/c", "mode": "0600"}
    assert _commands(counting, "copy", replaced) == 2  # there, with other content: inspected, then written
    assert (area.local / "c").read_text() == "y\n"
    assert _commands(counting, "stat", {"path": f"{area.remote}/c"}) == 1
    fetch = {"src": f"{area.remote}/report", "dest": str(tmp_path / "fetched")}
    assert _commands(counting, "fetch", fetch) == 1
    assert _commands(counting, "fetch", fetch) == 1


def test_a_guess_that_no_longer_holds_only_inspects(counting, area):
    """The guess (dest not there) is tested on the host: a file that is there is not overwritten by
    the guessed write, and the usual inspect, decide, act follows."""
    connection, host = counting
    there = area.put("there", "same\n")
    inode = there.stat().st_ino
    args = {"content": "same\n", "dest": f"{area.remote}/there"}
    result = run_module(lookup("copy"), args, host)
    assert result["changed"] is False and connection.count == 1
    assert there.stat().st_ino == inode  # not replaced, not even by the same content
    (area.local / "folder").mkdir()
    result = run_module(lookup("file"), {"path": f"{area.remote}/folder", "state": "directory", "mode": "0700"}, host)
    assert result["changed"] is True and result["mode"] == "0700"
    assert (area.local / "folder").stat().st_mode & 0o777 == 0o700


def test_a_write_whose_data_arrives_cut_short_does_not_land(counting, area):
    _, host = counting
    target = area.put("kept", "original\n")
    plan = WritePlan(f"{area.remote}/kept", 0o644)
    sent = b"the whole new content\n"
    result = host.run(write_script(plan, sent), stdin=sent[:7])  # what a connection cut short delivers
    with pytest.raises(RemoteFileError, match="arrived incomplete"):
        write_outcome(plan, result)
    assert target.read_text() == "original\n"
    assert os.listdir(area.local) == ["kept"]


def test_a_remote_source_changed_since_inspected_does_not_land(counting, area):
    _, host = counting
    target = area.put("kept", "original\n")
    area.put("source", "changed since\n")
    plan = WritePlan(f"{area.remote}/kept", 0o644, remote_source=f"{area.remote}/source",
                     checksum=hashlib.sha1(b"as inspected\n").hexdigest())
    with pytest.raises(RemoteFileError, match="checksum mismatch"):
        write(host, plan, None)
    assert target.read_text() == "original\n"
    assert sorted(os.listdir(area.local)) == ["kept", "source"]


# -- modes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,current,is_dir,expected", [
    (0o644, 0o600, False, 0o644),
    ("0644", 0o600, False, 0o644),
    ("644", 0o600, False, 0o644),
    ("01777", 0, True, 0o1777),
    ("u=rw,g=r,o=r", 0o777, False, 0o644),
    ("u+x", 0o644, False, 0o744),
    ("go-w", 0o666, False, 0o644),
    ("a=rX", 0o600, True, 0o555),
    ("a=rX", 0o600, False, 0o444),
    ("u=rwX,go=", 0o711, False, 0o700),
    ("g=u", 0o640, False, 0o660),
    ("+x", 0o644, False, 0o755),
    ("u+s,o+t", 0o755, True, 0o5755),
    ("o=", 0o777, False, 0o770),
    # Found by comparing with ansible-core: no class means all three, less the umask (022 here) ...
    ("=rwx+rwx", 0o4755, False, 0o755),
    ("-rwx=rwxs,+g+", 0o700, False, 0o6755),
    # ... and the classes of a clause change one after the other.
    ("a+g+w,go+g,ug-u-x", 0o644, False, 0o066),
])
def test_modes(mode, current, is_dir, expected):
    assert modes.resolve(mode, current, is_dir, umask=0o022) == expected
