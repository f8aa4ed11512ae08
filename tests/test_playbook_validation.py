"""Validation runs before any connection and names file:line:column and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.forked_cli import run_cli
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook


def write(tmp_path: Path, text: str, name: str = "play.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


CASES = [
    ("malformed yaml",
     """
     - hosts: all
       tasks:
         - command: echo [1
           name: x: y
     """, 5, None, "malformed YAML"),
    ("unknown module",
     """
     - hosts: all
       tasks:
         - name: typo
           comand: ls
     """, 5, "comand", "unknown module or keyword 'comand'"),
    ("unsupported keyword",
     """
     - hosts: all
       tasks:
         - copy: {content: x, dest: /tmp/x}
           async: 10
     """, 5, "async", "not with 'copy'"),
    ("unknown play keyword",
     """
     - hosts: all
       taskz: []
     """, 3, "taskz", "unknown play keyword"),
    ("wrong argument type",
     """
     - hosts: all
       tasks:
         - debug:
             verbosity: lots
     """, 5, "verbosity", "must be of type integer"),
    ("unknown argument",
     """
     - hosts: all
       tasks:
         - shell:
             cmd: ls
             chdirr: /tmp
     """, 6, "chdirr", "Unsupported parameters for (shell) module: chdirr"),
    ("bad template",
     """
     - hosts: all
       tasks:
         - debug:
             msg: "{{ oops( }}"
     """, 5, "msg", "syntax error"),
    ("bad when",
     """
     - hosts: all
       tasks:
         - debug: msg=hi
           when: x ==
     """, 5, "when", "syntax error"),
    ("missing hosts",
     """
     - name: no hosts
       tasks: []
     """, 2, "hosts", "'hosts' is a required property"),
    ("duplicate key",
     """
     - hosts: all
       tasks:
         - command: ls
           command: pwd
     """, 5, "command", "duplicate key"),
    ("two modules",
     """
     - hosts: all
       tasks:
         - command: ls
           shell: pwd
     """, 5, "shell", "more than one module"),
    ("register not a name",
     """
     - hosts: all
       tasks:
         - command: ls
           register: "not a name"
     """, 5, "register", "not a valid variable name"),
    ("wrong keyword type",
     """
     - hosts: all
       tasks:
         - command: ls
           ignore_errors: [1]
     """, 5, "ignore_errors", "must be of type ['boolean', 'string'], got list"),
    ("yes/no keyword written as text that says neither",
     """
     - hosts: all
       tasks:
         - command: ls
           diff: yes.
     """, 5, "diff", "The value 'yes.' could not be converted to 'bool'"),
    ("yes/no keyword of a block",
     """
     - hosts: all
       tasks:
         - block:
             - command: ls
           no_log: nope
     """, 6, "no_log", "The value 'nope' could not be converted to 'bool'"),
]


@pytest.mark.parametrize("label,text,line,key,message", CASES, ids=[case[0] for case in CASES])
def test_bad_playbook_is_rejected_with_location(tmp_path, label, text, line, key, message):
    path = write(tmp_path, text)
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    error = caught.value
    assert message in str(error)
    assert error.location is not None and error.location.file == str(path)
    assert error.location.line == line, str(error)
    assert error.key == key


def test_validate_cli_exits_5_without_traceback(tmp_path):
    good = write(tmp_path, """
    - hosts: all
      gather_facts: false
      tasks:
        - command: echo hi
        - ansible.builtin.shell: echo "{{ inventory_hostname }}" | tr a-z A-Z
        - debug: var=result
    """, "good.yml")
    bad = write(tmp_path, CASES[1][1], "bad.yml")
    done = run_cli(["validate", good, bad])
    assert done.returncode == 5
    assert f"{good}: ok" in done.stdout
    assert f"ERROR! {bad}:5:" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_free_form_arguments_are_parsed_like_ansible(tmp_path):
    path = write(tmp_path, """
    - hosts: all
      tasks:
        - command: ls -l "my dir" chdir=/tmp creates=/etc/x
        - debug: msg="hello {{ name }}"
        - shell: echo a=b | cut -d= -f2
    """)
    tasks = load_playbook(path).plays[0].tasks
    assert tasks[0].args == {"cmd": 'ls -l "my dir"', "chdir": "/tmp", "creates": "/etc/x"}
    assert tasks[1].args == {"msg": "hello {{ name }}"}
    assert tasks[2].args == {"cmd": "echo a=b | cut -d= -f2"}


def test_multi_line_shell_keeps_its_line_breaks(tmp_path):
    path = write(tmp_path, """
    - hosts: all
      tasks:
        - shell: |
            set -e
            for i in 1 2; do
              echo "$i"
            done
        - shell: echo a && echo b chdir=/tmp
    """)
    tasks = load_playbook(path).plays[0].tasks
    assert tasks[0].args == {"cmd": 'set -e\nfor i in 1 2; do\n  echo "$i"\ndone\n'}  # (the final line break stays, as in ansible-core)
    assert tasks[1].args == {"cmd": "echo a && echo b", "chdir": "/tmp"}


def test_an_include_of_a_missing_file_is_a_located_warning_before_the_run(tmp_path):
    path = write(tmp_path, """
    - hosts: all
      gather_facts: false
      tasks:
        - include_tasks: missing.yml
        - include_role:
            name: nosuchrole
          when: false
    """)
    assert load_playbook(path).warnings == [
        f"{path}:5:7: 'include_tasks': task file not found: {tmp_path / 'missing.yml'}: the include fails if it runs",
        f"{path}:6:7: 'include_role': the role 'nosuchrole' was not found in: {tmp_path / 'roles'}, {tmp_path}: "
        "the include fails if it runs",
    ]
    done = run_cli(["validate", path])
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"[WARNING]: {warning}" for warning in load_playbook(path).warnings]
