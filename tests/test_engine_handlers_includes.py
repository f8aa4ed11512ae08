"""Handlers and includes as ansible-core 2.19 runs them, on local hosts (no sshd): handler names, tags and
failures, notify on blocks and templated, include_tasks/import_tasks in handlers and in FQCN form, an
include's tags, when, loop_control, register and apply; and the errors found before the run.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import titan_ops
from tests.engine_cases import Case, case_tests, write_case
from tests.oracle import QUIET_ENV, require_oracle
from titan_ops.cli import main

INCLUDED = {
    "inc/empty.yml": "",
    "inc/tagged.yml": "- debug: msg=tagged-inner\n  tags: [t]\n- debug: msg=untagged-inner\n",
    "inc/flip.yml": "- set_fact: flag=false\n- debug: msg=after-flip\n",
    "inc/loop.yml": "- debug: msg=\"{{ ansible_loop_var }} {{ ansible_index_var }} {{ ansible_loop.index }}/"
                    "{{ ansible_loop.length }} {{ thing }} {{ idx }}\"\n",
    "inc/reg.yml": "- debug: msg=\"inner {{ x | default('nox') }}\"\n",
    "inc/handler.yml": "- debug: msg=from-included-handler\n",
    "inc/handlers.yml": "- name: imported handler\n  debug: msg=from-imported-handler\n",
}

PLATFORM_HANDLERS = """
- hosts: h1
  gather_facts: false
  tasks:
    - command: "true"
      notify: "{{ which }}"
    - debug: msg=after
  handlers:
    - name: unix
      include_tasks: inc/unix.yml
    - name: windows
      include_tasks: inc/windows.yml
