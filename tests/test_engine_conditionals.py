"""A conditional must have a boolean result (ansible-core 2.19): ``when``, ``changed_when``, ``failed_when``,
``until``, ``assert``'s ``that``, a block's and an include's ``when`` and a meta task's, on local hosts.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does. A failed
conditional's message is compared by its words (ansible names where the value came from, titan-ops where the
condition is written).
"""

from __future__ import annotations

import os
import subprocess

import pytest

import titan_ops
from tests.engine_cases import Case, case_tests, write_case
from tests.oracle import QUIET_ENV, require_oracle

WORDS = ("(Conditional result [(](True|False)[)] was derived from value of type '[a-zA-Z]+'|"
         "Empty conditional expressions are not allowed|Conditional expressions must be strings|"
         "Error while evaluating conditional)")
PLAY = f"""
        - hosts: h1
          gather_facts: false
          vars:
            words: "{WORDS}"
            s_yes: "yes"
            s_hello: hello
            s_false: "false"
            s_empty: ""
            s_true: "true"
            n_one: 1
            n_zero: 0
            l_empty: []
            l_one: [1]
            nothing: null
"""
NOT_BOOLEAN = {
    "s_yes": "Conditional result (True) was derived from value of type 'str'",
    "s_hello": "Conditional result (True) was derived from value of type 'str'",
    "s_false": "Conditional result (True) was derived from value of type 'str'",
    "s_empty": "Conditional result (False) was derived from value of type 'str'",
    "n_one": "Conditional result (True) was derived from value of type 'int'",
    "n_zero": "Conditional result (False) was derived from value of type 'int'",
    "l_empty": "Conditional result (False) was derived from value of type 'list'",
    "l_one": "Conditional result (True) was derived from value of type 'list'",
    "nothing": "Conditional result (False) was derived from value of type 'NoneType'",
    "\"'hello'\"": "Conditional result (True) was derived from value of type 'str'",
    "\"{{ n_one }}\"": "Conditional result (True) was derived from value of type 'int'",
    "\"{{ nothing }}\"": "Empty conditional expressions are not allowed",
    "\"{{ '' }}\"": "Empty conditional expressions are not allowed",
    "\"\"": "Empty conditional expressions are not allowed",
    "[true, s_yes]": "Conditional result (True) was derived from value of type 'str'",
}
BOOLEAN = {"yes": ["ran", "ran"], "\"{{ true }}\"": ["ran", "ran"], "s_yes | bool": ["ran", "ran"],
           "s_false | bool": ["skipped"], "l_one | length > 0": ["ran", "ran"], "l_empty | length > 0": ["skipped"],
           "false": ["skipped"]}


def _when_tasks() -> str:
    tasks = []
    for condition in NOT_BOOLEAN:
        tasks.append(f"""
            - debug: msg=ran
              when: {condition}
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.msg | regex_search(words) }}}}"
""")
    for condition in BOOLEAN:
        tasks.append(f"""
            - debug: msg=ran
              when: {condition}
              register: r
            - debug: msg="{{{{ 'skipped' if r is skipped else r.msg }}}}"
""")
    return "".join(tasks)


