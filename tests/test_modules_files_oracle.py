"""The file modules against ansible-core as the oracle, on the same lab hosts.

One playbook exercises copy, template, file, lineinfile, stat and fetch
(successes and failures). ansible-playbook runs it on lab1 while it runs in
check mode on lab2; then titan-ops does the same. Per task and host:
the same status (and the same message for failures); per host: the same
recap and the same final files (content, mode, owner, group, link target),
and the same fetched files on the controller.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

import titan_ops
from tests.oracle import QUIET_ENV, require_oracle, titan_stats

pytestmark = pytest.mark.oracle

BASE = "/srv/titan/oracle-files"
RECORDER = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
            "ANSIBLE_STDOUT_CALLBACK": "titan_record"}
BACKUP_NAME = re.compile(r"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$")

TEMPLATE = """\
# {{ ansible_managed }}
[app]
host = {{ inventory_hostname | upper }}
{% include 'partial.j2' %}
{% for port in ports %}
listen{{ loop.index }} = {{ port }}
{%- endfor %}
{% raw %}{{ not rendered }}{% endraw %}
{% if inventory_hostname == 'lab2' %}
role = primary
{% endif %}
  {% if true %}
indented = yes
  {% endif %}
end"""

PLAYBOOK = r"""
- name: file modules
  hosts: lab
  gather_facts: false
  vars:
    base: BASE
    ports: [8080, 8081]
  tasks:
    - name: seed
      shell:
        cmd: |
          rm -rf {{ base }} && mkdir -p {{ base }}/existing/sub {{ base }}/tree/a/b {{ base }}/slash
          mkdir -p {{ base }}/own/a
          printf 'old\n' > {{ base }}/owned.txt && chmod 600 {{ base }}/owned.txt
          chown nobody:daemon {{ base }}/owned.txt
          printf 'a=1\n# comment\nb=2\nb=22\n[section]\nkey=old\n' > {{ base }}/app.ini
          printf 'x\n' > {{ base }}/tree/a/f1 && printf 'y\n' > {{ base }}/tree/a/b/f2 && chmod 600 {{ base }}/tree/a/f1
          printf 'keep\n' > {{ base }}/keep.txt && printf 'remote source\n' > {{ base }}/remote.src
          chmod 700 {{ base }}/remote.src && ln -s keep.txt {{ base }}/oldlink && ln -s keep.txt {{ base }}/tlink
          printf 'valid\n' > {{ base }}/validated.txt && printf 'same\n' > {{ base }}/same.txt
          printf 'one\ntwo\nthree' > {{ base }}/nonl.txt && printf 'k=1\nk=2\nz=9\nk=3\n' > {{ base }}/multi.txt
          printf 'p\n' > {{ base }}/perm.txt && chmod 755 {{ base }}/perm.txt && touch {{ base }}/own/a/f
      changed_when: false
      check_mode: false
      tags: [seed]

    - copy: {content: "hello {{ inventory_hostname }}\n", dest: "{{ base }}/hello.txt"}
    - copy: {content: "new\n", dest: "{{ base }}/owned.txt", backup: true}
    - copy: {content: "new\n", dest: "{{ base }}/owned.txt", mode: 'u=rw,g=r,o=r'}
    - copy: {src: static.txt, dest: "{{ base }}/existing"}
    - copy: {src: static.txt, dest: "{{ base }}/newdir/"}
    - copy: {src: static.txt, dest: "{{ base }}/slash/", mode: preserve}
    - copy: {content: "zz", dest: "{{ base }}/keep.txt", force: false}
    - copy: {content: "bad\n", dest: "{{ base }}/validated.txt", validate: "grep -q valid %s"}
      ignore_errors: true
    - copy: {content: "valid too\n", dest: "{{ base }}/validated.txt", validate: "grep -q valid %s", mode: '0600'}
    - copy: {content: "x", dest: "{{ base }}/nodir/x"}
      ignore_errors: true
    - copy: {src: "{{ base }}/remote.src", dest: "{{ base }}/remote.dst", remote_src: true, mode: preserve}
    - copy: {content: "{{ ports }}", dest: "{{ base }}/ports.json", mode: 0640}
    - copy: {content: "", dest: "{{ base }}/empty", mode: '600'}
    - copy: {content: "same\n", dest: "{{ base }}/same.txt", owner: '65534', group: daemon}
    - copy: {content: "keep\n", dest: "{{ base }}/tlink"}

    - template: {src: app.conf.j2, dest: "{{ base }}/app.conf", mode: '0644'}
    - template: {src: app.conf.j2, dest: "{{ base }}/existing/", lstrip_blocks: true}
    - template: {src: app.conf.j2, dest: "{{ base }}/crlf.conf", newline_sequence: "\r\n", trim_blocks: false}

    - file: {path: "{{ base }}/d1/d2/d3", state: directory, mode: '0750'}
    - file: {path: "{{ base }}/existing", state: directory, mode: 'g+w'}
    - file: {path: "{{ base }}/perm.txt", mode: 'go-x,u+s'}
    - file: {path: "{{ base }}/hello.txt", mode: '0600', owner: nobody, group: daemon}
      ignore_errors: "{{ ansible_check_mode }}"
    - file: {path: "{{ base }}/hello.txt", state: directory}
      ignore_errors: true
    - file: {path: "{{ base }}/missing", state: file}
      ignore_errors: true
    - file: {path: "{{ base }}/touched", state: touch, mode: '0640', modification_time: preserve, access_time: preserve}
    - file: {path: "{{ base }}/link", state: link, src: hello.txt}
      ignore_errors: "{{ ansible_check_mode }}"
    - file: {path: "{{ base }}/oldlink", state: link, src: hello.txt}
      ignore_errors: "{{ ansible_check_mode }}"
    - file: {path: "{{ base }}/dangling", state: link, src: nowhere}
      ignore_errors: true
    - file: {path: "{{ base }}/dangling2", state: link, src: nowhere, force: true}
    - file: {path: "{{ base }}/keep.txt", state: link, src: hello.txt}
      ignore_errors: true
    - file: {path: "{{ base }}/tree", state: directory, recurse: true, mode: 'u=rwX,g=rX,o=', group: daemon}
    - file: {path: "{{ base }}/own", state: directory, recurse: true, owner: nobody}
    - file: {path: "{{ base }}/existing/sub", state: absent}

    - lineinfile: {path: "{{ base }}/app.ini", regexp: '^b=', line: 'b=3', backup: true}
    - lineinfile: {path: "{{ base }}/app.ini", line: 'c=4', insertafter: '^a='}
    - lineinfile: {path: "{{ base }}/app.ini", line: 'first', insertbefore: BOF}
    - lineinfile: {path: "{{ base }}/app.ini", line: 'before-section', insertbefore: '^\[section\]'}
    - lineinfile: {path: "{{ base }}/app.ini", regexp: '^key=(?:new-)?(.*)$', line: 'key=new-\1', backrefs: true}
    - lineinfile: {path: "{{ base }}/app.ini", regexp: '^nomatch=(.*)$', line: 'x=\1', backrefs: true}
    - lineinfile: {path: "{{ base }}/app.ini", regexp: '^#', state: absent}
    - lineinfile: {path: "{{ base }}/app.ini", line: 'a=1', state: absent}
    - lineinfile: {path: "{{ base }}/app.ini", line: 'end', insertafter: EOF, mode: '0600'}
    - lineinfile: {path: "{{ base }}/nonl.txt", line: 'four'}
    - lineinfile: {path: "{{ base }}/multi.txt", line: 'k=first', regexp: '^k=', firstmatch: true}
    - lineinfile: {path: "{{ base }}/multi.txt", line: 'after-k', insertafter: '^k=', firstmatch: true}
    - lineinfile: {path: "{{ base }}/multi.txt", line: 'z=9', regexp: '^nomatch'}
    - lineinfile: {path: "{{ base }}/new/dir/created.conf", line: 'x=1', create: true, mode: '0600'}
    - lineinfile: {path: "{{ base }}/nothere.conf", line: 'x=1'}
      ignore_errors: true

    - stat: {path: "{{ base }}/hello.txt"}
      register: st
    - stat: {path: "{{ base }}/link"}
      register: sl
    - when: not ansible_check_mode
      assert:
        that:
          - st.stat.exists and st.stat.isreg and not st.stat.isdir
          - st.stat.mode == '0600' and st.stat.pw_name == 'nobody' and st.stat.gr_name == 'daemon'
          - st.stat.checksum == ('hello ' + inventory_hostname + '\n') | hash('sha1')
          - sl.stat.islnk and sl.stat.lnk_target == 'hello.txt' and sl.stat.checksum is not defined

    - fetch: {src: "{{ base }}/app.conf", dest: fetched}
      ignore_errors: "{{ ansible_check_mode }}"
    - fetch: {src: "{{ base }}/hello.txt", dest: "fetched/flat-{{ inventory_hostname }}.txt", flat: true}
      ignore_errors: "{{ ansible_check_mode }}"
    - fetch: {src: "{{ base }}/nope", dest: fetched}
      ignore_errors: true
    - fetch: {src: "{{ base }}/nope", dest: fetched, fail_on_missing: false}
