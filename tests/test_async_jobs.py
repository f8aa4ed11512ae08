"""``async``/``poll`` and ``async_status``: a command run as a detached job on the host (its folder
``~/.ansible_async/<jid>``), on the local connection, over SSH in the lab, and against ansible-core."""

from __future__ import annotations

from pathlib import Path

import pytest

import titan_ops
from titan_ops.errors import PlaybookError
from tests.local_oracle import play_ansible, play_titan, project

KEYS = ("changed", "msg", "rc", "stdout", "stderr", "cmd", "started", "finished", "erased")

LOOKED_AT_AND_CLEANED_UP = r"""
    - name: looked at until finished
      async_status: {jid: "{{ job.ansible_job_id }}"}
      register: status
      until: status.finished
      retries: 30
      delay: 1
    - {name: cleaned up, async_status: {jid: "{{ job.ansible_job_id }}", mode: cleanup}}
"""
"""The job registered as ``job`` looked at until it finishes, then its folder removed."""

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: waited for, shell: "echo out; echo err >&2", async: 30, poll: 1}
    - {name: its input, command: cat, args: {stdin: s3cret-input}, async: 30, poll: 0, register: fed}
    - name: its input read
      async_status: {jid: "{{ fed.ansible_job_id }}"}
      register: fed_status
      until: fed_status.finished
      retries: 30
      delay: 1
    - {name: a failure, command: "false", async: 30, poll: 1, ignore_errors: true}
    - {name: ended when its time is up, command: sleep 60, async: 1, poll: 3, ignore_errors: true}
    - {name: left running, command: "sleep 1", async: 30, poll: 0, register: job}
""" + LOOKED_AT_AND_CLEANED_UP + r"""    - {name: gone, async_status: {jid: "{{ job.ansible_job_id }}"}, ignore_errors: true}
    - {name: not run, command: "touch {{ base }}/never", args: {removes: "{{ base }}/nothing"}, async: 30, poll: 1}
"""
OUTCOMES = [
    ("waited for", "changed", {"changed": True, "msg": "", "rc": 0, "stdout": "out", "stderr": "err",
                               "cmd": "echo out; echo err >&2", "started": True, "finished": True}),
    ("its input", "changed", {"changed": True, "started": True, "finished": False}),
    ("its input read", "changed", {"changed": True, "msg": "", "rc": 0, "stdout": "s3cret-input", "stderr": "",
                                   "cmd": ["cat"], "started": True, "finished": True}),
    ("a failure", "failed", {"changed": True, "msg": "non-zero return code", "rc": 1, "stdout": "", "stderr": "",
                             "cmd": ["false"], "started": True, "finished": True}),
    ("ended when its time is up", "failed", {"changed": False, "msg": "Timeout exceeded", "stdout": "",
                                             "stderr": "", "started": True, "finished": True}),
    ("left running", "changed", {"changed": True, "started": True, "finished": False}),
    ("looked at until finished", "changed", {"changed": True, "msg": "", "rc": 0, "stdout": "", "stderr": "",
                                             "cmd": ["sleep", "1"], "started": True, "finished": True}),
    ("cleaned up", "ok", {"changed": False, "stdout": "", "stderr": "", "started": False, "finished": False,
                          "erased": "HOME/.ansible_async/JID"}),
    ("gone", "failed", {"changed": False, "msg": "could not find job", "stdout": "", "stderr": "", "started": True,
                        "finished": True}),
    ("not run", "ok", {"changed": False, "msg": "Did not run command since 'BASE/nothing' does not exist", "rc": 0,
                       "stdout": "skipped, since BASE/nothing does not exist", "stderr": "",
                       "cmd": ["touch", "BASE/never"], "started": True, "finished": True}),
]


def _tasks(side, home) -> list:
    """The tasks with the home folder and the job's id written HOME and JID."""
    tasks = []
    for name, status, result in side.tasks:
        if "erased" in result:
            result = {**result, "erased": "HOME/.ansible_async/JID" if result["erased"].startswith(
                f"{home}/.ansible_async/j") else result["erased"]}
        tasks.append((name, status, result))
    return tasks


def test_async_jobs_on_the_local_connection(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert _tasks(side, home) == OUTCOMES
    [fed] = (home / ".ansible_async").iterdir()  # (left running, never cleaned up: as in Ansible, it stays)
    assert sorted(path.name for path in fed.iterdir()) == ["command", "end", "pid", "rc", "start", "stderr",
                                                           "stdout", "task"]
    assert b"s3cret-input" not in (fed / "task").read_bytes(), "the input is not kept on the host"
    assert "never" not in side.files


def test_a_running_jobs_input_is_not_kept_on_the_host(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    go = tmp_path / "go"
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                    f"    - {{shell: 'while [ ! -e {go} ]; do sleep 0.1; done; cat', args: {{stdin: s3cret-input}}, "
                    "async: 30, poll: 0}\n")
    try:
        play_titan(folder, tmp_path / "base", KEYS)
        [job] = (home / ".ansible_async").iterdir()
        assert not (job / "rc").exists(), "the job still runs"
        assert all(b"s3cret-input" not in path.read_bytes() for path in job.iterdir()), \
            "the input of a running job is in no file on the host"
    finally:
        go.touch()


def test_a_job_id_names_no_folder_outside_the_jobs_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "kept").mkdir(parents=True)
    (home / ".ansible_async").mkdir()
    monkeypatch.setenv("HOME", str(home))
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - {async_status: {jid: \"{{ '../kept' }}\", mode: cleanup}, ignore_errors: true}\n")
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [status for _, status, _ in side.tasks] == ["failed"]
    assert (home / "kept").is_dir(), "a folder outside ~/.ansible_async is never removed"


@pytest.mark.oracle
def test_async_jobs_as_ansible(tmp_path):
    home = Path.home()  # (ansible-core's async_status looks in the home its login has, whatever HOME says)
    folder = tmp_path / "project"
    project(folder, PLAYBOOK + '    - {name: input job cleaned up, async_status: {jid: "{{ fed.ansible_job_id }}", '
                               'mode: cleanup}}\n')
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    assert _tasks(play_titan(folder, tmp_path / "titan", KEYS), home) == _tasks(theirs, home)


def test_async_is_refused_by_name_where_it_cannot_run(tmp_path):
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - {copy: {content: x, dest: /tmp/x}, async: 10}\n")
    with pytest.raises(PlaybookError, match="'async' is supported with the modules command and shell in "
                                            "titan-ops, not with 'copy'"):
        play_titan(folder, tmp_path / "base", KEYS)


def test_async_jobs_over_ssh(lab, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(r"""
- hosts: lab1
  gather_facts: false
  tasks:
    - {name: waited for, shell: "echo over ssh", async: 30, poll: 1}
    - {name: left running, command: "sleep 2", async: 30, poll: 0, register: job}
""" + LOOKED_AT_AND_CLEANED_UP + r"""    - {name: folder gone, stat: {path: "{{ job.results_file }}"}}
""")
    results = titan_ops.run(play, lab.inventory_path).host_results("lab1")
    waited, left, looked, cleaned, gone = (result.result for result in results)
    assert waited["stdout"] == "over ssh" and waited["finished"] and waited["changed"]
    assert left["started"] and not left["finished"] and left["results_file"].endswith(left["ansible_job_id"])
    assert looked["finished"] and looked["cmd"] == ["sleep", "2"] and looked["rc"] == 0
    assert cleaned["erased"] == left["results_file"] and gone["stat"]["exists"] is False