"""
PLATFORM_FILES = {"inc/unix.yml": "- debug: msg=unix-cleanup\n", "inc/windows.yml": "- win_file: {path: x}\n"}

CASES = {
    "handler_names_first_wins_and_templated_notify": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {which: other}
          tasks:
            - command: "true"
              notify: dup
            - command: "true"
              notify: "{{ which }}"
            - command: "true"
              loop: [a, b]
              notify: "per {{ item }}"
          handlers:
            - {name: dup, debug: {msg: first-dup}}
            - {name: dup, debug: {msg: second-dup}}
            - {name: other, debug: {msg: other}}
            - {name: per a, debug: {msg: per-a}}
            - {name: "per {{ 'b' }}", debug: {msg: per-b}}
        """,
        rc=0, recap={"h1": "7 3 0 0 0 0 0"}, messages={"h1": ["first-dup", "other", "per-a", "per-b"]}),
    "handlers_under_tags_flush_when_and_rescue": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: "true"
              notify: [tagged, flushme]
              tags: [t]
            - meta: flush_handlers
              when: false
              tags: [t]
            - debug: msg=after-noflush
              tags: [t]
            - block:
                - command: "true"
                  notify: failing
                - meta: flush_handlers
                - debug: msg=not-reached
              rescue:
                - debug: msg="rescued {{ ansible_failed_task.name }}"
              tags: [t]
          handlers:
            - {name: tagged, debug: {msg: tagged-handler}, tags: [other]}
            - {name: flushme, debug: {msg: flushme}}
            - {name: failing, fail: {msg: handler-failed}}
        """,
        tags=("t",), rc=0, recap={"h1": "6 2 0 0 0 1 0"},
        messages={"h1": ["after-noflush", "tagged-handler", "flushme", "rescued failing"]}),
    "notify_on_a_block": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - block:
                - command: "true"
                - debug: msg=x
              notify: hb
          handlers:
            - {name: hb, debug: {msg: block-notified}}
        """,
        rc=0, recap={"h1": "3 1 0 0 0 0 0"}, messages={"h1": ["x", "block-notified"]}),
    "include_and_import_in_handlers": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: "true"
              notify: [inc, imported handler]
          handlers:
            - name: inc
              ansible.builtin.include_tasks:
                file: inc/handler.yml
            - import_tasks: inc/handlers.yml
        """,
        files=INCLUDED, rc=0, recap={"h1": "4 1 0 0 0 0 0"},
        messages={"h1": ["from-included-handler", "from-imported-handler"]}),
    "include_of_an_empty_file_and_its_tags": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: inc/empty.yml
            - include_tasks: inc/tagged.yml
            - include_tasks: inc/tagged.yml
              tags: [t]
            - debug: msg=end
              tags: [t]
        """,
        files=INCLUDED, rc=0, recap={"h1": "8 0 0 0 0 0 0"},
        messages={"h1": ["tagged-inner", "untagged-inner", "tagged-inner", "untagged-inner", "end"]}),
    "untagged_include_under_tags": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: inc/tagged.yml
            - include_tasks: inc/tagged.yml
              tags: [t]
            - block:
                - include_tasks: inc/tagged.yml
              tags: [bt]
        """,
        files=INCLUDED, tags=("t",), rc=0, recap={"h1": "2 0 0 0 0 0 0"}, messages={"h1": ["tagged-inner"]}),
    "include_when_is_decided_once": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact: flag=true
            - include_tasks: inc/flip.yml
              when: flag | bool
            - import_tasks: inc/flip.yml
              when: flag | bool
        """,
        files=INCLUDED, rc=0, recap={"h1": "4 0 0 0 2 0 0"}, messages={"h1": ["after-flip"]}),
    "loop_control_in_included_files_and_templated_names": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {lv: thing, iv: idx}
          tasks:
            - include_tasks: inc/loop.yml
              loop: [a, b]
              loop_control: {loop_var: "{{ lv }}", index_var: "{{ iv }}", extended: true}
            - debug: msg="{{ thing }} {{ ansible_loop_var }} {{ ansible_index_var | default('-') }} {{ ansible_loop is defined }}"
              loop: [c]
              loop_control: {loop_var: "{{ lv }}"}
        """,
        files=INCLUDED, rc=0, recap={"h1": "5 0 0 0 0 0 0"},
        messages={"h1": ["thing idx 1/2 a 0", "thing idx 2/2 b 1", "All items completed"]}),
    "include_register_args_apply_fqcn": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: inc/reg.yml
              register: included
            - debug: msg="{{ included.include }} {{ included.include_args }}"
            - include_tasks:
                file: inc/reg.yml
                apply: {tags: [applied], vars: {x: applied}}
              tags: [applied]
            - ansible.builtin.include_tasks: {file: inc/reg.yml}
            - ansible.legacy.include_tasks: inc/reg.yml
              args: {apply: {tags: [applied]}}
              tags: [applied]
        """,
        files=INCLUDED, tags=("applied",), rc=0, recap={"h1": "4 0 0 0 0 0 0"},
        messages={"h1": ["inner applied", "inner nox"]}),
    "role_handlers_include_from_handlers_then_tasks": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          roles: [r]
        """,
        files={"roles/r/tasks/main.yml": "- command: 'true'\n  notify: [beside, in tasks, imported]\n",
               "roles/r/handlers/main.yml": "- name: beside\n  include_tasks: both.yml\n"
                                            "- name: in tasks\n  include_tasks: cleanup.yml\n"
                                            "- import_tasks: imported.yml\n",
               "roles/r/handlers/both.yml": "- debug: msg=both-from-handlers\n",
               "roles/r/tasks/both.yml": "- debug: msg=both-from-tasks\n",
               "roles/r/tasks/cleanup.yml": "- debug: msg=cleanup-from-tasks\n",
               "roles/r/tasks/imported.yml": "- name: imported\n  debug: msg=imported-from-tasks\n"},
        rc=0, recap={"h1": "6 1 0 0 0 0 0"},
        messages={"h1": ["both-from-handlers", "cleanup-from-tasks", "imported-from-tasks"]}),
    "a_handler_include_of_another_platform_is_loaded_when_notified": Case(
        playbook=PLATFORM_HANDLERS, files=PLATFORM_FILES, extra_vars={"which": "unix"},
        rc=0, recap={"h1": "4 1 0 0 0 0 0"}, messages={"h1": ["after", "unix-cleanup"]}),
    "handlers_without_names_that_only_listen_are_each_a_handler": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: "true"
              notify: [first, second]
          handlers:
            - debug: msg=first-topic
              listen: first
            - debug: msg=second-topic
              listen: second
        """,
        rc=0, recap={"h1": "3 1 0 0 0 0 0"}, messages={"h1": ["first-topic", "second-topic"]}),
    "force_handlers_runs_an_included_handler_on_a_failed_host": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          force_handlers: true
          tasks:
            - command: "true"
              notify: cleanup
            - fail: msg=expected
          handlers:
            - name: cleanup
              include_tasks: inc/handler.yml
        """,
        files=INCLUDED, rc=2, recap={"h1": "3 1 0 1 0 0 0"}, messages={"h1": ["from-included-handler"]}),
    "a_plays_force_handlers_false_wins_over_the_option": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          force_handlers: false
          tasks:
            - command: "true"
              notify: cleanup
            - fail: msg=expected
          handlers:
            - {name: cleanup, debug: {msg: cleanup-ran}}
        """,
        force_handlers=True, rc=2, recap={"h1": "1 1 0 1 0 0 0"}, messages={}),
    "a_collections_role_beside_the_playbook_and_role_prefixed_topics": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          roles:
            - ns.col.r
            - plain
          tasks:
            - command: "true"
              notify: ["r : col-topic", "plain : plain-topic"]
            - meta: flush_handlers
            - command: "true"
              notify: "ns.col.r : col handler"
        """,
        files={"collections/ansible_collections/ns/col/roles/r/tasks/main.yml": "- debug: msg=in-collection\n",
               "collections/ansible_collections/ns/col/roles/r/handlers/main.yml":
                   "- name: col handler\n  debug: msg=col-handler\n  listen: col-topic\n",
               "roles/plain/handlers/main.yml": "- name: plain handler\n  debug: msg=plain-handler\n"
                                                "  listen: plain-topic\n"},
        rc=0, recap={"h1": "6 2 0 0 0 0 0"},
        messages={"h1": ["in-collection", "col-handler", "plain-handler", "col-handler"]}),
    "an_included_roles_handlers_join_when_it_runs_and_a_notify_list_names_each": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {topics: [topic, other]}
          tasks:
            - command: "true"
              notify: "{{ topics }}"
            - meta: flush_handlers
            - include_role: {name: r}
            - command: "true"
              notify: topic
          handlers:
            - {name: play handler, debug: {msg: play-handler}, listen: topic}
            - {name: other handler, debug: {msg: other-handler}, listen: other}
        """,
        files={"roles/r/handlers/main.yml": "- name: role handler\n  debug: msg=role-handler\n  listen: topic\n"},
        rc=0, recap={"h1": "7 2 0 0 0 0 0"},
        messages={"h1": ["play-handler", "other-handler", "play-handler", "role-handler"]}),
    "a_name_shared_by_sections_notifies_the_handler_loaded_last": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          roles: [r1, r2]
          handlers:
            - {name: h, debug: {msg: play-h}}
            - {name: t, debug: {msg: play-t}, listen: topic}
            - {debug: {msg: play-listener}, listen: topic}
          tasks:
            - command: "true"
              notify: [h, topic, "r1 : h"]
            - meta: flush_handlers
            - include_role: {name: r3}
        """,
        files={"roles/r1/handlers/main.yml": "- name: h\n  debug: msg=r1-h\n- name: t\n  debug: msg=r1-t\n  listen: topic\n",
               "roles/r2/handlers/main.yml": "- name: h\n  debug: msg=r2-h\n- name: t\n  debug: msg=r2-t\n  listen: topic\n",
               "roles/r3/handlers/main.yml": "- name: h\n  debug: msg=r3-h\n- name: t\n  debug: msg=r3-t\n  listen: topic\n",
               "roles/r3/tasks/main.yml": "- command: 'true'\n  notify: [h, topic]\n"},
        rc=0, recap={"h1": "10 2 0 0 0 0 0"},
        messages={"h1": ["r1-h", "play-h", "play-t", "play-listener", "play-listener", "r3-h", "r3-t"]}),
    "an_included_roles_handler_named_by_a_template": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_role: {name: r}
        """,
        files={"roles/r/tasks/main.yml": "- command: 'true'\n  notify: handler of x\n",
               "roles/r/handlers/main.yml": "- name: handler of {{ which }}\n  debug: msg=templated-name\n"},
        extra_vars={"which": "x"}, rc=0, recap={"h1": "3 1 0 0 0 0 0"}, messages={"h1": ["templated-name"]}),
    "notify_on_import_tasks_and_in_an_includes_apply": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - import_tasks: inc/change.yml
              notify: imported
            - include_tasks:
                file: inc/change.yml
                apply:
                  notify: applied
          handlers:
            - {name: imported, debug: {msg: imported-notified}}
            - {name: applied, debug: {msg: applied-notified}}
        """,
        files={"inc/change.yml": "- command: 'true'\n"},
        rc=0, recap={"h1": "5 2 0 0 0 0 0"}, messages={"h1": ["imported-notified", "applied-notified"]}),
    "an_include_role_that_fails_under_any_errors_fatal_stops_every_host": Case(
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - debug: msg=first
            - include_role: {name: no-such-role}
              when: inventory_hostname == 'h2'
            - debug: msg=never
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - debug: msg=never
        """,
        rc=2, recap={"h1": "1 0 0 0 1 0 0", "h2": "1 0 0 1 0 0 0"}, messages={"h1": ["first"], "h2": ["first"]}),
    "an_include_task_file_that_fails_under_any_errors_fatal_stops_every_host": Case(
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - debug: msg=first
            - include_tasks: no-such-file.yml
              when: inventory_hostname == 'h2'
            - debug: msg=never
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - debug: msg=never
        """,
        rc=2, recap={"h1": "1 0 0 0 1 0 0", "h2": "1 0 0 1 0 0 0"}, messages={"h1": ["first"], "h2": ["first"]}),
    "an_includes_keywords_hold_for_it_alone_and_a_run_once_fact_reaches_every_host": Case(
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - include_tasks: {file: set.yml, apply: {run_once: true}}
              run_once: true
              vars: {name: applied}
            - include_tasks: set.yml
              run_once: true
              vars: {name: not_applied}
            - debug: msg="{{ applied | default('unset') }} {{ not_applied | default('unset') }}"
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: fails.yml
              ignore_errors: true
            - debug: msg=after
        """,
        files={"set.yml": "- set_fact: {'{{ name }}': set}\n", "fails.yml": "- fail: msg=boom\n- debug: msg=never\n"},
        rc=2, recap={"h1": "6 0 0 1 0 0 0", "h2": "1 0 0 0 0 0 0"},
        messages={"h1": ["set set"], "h2": ["set unset"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


def _cli(case: Case, tmp_path, *options: str) -> int:
    playbook, inventory = write_case(case, tmp_path)
    return main(["run", "-i", str(inventory), str(playbook), *options])


MARKER_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - command: touch {marker}
"""


@pytest.mark.parametrize("handlers,message", [
    ("- {name: h, meta: flush_handlers}", r":13:17: 'meta': flush_handlers cannot be used as a handler"),
    ("- {name: other, debug: {msg: x}}", r":10:7: 'notify': the handler 'nosuch' is not in this play"),
])
def test_handler_errors_are_found_before_any_host_is_touched(handlers, message, tmp_path, capsys):
    playbook = MARKER_PLAY.format(marker=tmp_path / "marker") + textwrap.dedent(f"""
    - hosts: all
      gather_facts: false
      tasks:
        - command: "true"
          notify: nosuch
      handlers:
        {handlers}
    """)
    assert _cli(Case(playbook=playbook, rc=5, recap={}, messages={}), tmp_path) == 5
    err = capsys.readouterr().err
    assert err.startswith("ERROR! ") and message.replace("\\", "") in err, err
    assert not (tmp_path / "marker").exists()


MISSING_HANDLER_PLAY = """
- hosts: h1
  gather_facts: false
  tasks:
    - command: touch {tmp}/before
    - command: "true"
      notify: "{{{{ which }}}}"
    - include_role: {{name: notifier}}
      tags: [notifying]
    - command: touch {tmp}/after
- hosts: h1
  gather_facts: false
  tasks:
    - command: touch {tmp}/next-play
"""
MISSING_HANDLER_ROLE = {"roles/notifier/tasks/main.yml": "- command: 'true'\n  notify: handler of myvar\n"
                                                         "  tags: [notifying]\n",
                        "roles/notifier/handlers/main.yml": "- name: handler of {{ test_var }}\n  debug: msg=ran\n"}
MISSING_HANDLER_RUNS = [
    ((), "unknown", "{tmp}/playbook.yml:7:7: 'notify': the handler 'unknown' is not in this play"),
    (("--tags", "notifying"), "-", "notifier/tasks/main.yml:2:3: 'notify': the handler 'handler of myvar' is not in "
                                   "this play"),
]
"""(options, which, error): a templated notify that renders to no handler; a notify in an included role of a
handler whose templated name does not render (handlers#25 of the corpus, under --tags)."""


def _missing_handler_case(tmp_path) -> tuple[Path, Path]:
    case = Case(playbook=MISSING_HANDLER_PLAY.format(tmp=tmp_path), files=MISSING_HANDLER_ROLE, rc=1, recap={},
                messages={}, hosts={"h1": {}})
    return write_case(case, tmp_path)


@pytest.mark.parametrize("options,which,error", MISSING_HANDLER_RUNS)
def test_a_notify_of_a_missing_handler_known_at_run_time_ends_the_run(options, which, error, tmp_path, capsys):
    playbook, inventory = _missing_handler_case(tmp_path)
    code = main(["run", "-i", str(inventory), str(playbook), "-e", f"which={which}", *options])
    out = capsys.readouterr().out
    assert code == 1
    assert "ERROR! " in out and error.format(tmp=tmp_path) in out, out
    assert (tmp_path / "before").exists() == (not options)
    assert not (tmp_path / "after").exists() and not (tmp_path / "next-play").exists()
    result = titan_ops.run(playbook, inventory, extra_vars={"which": which}, tags=options[1:])
    assert result.exit_code == 1
    # the task before it (the first command, or the include under --tags) and not the notifying task's result,
    # as ansible-core reports it
    assert [r.status.value for r in result.host_results("h1")] == ["changed" if not options else "ok"]


@pytest.mark.oracle
@pytest.mark.parametrize("options,which,error", MISSING_HANDLER_RUNS)
def test_ansible_ends_the_run_at_a_notify_of_a_missing_handler(options, which, error, tmp_path):
    playbook, inventory = _missing_handler_case(tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook), "-e", f"which={which}",
                           *options], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, **QUIET_ENV})
    assert done.returncode == 1
    handler = error.split("'")[3]
    assert f"The requested handler '{handler}' was not found" in done.stderr, done.stderr
    assert (tmp_path / "before").exists() == (not options)
    assert not (tmp_path / "after").exists() and not (tmp_path / "next-play").exists()


def test_an_included_file_that_does_not_parse_ends_the_run(tmp_path, capsys):
    case = Case(playbook="""
    - hosts: all
      gather_facts: false
      tasks:
        - block:
            - include_tasks: "inc/{{ name }}.yml"
          rescue:
            - debug: msg=rescued
        - debug: msg=after
    """, rc=4, recap={}, messages={}, files={"inc/bad.yml": "- debug: msg=bad\n  foo: [\n"},
        extra_vars={"name": "bad"})
    assert _cli(case, tmp_path, "-e", "name=bad") == 4
    out = capsys.readouterr().out
    assert "ERROR! " in out and "inc/bad.yml:3:1: malformed YAML" in out
    assert "rescued" not in out and "after" not in out


def test_a_notified_handler_include_naming_no_module_here_ends_the_run(tmp_path, capsys):
    case = Case(playbook=PLATFORM_HANDLERS, files=PLATFORM_FILES, rc=4, recap={}, messages={})
    assert _cli(case, tmp_path, "-e", "which=windows") == 4  # ansible-playbook: 4, "couldn't resolve module"
    out = capsys.readouterr().out
    assert "inc/windows.yml:1:3: 'win_file': unknown module or keyword 'win_file'" in out


def test_a_missing_handler_is_a_warning_when_error_on_missing_handler_is_off(tmp_path, monkeypatch, capsys):
    case = Case(playbook="""
    - hosts: h1
      gather_facts: false
      tasks:
        - command: "true"
          notify: [nosuch, known]
        - command: "true"
          notify: "{{ 'also' + 'missing' }}"
      handlers:
        - {name: known, debug: {msg: known-ran}}
    """, rc=0, recap={}, messages={})
    playbook, inventory = write_case(case, tmp_path)
    result = titan_ops.run(playbook, inventory, error_on_missing_handler=False)
    assert result.exit_code == 0
    warned = [r.result.get("warnings") for r in result.host_results("h1")]
    assert warned[0] == ["The requested handler 'nosuch' was not found in either the main handlers list nor in the "
                         "listening handlers list"]
    assert warned[1] == ["The requested handler 'alsomissing' was not found in either the main handlers list nor "
                         "in the listening handlers list"]
    assert result.host_results("h1")[2].result.get("msg") == "known-ran"
    monkeypatch.setenv("ANSIBLE_ERROR_ON_MISSING_HANDLER", "false")
    assert main(["run", "-i", str(inventory), str(playbook)]) == 0
    assert "[WARNING]: The requested handler 'nosuch' was not found" in capsys.readouterr().out
    monkeypatch.delenv("ANSIBLE_ERROR_ON_MISSING_HANDLER")
    assert main(["run", "-i", str(inventory), str(playbook)]) == 5


NESTED_BLOCK_HANDLERS = ("- name: handler\n  block:\n    - debug: msg=in-implicit-block\n"
                         "    - block:\n        - debug: msg=nested\n")


NESTED_BLOCK_RUNS = [("import_tasks", "handlers", 5), ("include_tasks", "handlers", 5),
                     ("include_tasks", "{{ 'handlers' }}", 4)]


def _nested_block_case(how: str, name: str, code: int, tmp_path: Path) -> Case:
    return Case(playbook=f"""
    - hosts: h1
      gather_facts: false
      tasks:
        - command: touch {tmp_path}/notified
          notify: handler
      handlers:
        - name: handler
          {how}: "inc/{name}.yml"
    """, files={"inc/handlers.yml": NESTED_BLOCK_HANDLERS}, rc=code, recap={}, messages={})


@pytest.mark.parametrize("how,name,code", NESTED_BLOCK_RUNS)
def test_a_block_inside_a_block_of_handlers_is_an_error(how, name, code, tmp_path, capsys):
    """Refused before any host is touched when the file is known before the run (an include_tasks handler's
    too: its file is loaded when the handler is notified, its blocks checked before); a templated one ends
    the run when the handler is notified."""
    assert _cli(_nested_block_case(how, name, code, tmp_path), tmp_path) == code
    captured = capsys.readouterr()
    assert "inc/handlers.yml:4:7: 'block': a handler cannot be a block inside a block" in captured.out + captured.err
    assert (tmp_path / "notified").exists() == (code == 4)


@pytest.mark.oracle
@pytest.mark.parametrize("how,name,code", NESTED_BLOCK_RUNS)
def test_ansible_refuses_a_block_inside_a_block_of_handlers_when_the_handler_runs(how, name, code, tmp_path):
    """ansible-core's parser meets an included file when the handler runs: it exits 4 after the notifying
    task ran (titan-ops refuses what it can before the run, exit 5, as every bad playbook)."""
    playbook, inventory = write_case(_nested_block_case(how, name, code, tmp_path), tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env={**os.environ, **QUIET_ENV})
    assert done.returncode == 4 and "inc/handlers.yml:4:7" in done.stderr, done.stderr
    assert (tmp_path / "notified").exists() == (how == "include_tasks")