""".replace("BASE", BASE)

NOT_IDEMPOTENT = {7, 9}
"""Tasks (by index) that fail on every run: the copy refused by validate and the copy into a missing folder."""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files-oracle")
    (root / "files").mkdir()
    (root / "templates").mkdir()
    (root / "files" / "static.txt").write_text("static file\nline2\n")
    (root / "files" / "static.txt").chmod(0o640)
    (root / "templates" / "app.conf.j2").write_text(TEMPLATE)
    (root / "templates" / "partial.j2").write_text("ports = {{ ports | join(',') }} {{ missing | default('none') }}\n")
    (root / "play.yml").write_text(textwrap.dedent(PLAYBOOK))
    return root


@pytest.fixture(scope="module")
def ansible_inventory(lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab inventory for ansible: its key, known_hosts and a persistent master connection per host."""
    control = tempfile.mkdtemp(prefix="tto-", dir="/tmp")
    data = yaml.safe_load(Path(lab.inventory_path).read_text())
    for host_vars in data["all"]["children"]["lab"]["hosts"].values():
        host_vars["ansible_ssh_common_args"] = (
            f"-o UserKnownHostsFile={host_vars['ansible_ssh_known_hosts_file']} -o StrictHostKeyChecking=yes "
            f"-o ControlMaster=auto -o ControlPersist=60s -o ControlPath={control}/%C")
    path = tmp_path_factory.mktemp("files-oracle-inventory") / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    yield path
    shutil.rmtree(control, ignore_errors=True)