CASES = {
    "when_fails_the_task_unless_its_result_is_a_boolean": Case(
        playbook=f"""{PLAY}          tasks:
{_when_tasks()}
        """,
        rc=0, recap={"h1": f"{2 * len(NOT_BOOLEAN) + 2 * len(BOOLEAN) - 3} 0 0 0 3 0 {len(NOT_BOOLEAN)}"},
        messages={"h1": [*NOT_BOOLEAN.values(), *(shown for messages in BOOLEAN.values() for shown in messages)]}),
    "every_keyword_that_is_a_conditional_needs_a_boolean": Case(
        playbook=f"""{PLAY}          tasks:
            - debug: msg=changed
              changed_when: s_yes
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.changed_when_result | regex_search(words) }}}} {{{{ r.msg }}}}"
            - debug: msg=failed
              failed_when: n_one
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.failed_when_result | regex_search(words) }}}} {{{{ r.msg }}}}"
            - debug: msg=until
              until: l_one
              retries: 1
              delay: 0
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.msg | regex_search(words) }}}}"
            - assert:
                that: [true, s_hello]
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.msg | regex_search(words) }}}}"
            - block:
                - debug: msg=in-block
              when: s_yes
              ignore_errors: true
            - include_tasks: included.yml
              when: n_zero
              ignore_errors: true
            - debug: msg=failed_when-list
              failed_when: [true, s_false]
              register: r
              ignore_errors: true
            - debug: msg="{{{{ r.failed_when_result | regex_search(words) }}}}"
            - debug: msg=booleans
              changed_when: s_yes | bool
              failed_when: n_zero | bool
              until: l_one | length > 0
              register: r
            - assert:
                that: ["s_true | bool", "l_empty | length == 0"]
            - debug: msg="{{{{ r.changed }}}}"
            - debug: msg=end
        """,
        files={"included.yml": "- debug: msg=included\n"},
        rc=0, recap={"h1": "16 1 0 0 0 0 7"},
        messages={"h1": ["Conditional result (True) was derived from value of type 'str' changed",
                         "Conditional result (True) was derived from value of type 'int' failed",
                         "Conditional result (True) was derived from value of type 'list'",
                         "Conditional result (True) was derived from value of type 'str'",
                         "Conditional result (True) was derived from value of type 'str'",
                         "booleans", "True", "end"]}),
    "a_condition_that_is_one_template_is_rendered_then_evaluated_and_constants_that_are_templates_render": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {check: "1 == 2", x: hi, conditions: [true, "x == 'hi'"]}
          tasks:
            - command: echo "1 == 1"
              register: printed
            - debug: msg=skipped
              when: "{{ check }}"
            - debug: msg=host-text
              when: "{{ printed.stdout }}"
              ignore_errors: true
              register: host_text
            - assert:
                that: ['"{{ x }}" == "hi"', "'{{ 1 + 1 }}' == 2"]
            - assert:
                that: |
                  "{{'hi'}}" == "hi"
            - assert: {that: "{{ conditions }}"}
            - debug: msg="{{ host_text.msg is search('untrusted') }}"
        """,
        rc=0, recap={"h1": "6 1 0 0 1 0 1"}, messages={"h1": ["True"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


META_CASE = Case(
    playbook=f"""{PLAY}          tasks:
            - meta: flush_handlers
              when: s_yes
              ignore_errors: true
            - debug: msg=after
        """,
    rc=1, recap={}, messages={})
META_WORDS = "Conditional result (True) was derived from value of type 'str'"


def test_a_meta_task_whose_when_is_not_boolean_stops_the_run(tmp_path):
    result = titan_ops.run(*write_case(META_CASE, tmp_path))
    assert (result.exit_code, result.stats.keys() - {"h1"}, META_WORDS in str(result.error)) == (1, set(), True)
    assert not [r for r in result.host_results("h1") if r.module == "debug"]


@pytest.mark.oracle
def test_ansible_stops_the_run_at_that_meta_task(tmp_path):
    playbook, inventory = write_case(META_CASE, tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env={**os.environ, **QUIET_ENV})
    assert (done.returncode, META_WORDS in done.stdout + done.stderr, "after" in done.stdout) == (1, True, False)


def test_a_conditional_without_a_boolean_result_names_where_it_is_written(tmp_path):
    """ansible names the value's origin; titan-ops names the key the condition is written under (file:line:column:
    key), never '<unknown>'."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - debug: {msg: a}\n      when: \"'yes'\"\n      ignore_errors: true\n"
        "    - debug: {msg: b}\n      changed_when: \"[1]\"\n      ignore_errors: true\n"
        "    - block:\n        - debug: {msg: c}\n      when: \"[2]\"\n      ignore_errors: true\n")
    result = titan_ops.run(playbook, None)
    when, changed_when, block_when = result.host_results("localhost")
    messages = [when.msg, changed_when.result["changed_when_result"], block_when.msg]
    assert [message.split(" at ", 1)[1].split(". Conditionals")[0] for message in messages] == [
        f"'{playbook}:6:7: when'", f"'{playbook}:9:7: changed_when'",
        f"'{playbook}:12:11: the when of its block'"], messages
