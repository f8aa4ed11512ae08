"""Task semantics as ansible-core 2.19 has them (the task-level bugs of issue 11).

Each case is a small playbook on the local connection whose own ``assert`` tasks state what
ansible-core does; the fast test checks titan-ops' recap against the expected one, and the oracle
test shows that ansible-core gives that very recap on the same playbook.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import titan_ops
from titan_ops.errors import PlaybookError
from tests.oracle import ORACLE_BIN, QUIET_ENV, ansible_record, titan_stats

INVENTORY = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"


def _recap(ok: int, changed: int = 0, failures: int = 0, skipped: int = 0, ignored: int = 0,
           rescued: int = 0) -> dict[str, int]:
    return {"ok": ok, "changed": changed, "unreachable": 0, "failures": failures, "skipped": skipped,
            "rescued": rescued, "ignored": ignored}


# name: (tasks, expected recap of localhost)
CASES: dict[str, tuple[str, dict[str, int]]] = {
    "omit drops the argument": ("""
        - debug: {msg: "{{ nothing | default(omit) }}"}
          register: shown
        - assert: {that: "shown.msg == 'Hello world!'"}
        - file: {path: "{{ workdir }}/touched", state: touch, mode: "{{ nothing | default(omit) }}"}
        """, _recap(3, changed=1)),
    "set_fact in a loop: the last item wins": ("""
        - set_fact: {counted: "{{ item }}"}
          loop: [1, 2, 3]
        - assert: {that: "counted == 3"}
        """, _recap(2)),
    "set_fact with changed_when sets its facts": ("""
        - set_fact: {flagged: 5}
          changed_when: true
        - assert: {that: "flagged == 5"}
        """, _recap(2, changed=1)),
    "failed_when and changed_when lists are an AND": ("""
        - command: "true"
          register: both
          failed_when: [both.rc == 0, false]
          changed_when: [true, false]
        - assert: {that: ["both is not failed", "both is not changed"]}
        - command: "true"
          register: all_true
          failed_when: [all_true.rc == 0, true]
          ignore_errors: true
        """, _recap(3, changed=1, ignored=1)),
    "a templated string keeps its final newline and Ansible's block whitespace": ("""
        - set_fact:
            upper: "{{ 'curl' | upper }}\\n"
            number: "{{ 1 }}\\n"
            spaced: " {{ 1 }}"
            blocks: "{% if true %}\\nyes\\n{% endif %}\\nend\\n"
        - assert:
            that:
              - "upper == 'CURL\\n'"
              - "number == 1"
              - "spaced == ' 1'"
              - "blocks == 'yes\\nend\\n'"
        - copy: {content: "{{ item | upper }}\\n", dest: "{{ workdir }}/{{ item }}"}
          loop: [curl]
        - stat: {path: "{{ workdir }}/curl"}
          register: written
        - assert: {that: "written.stat.checksum == 'CURL\\n' | hash('sha1')"}
        """, _recap(5, changed=1)),
    "until and retries: attempts after the last retry": ("""
        - shell: "false"
          register: exhausted
          until: exhausted.rc == 0
          retries: 2
          delay: 0
          ignore_errors: true
        - shell: "true"
          register: at_once
          until: at_once.rc == 0
          delay: 0
        - assert: {that: ["exhausted.attempts == 2", "at_once.attempts == 1"]}
        """, _recap(3, changed=2, ignored=1)),
    "filters: items2dict names, map and select results are lists": ("""
        - assert:
            that:
              - "[{'k': 'a', 'v': 1}] | items2dict(key_name='k', value_name='v') == {'a': 1}"
              - "[{'a': 1}, {'a': 2}] | map(attribute='a') == [1, 2]"
              - "[1, 2, 3] | select('odd') == [1, 3]"
        """, _recap(1)),
    "Ansible's tests and filters the integration targets use": ("""
        - command: "true"
          register: ran
        - assert:
            that:
              - "[1, 2] is contains 1"
              - "ran is successful and ran is reachable and ran is not unreachable"
              - "[1] is subset([1, 2]) and [1, 2] is superset([2])"
              - "['/etc', 'ssh', 'sshd_config'] | path_join == '/etc/ssh/sshd_config'"
              - "['a', '/b', 'c'] | path_join == '/b/c'"
              - "[1, 2, 2] | union([2, 3]) == [1, 2, 3]"
              - "[1, 2, 3] | intersect([3, 2, 5]) == [2, 3]"
              - "[1, 2, 3] | difference([2]) == [1, 3]"
              - "[1, 2] | symmetric_difference([2, 3]) == [1, 3]"
              - "[1, [2, [3, [4]]]] | flatten == [1, 2, 3, 4]"
              - "[1, [2, [3, [4]]]] | flatten(levels=1) == [1, 2, [3, [4]]]"
              - "{} | type_debug == 'dict' and 'x' | type_debug == 'str' and [] | type_debug == 'list'"
              - "'a1b22' | regex_findall('[0-9]+') == ['1', '22']"
        """, _recap(2, changed=1)),
    "map(attribute=) of an item without it fails the task": ("""
        - set_fact:
            names: "{{ [{'name': 'one'}, {'other': 'two'}] | map(attribute='name') }}"
          register: mapped
          ignore_errors: true
        - assert: {that: ["mapped is failed", "'has no attribute' in mapped.msg"]}
        """, _recap(2, ignored=1)),
    "dict(a=1, a=2) fails the task, ignore_errors ignores it": ("""
        - debug: {msg: "{{ dict(a=1, a=2) }}"}
          ignore_errors: true
        - debug: {msg: "still running"}
        """, _recap(2, ignored=1)),
    "file state=hard": ("""
        - copy: {content: "linked\\n", dest: "{{ workdir }}/original"}
        - file: {src: "{{ workdir }}/original", dest: "{{ workdir }}/second", state: hard}
        - file: {src: "{{ workdir }}/original", dest: "{{ workdir }}/second", state: hard}
          register: again
        - stat: {path: "{{ workdir }}/original"}
          register: original
        - stat: {path: "{{ workdir }}/second"}
          register: second
        - assert: {that: ["again is not changed", "original.stat.inode == second.stat.inode",
                          "original.stat.nlink == 2"]}
        """, _recap(6, changed=2)),
    "name with no value": ("""
        - name:
          debug: {msg: unnamed}
        """, _recap(1)),
    "a variable templated from an undefined one is undefined": ("""
        - debug: {msg: "{{ deep | default('d') }}"}
          register: shown
        - assert: {that: "shown.msg == 'd'"}
        """, _recap(2)),
    "debug var of a missing key": ("""
        - debug: {var: "mydict['c']"}
        """, _recap(1)),
    "when is evaluated before an undefined loop": ("""
        - debug: {msg: "{{ item }}"}
          loop: "{{ myundef | dict2items }}"
          when: myundef is defined
        """, _recap(0, skipped=1)),
    "registered results have Ansible's keys": ("""
        - command: "true"
          register: ran
        - copy: {content: "x", dest: "{{ workdir }}/keys"}
          register: copied
        - assert: {that: ["'failed' in ran", "ran.failed == false", "'src' in copied", "'diff' in copied",
                          "'failed' in copied"]}
        """, _recap(3, changed=2)),
    "a changed_when error keeps the command's output": ("""
        - command: echo hi
          register: said
          changed_when: nosuch_var
          ignore_errors: true
        - assert: {that: ["said is failed", "said.stdout == 'hi'"]}
        """, _recap(2, changed=1, ignored=1)),
    "command chdir to a missing directory": ("""
        - command: ls
          args: {chdir: /nonexistent/titan-ops}
          register: moved
          ignore_errors: true
        - assert: {that: ["moved is not changed", "moved.msg.startswith('Unable to change directory')"]}
        """, _recap(2, ignored=1)),
    "command expands its arguments' variables": ("""
        - command: echo $option ${option} $not_set_anywhere '$(id)' ~/x
          environment: {option: hello}
          register: echoed
        - assert:
            that: "echoed.stdout == 'hello hello $not_set_anywhere $(id) ' ~ lookup('env', 'HOME') ~ '/x'"
        """, _recap(2, changed=1)),
    "a failed module result carries exception; failed_when false keeps it apart": ("""
        - shell: exit 1
          register: failing
          ignore_errors: true
        - shell: exit 1
          register: overruled
          failed_when: false
        - shell: exit 0
          register: fine
        - assert:
            that:
              - failing.exception is defined and failing.failed_when_suppressed_exception is undefined
              - overruled.exception is undefined and overruled.failed_when_suppressed_exception is defined
              - fine.exception is undefined
        """, _recap(4, changed=3, ignored=1)),
    "set_fact keys are templated": ("""
        - set_fact:
            "{{ key_name }}": 5
        - assert: {that: "dynamic == 5"}
        """, _recap(2)),
    "module arguments given as a template": ("""
        - copy: "{{ copy_args }}"
        - stat: {path: "{{ workdir }}/from-args"}
          register: made
        - assert: {that: "made.stat.exists"}
        """, _recap(3, changed=1)),
    "template delimiters, #jinja2: header and output_encoding": ("""
        - template: {src: header.j2, dest: "{{ workdir }}/header.out"}
        - template:
            src: brackets.j2
            dest: "{{ workdir }}/brackets.out"
            comment_start_string: "[#"
            comment_end_string: "#]"
            variable_start_string: "[["
            variable_end_string: "]]"
            block_start_string: "[%"
            block_end_string: "%]"
        - template: {src: plain.j2, dest: "{{ workdir }}/plain.out", output_encoding: utf-16,
                     newline_sequence: '\\r\\n'}
        - stat: {path: "{{ workdir }}/plain.out"}
          register: plain
        - assert:
            that:
              - "lookup('file', workdir ~ '/header.out') is match('one [{]{2} kept [}]{2}$')"
              - "lookup('file', workdir ~ '/brackets.out') is match('one [{]{2} kept [}]{2} [{]# kept #[}]\\nyes$')"
              - "plain.stat.checksum == '741e16589daac1d43c6b98f98160fd928c09f9f9'"  # sha1 of 'one\\r\\n' in UTF-16
        - template: {src: no_separator.j2, dest: "{{ workdir }}/no_separator.out"}
          ignore_errors: true
          register: no_separator
        - assert: {that: "'Missing key-value separator' in no_separator.msg"}
        """, _recap(7, changed=3, ignored=1)),
    "path filters, ansible_managed set by the play, empty output_encoding": ("""
        - assert:
            that:
              - "'~' | expanduser == lookup('env', 'HOME')"
              - "'/a/b/../c' | normpath == '/a/c'"
              - "'/a/b/c' | relpath('/a') == 'b/c'"
              - "'x/y.tar.gz' | splitext | list == ['x/y.tar', '.gz']"
              - "['/a/b/c', '/a/b/d'] | commonpath == '/a/b'"
              - "'/' | realpath == '/'"
        - template: {src: managed.j2, dest: "{{ workdir }}/managed.out", output_encoding: ""}
          vars: {ansible_managed: "{{ 'set ' ~ 'by the play' }}"}
        - template: {src: managed.j2, dest: "{{ workdir }}/default.out"}
        - assert:
            that:
              - "lookup('file', workdir ~ '/managed.out') == 'set by the play'"
              - "lookup('file', workdir ~ '/default.out') == 'Ansible managed'"
        """, _recap(4, changed=2)),
    "what validation refuses fails at run time a task whose failure is handled": ("""
        - debug: msg=one
          when: "{{ greeting }} == 1"
          ignore_errors: true
        - debug: {msg: "{{ 'x' | no_such_filter }}"}
          ignore_errors: true
        - file: {path: "{{ workdir }}/x", state: bogus}
          register: bogus
          failed_when: bogus is not failed
        - block:
            - file: {path: "{{ workdir }}/x", state: bogus}
              when: false
            - file: {path: "{{ workdir }}/x", state: bogus}
          rescue:
            - assert: {that: "'bogus' in ansible_failed_result.msg"}
        - debug: msg=after
        """, _recap(5, ignored=2, skipped=1, rescued=1)),
    "role names, parent roles, a role importing itself for another file, template_* variables": ("""
        - import_role: {name: outer}
        - assert:
            that:
              - "role_names == ansible_play_role_names"
              - "'outer' in role_names and 'dep' not in role_names"
              - "ansible_dependent_role_names == ['dep']"
              - "(ansible_play_role_names + ansible_dependent_role_names) | unique | sort == ansible_role_names | sort"
        - template: {src: t.j2, dest: "{{ workdir }}/t.out"}
        - assert: {that: "lookup('file', workdir ~ '/t.out').split()[1:] == ['True', 'True']"}
        """, _recap(7, changed=1)),
    "now(): a datetime, in UTC, formatted; ansible_playbook_python": ("""
        - assert:
            that:
              - ansible_playbook_python.startswith('/') and 'python' in ansible_playbook_python
              - "[1, true] is all and [0, 'x'] is any and [0, 1] is not all and [] is not any"
              - "now() | type_debug == 'datetime'"
              - "now(utc=true).year > 2000"
              - "now(fmt='%Y') | int == now().year"
              - "now(True, '%s') | int > 1700000000"
        """, _recap(1)),
    "a loop's items see what earlier items set and registered": ("""
        - set_fact: {acc: "{{ acc | default([]) + [item] }}"}
          loop: [a, b, c]
        - command: "echo {{ item }}"
          register: r
          loop: [first, second]
          loop_control: {label: "{{ r.stdout }}"}
          when: item == 'first'
          ignore_errors: true
        - debug: {msg: "{{ item }}"}
          loop: [x, y]
          loop_control: {extended: true}
          when: (ansible_loop.previtem is undefined) == ansible_loop.first and
                (ansible_loop.nextitem is undefined) == ansible_loop.last
          register: ends
        - debug: {msg: "{{ item }}"}
          with_dict: [1]
          register: not_a_dict
          ignore_errors: true
        - assert:
            that:
              - acc == ['a', 'b', 'c']
              - r.results[0].stdout == 'first'
              - r.results[1] is skipped and 'no attribute' in r.results[1].msg and 'stdout' in r.results[1].msg
              - ends.results | select('skipped') | list == []
              - "'lookup plugin expects a dictionary' in not_a_dict.msg"
        """, _recap(5, changed=1, ignored=2)),
    "templated set_fact keys and module names, malformed key=value in a task that handles its failure": ("""
        - set_fact: "{{ key_name }}='{{ greeting }}'"
        - action: "{{ chosen }} msg='from a templated module name'"
          vars: {chosen: debug}
          register: by_text
        - action: {module: "{{ chosen }}", cmd: "echo mapped"}
          vars: {chosen: command}
          register: by_mapping
        - file: path={{ workdir }}/x {{ injected }}
          vars: {injected: "state=touch"}
          ignore_errors: true
        - action: {module: ansible.legacy.debug, args: {msg: nested args}}
          register: nested
        - assert:
            that:
              - dynamic == 'one'
              - by_text.msg == 'from a templated module name'
              - by_mapping.stdout == 'mapped'
              - nested.msg == 'nested args'
        """, _recap(6, changed=1, ignored=1)),
    "args given as a template, failures' exception and messages": ("""
        - copy:
          args: "{{ copy_args }}"
        - debug:
          args: "{{ omit }}"
          register: omitted
        - debug: {msg: "{{ 5 / 0 }}"}
          ignore_errors: true
          register: divided
        - debug: {var: {a: 1}}
          ignore_errors: true
          register: not_a_string
        - debug: {var: !unsafe greeting}
          ignore_errors: true
          register: unsafe_var
        - assert:
            that:
              - lookup('file', workdir ~ '/from-args') == 'from args'
              - omitted.msg == 'Hello world!'
              - divided is failed and 'division by zero' in divided.msg and divided.exception is defined
              - "'is not a string and conversion is not allowed' in not_a_string.msg"
              - "unsafe_var.msg is contains 'untrusted template or expression'"
        """, _recap(6, changed=1, ignored=3)),
    "environment as a list of mappings, omit left out, a block's merged below a task's": ("""
        - block:
            - command: sh -c 'echo "$IAMHERE $NOTHERE $ANOTHER $OUTER"'
              environment:
                - {NOTHERE: "{{ omit }}", IAMHERE: hello}
                - "{{ omit }}"
                - {ANOTHER: stillhere, OUTER: inner}
              register: listed
          environment: {OUTER: outer, NOTHERE: from-block}
        - assert: {that: "listed.stdout == 'hello from-block stillhere inner'"}
        """, _recap(2, changed=1)),
}

# name: {file under the case's folder: its text}, for the cases that need more than the playbook
FILES: dict[str, dict[str, str]] = {
    "role names, parent roles, a role importing itself for another file, template_* variables": {
        "roles/dep/tasks/main.yml": "- debug: msg=dep\n",
        "roles/outer/meta/main.yml": "dependencies: [dep]\n",
        "roles/outer/tasks/main.yml": "- import_role: {name: outer, tasks_from: other.yml}\n"
                                      "- include_role: {name: inner}\n",
        "roles/outer/tasks/other.yml": "- assert: {that: \"role_name == 'outer'\"}\n",
        "roles/inner/tasks/main.yml": "- assert:\n    that:\n      - \"ansible_parent_role_names == ['outer']\"\n"
                                      "      - \"ansible_parent_role_paths[0] is match('.*/roles/outer$')\"\n",
        "templates/t.j2": "{{ template_uid }} {{ template_mtime.year > 2000 }} {{ template_run_date.year > 2000 }}\n",
    },
    "path filters, ansible_managed set by the play, empty output_encoding": {
        "templates/managed.j2": "{{ ansible_managed }}\n",
    },
    "template delimiters, #jinja2: header and output_encoding": {
        "templates/header.j2": "#jinja2:variable_start_string:'<<' , variable_end_string:'>>'\n"
                               "<< greeting >> {{ kept }}\n",
        "templates/brackets.j2": "[# gone #][[ greeting ]] {{ kept }} {# kept #}\n[% if true %]yes[% endif %]\n",
        "templates/plain.j2": "{{ greeting }}\n",
        "templates/no_separator.j2": "#jinja2: lstrip_blocks=True\n{{ greeting }}\n",
    },
}

PLAY_VARS = {"deep": "{{ undefined_thing }}", "mydict": {"a": 1}, "key_name": "dynamic", "greeting": "one"}


def _playbook(tmp_path: Path, tasks: str, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    variables = {**PLAY_VARS, "copy_args": {"content": "from args\n", "dest": f"{tmp_path}/from-args"}}
    play = (f"- hosts: localhost\n  gather_facts: false\n  vars: {json.dumps(variables)}\n  tasks:\n"
            + textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ") + "\n")
    path = tmp_path / "case.yml"
    path.write_text(play)
    (tmp_path / "inventory").write_text(INVENTORY)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_titan_ops_gives_ansibles_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    playbook = _playbook(tmp_path, tasks, FILES.get(name))
    result = titan_ops.run(playbook, tmp_path / "inventory", extra_vars={"workdir": str(tmp_path)})
    failures = [(r.task, r.msg) for r in result.host_results("localhost") if r.failed and not r.ignored]
    assert titan_stats(result)["localhost"] == expected, failures


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(CASES))
def test_ansible_core_gives_the_expected_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    playbook = _playbook(tmp_path, tasks, FILES.get(name))
    record = ansible_record("-i", str(tmp_path / "inventory"), str(playbook), "-e", f"workdir={tmp_path}", timeout=120)
    assert {key: record["stats"]["localhost"][key] for key in expected} == expected, record


def test_debug_var_of_a_missing_key_says_so_without_class_names(tmp_path):
    playbook = _playbook(tmp_path, """
        - debug: {var: "mydict['c']"}
        - debug: {msg: "{{ mydict.c }}"}
          ignore_errors: true
        """)
    result = titan_ops.run(playbook, tmp_path / "inventory")
    shown, failed = result.host_results("localhost")
    assert shown.result["mydict['c']"] == "<< error 1 - object of type 'dict' has no attribute 'c' >>"  # (2.19's)
    assert "object of type 'dict' has no attribute 'c'" in failed.msg


@pytest.mark.parametrize("tasks,key", [
    ('- assert: {that: "1 is nosuchtest"}', "that"),
    ('- assert: {that: ["true", "1 | nosuchfilter"]}', "that"),
    ("- include_tasks: broken.yml", "msg"),
    ("- set_fact: {_ansible_secret: 1}", "_ansible_secret"),
])
def test_validation_rejects_before_any_host(tmp_path, tasks, key):
    (tmp_path / "broken.yml").write_text('- debug: {msg: "{{ 1 | nosuchfilter }}"}\n')
    playbook = _playbook(tmp_path, tasks)
    with pytest.raises(PlaybookError) as raised:
        titan_ops.load_playbook(playbook)
    assert raised.value.key == key


def test_include_of_an_empty_file_is_fine(tmp_path):
    (tmp_path / "empty.yml").write_text("")
    playbook = _playbook(tmp_path, "- include_tasks: empty.yml\n- debug: {msg: after}\n")
    result = titan_ops.run(playbook, tmp_path / "inventory")
    assert result.exit_code == 0


def test_a_task_skipped_in_check_mode_is_not_judged(tmp_path):
    """failed_when, changed_when and until of a command skipped by check mode are not evaluated
    (its registered result has no rc): the task is skipped, as in Ansible."""
    playbook = _playbook(tmp_path, """
        - shell: "exit 3"
          register: judged
          failed_when: judged.rc == 3
          changed_when: judged.rc == 0
        - shell: "false"
          register: retried
          until: retried.rc == 0
          delay: 0
        """)
    result = titan_ops.run(playbook, tmp_path / "inventory", check=True)
    assert titan_stats(result)["localhost"] == _recap(0, skipped=2)


COPY_DIFF = r"""
    - copy: {content: "a\nb\n", dest: "{{ workdir }}/app.conf"}
      register: made
    - copy: {content: "a\nc\n", dest: "{{ workdir }}/app.conf"}
      register: replaced
    - set_fact:
        path: "{{ workdir }}/app.conf"
    - assert:
        that:
          - "made.diff == ([{'before': '', 'after': 'a\nb\n', 'after_header': path}] if ansible_diff_mode else [])"
          - "replaced.diff == ([{'before': 'a\nb\n', 'after': 'a\nc\n', 'before_header': path,
                                 'after_header': path}] if ansible_diff_mode else [])"
    """


@pytest.mark.parametrize("diff", [False, True], ids=["without -D", "with -D"])
def test_copy_results_carry_the_diff_of_what_was_written_in_diff_mode_only(tmp_path, diff):
    """A copy result always has ``diff`` (ansible-core's ``[]`` outside diff mode); with ``-D`` and not
    in check mode it is the write's content diff (it stayed ``[]``)."""
    result = titan_ops.run(_playbook(tmp_path, COPY_DIFF), tmp_path / "inventory", diff=diff,
                           extra_vars={"workdir": str(tmp_path)})
    failures = [r.msg for r in result.host_results("localhost") if r.failed]
    assert titan_stats(result)["localhost"] == _recap(4, changed=2), failures


@pytest.mark.oracle
@pytest.mark.parametrize("diff", [False, True], ids=["without -D", "with -D"])
def test_ansible_core_gives_copys_diff_as_expected(tmp_path, diff):
    env = {**os.environ, **QUIET_ENV}
    done = subprocess.run([str(ORACLE_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory"),
                           str(_playbook(tmp_path, COPY_DIFF)), "-e", f"workdir={tmp_path}", *(["-D"] if diff else [])],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "ok=4    changed=2" in done.stdout, done.stdout[-3000:]