def _ansible(project: Path, inventory: Path, *args: str) -> subprocess.Popen[str]:
    binary = require_oracle()
    return subprocess.Popen([str(binary), "-i", str(inventory), str(project / "play.yml"), "-f", "3", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project,
                            env={**os.environ, **QUIET_ENV, **RECORDER})


def _record(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=240)
    assert "{" in stdout, f"ansible-playbook printed no record (rc={process.returncode}):\n{stdout}\n{stderr}"
    return json.loads(stdout[stdout.index("{"):])


def _ansible_outcomes(record: dict[str, Any], host: str) -> list[tuple[str, str | None]]:
    outcomes = []
    for task in record["plays"][0]["tasks"]:
        result = task["hosts"].get(host)
        if result is not None:
            outcomes.append(_outcome("failed" if result.get("failed") else "skipped" if result.get("skipped")
                                     else "changed" if result.get("changed") else "ok", result.get("msg")))
    return outcomes


def _titan_outcomes(result: titan_ops.RunResult, host: str) -> list[tuple[str, str | None]]:
    return [_outcome(task.status.name.lower(), task.result.get("msg")) for task in result.host_results(host)]


def _outcome(status: str, msg: Any) -> tuple[str, str | None]:
    """A task's status, with its message when it failed (the message says why)."""
    return status, msg if status == "failed" else None


def _files(lab, host: str) -> dict[str, Any]:
    root = lab.host_path(host, BASE)
    found = {}
    for path in sorted(root.rglob("*")):
        info = os.lstat(path)
        name = BACKUP_NAME.sub(".BACKUP~", str(path.relative_to(root)))
        if path.is_symlink():
            found[name] = ("link", os.readlink(path), info.st_uid, info.st_gid)
        else:
            content = "dir" if path.is_dir() else path.read_bytes()
            found[name] = (oct(info.st_mode & 0o7777), content, info.st_uid, info.st_gid)
    return found


def _fetched(project: Path) -> dict[str, bytes]:
    root = project / "fetched"
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def outcomes(lab, project: Path, ansible_inventory: Path) -> dict[str, Any]:
    """Both tools' runs: for real on lab1, in check mode on lab2 (ansible's two runs in parallel)."""
    seeded = titan_ops.run(project / "play.yml", lab.inventory_path, limit="lab2", tags=["seed"])
    assert seeded.ok
    seed_files = _files(lab, "lab2")
    real = _ansible(project, ansible_inventory, "--limit", "lab1")
    check = _ansible(project, ansible_inventory, "--limit", "lab2", "--check")
    ansible = {"real": _record(real), "check": _record(check)}
    ansible_files = {host: _files(lab, host) for host in ("lab1", "lab2")}
    ansible_fetched = _fetched(project)
    shutil.rmtree(project / "fetched")
    titan = {"real": titan_ops.run(project / "play.yml", lab.inventory_path, limit="lab1"),
             "check": titan_ops.run(project / "play.yml", lab.inventory_path, limit="lab2", check=True)}
    titan_files = {host: _files(lab, host) for host in ("lab1", "lab2")}
    titan_fetched = _fetched(project)
    again = titan_ops.run(project / "play.yml", lab.inventory_path, limit="lab1", skip_tags=["seed"])
    return {"ansible": ansible, "titan": titan, "ansible_files": ansible_files, "titan_files": titan_files,
            "ansible_fetched": ansible_fetched, "titan_fetched": titan_fetched, "again": again,
            "seed_files": seed_files}


@pytest.mark.parametrize("host,run", [("lab1", "real"), ("lab2", "check")])
def test_same_status_per_task_as_ansible(outcomes, host, run):
    expected = _ansible_outcomes(outcomes["ansible"][run], host)
    assert len(expected) == 56
    assert _titan_outcomes(outcomes["titan"][run], host) == expected


@pytest.mark.parametrize("run", ["real", "check"])
def test_same_recap_as_ansible(outcomes, run):
    assert titan_stats(outcomes["titan"][run]) == {
        host: {key: stats[key] for key in ("ok", "changed", "unreachable", "failures", "skipped", "rescued",
                                           "ignored")}
        for host, stats in outcomes["ansible"][run]["stats"].items()}


def test_same_final_files_as_ansible(outcomes):
    assert len(outcomes["titan_files"]["lab1"]) > 30
    assert outcomes["titan_files"]["lab1"] == outcomes["ansible_files"]["lab1"]
    assert outcomes["titan_fetched"] == outcomes["ansible_fetched"]
    assert sorted(outcomes["titan_fetched"]) == ["flat-lab1.txt", f"lab1{BASE}/app.conf"]


def test_check_mode_leaves_the_host_as_seeded(outcomes):
    assert outcomes["ansible_files"]["lab2"] == outcomes["seed_files"]
    assert outcomes["titan_files"]["lab2"] == outcomes["seed_files"]


def test_second_run_changes_nothing(outcomes):
    first, again = outcomes["titan"]["real"].host_results("lab1"), outcomes["again"].host_results("lab1")
    # The second run skips the seed task, so its task i is the first run's task i + 1.
    assert [task.status.name for task in again].count("CHANGED") == 0
    failed = {i for i, task in enumerate(again) if task.status.name == "FAILED"}
    assert failed == {i - 1 for i, task in enumerate(first) if task.status.name == "FAILED"}
    assert NOT_IDEMPOTENT <= failed
