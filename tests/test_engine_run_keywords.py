"""A task's keywords rendered for each run of it (each loop item), and what they decide: ``ignore_errors`` and
``ignore_unreachable`` per item, ``ignore_errors`` as written when a task fails before its keywords are rendered,
an unreachable host that ``meta: clear_host_errors`` brings back. Whole playbooks on local hosts (the
unreachable one is an SSH host on a closed port of 127.0.0.1, refused at once).

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests, write_case
from titan_ops.cli import main

LOCAL_AND_DOWN = {"h1": {}, "down": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                                     "ansible_user": "nobody"}}

CASES = {
    "ignore_unreachable_is_rendered_per_loop_item_and_every_unreachable_item_must_ignore": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - ping:
              ignore_unreachable: "{{ item }}"
              loop: [true, true]
              register: both
            - debug: msg="{{ both is unreachable }} {{ both.results | selectattr('unreachable', 'defined') | list | length }}"
            - ping:
              ignore_unreachable: "{{ item }}"
              loop: [true, false]
              register: second
            - meta: clear_host_errors
            - debug: msg="back {{ second is unreachable }} {{ second.results | map(attribute='item') | list }}"
            - ping:
              ignore_unreachable: "{{ item }}"
              loop: [false, true]
            - meta: clear_host_errors
            - debug: msg="h1 only, down lags behind and is lost again before this clear"
        """,
        hosts=LOCAL_AND_DOWN, rc=4,
        recap={"h1": "6 0 0 0 0 0 0", "down": "3 0 2 0 0 0 1"},
        messages={"h1": ["False 0", "back False [True, False]",
                         "h1 only, down lags behind and is lost again before this clear"],
                  "down": ["True 2", "back True [True, False]"]}),
    "ignore_errors_is_rendered_per_loop_item_and_every_failed_item_must_ignore": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - fail: msg="item {{ item }}"
              ignore_errors: "{{ item }}"
              loop: [true, true]
            - debug: msg="went on"
            - fail: msg="item {{ item }}"
              ignore_errors: "{{ item }}"
              loop: [true, false]
            - debug: msg="never"
        """,
        rc=2, recap={"h1": "2 0 0 1 0 0 1"}, messages={"h1": ["went on"]}),
    "environment_is_rendered_per_loop_item": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - shell: echo "$GREETING"
              environment: {GREETING: "hello {{ item }}"}
              loop: [a, b]
              register: greeted
            - debug: msg="{{ greeted.results | map(attribute='stdout') | list }}"
        """,
        rc=0, recap={"h1": "2 1 0 0 0 0 0"}, messages={"h1": ["['hello a', 'hello b']"]}),
    "a_keyword_that_cannot_be_rendered_does_not_fail_a_skipped_task": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg="never"
              become: "{{ nowhere }}"
              when: false
            - debug: msg="went on"
        """,
        rc=0, recap={"h1": "1 0 0 0 1 0 0"}, messages={"h1": ["went on"]}),
    "the_timeout_keyword_fails_the_task_with_ansible_result": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - shell: sleep 30
              timeout: 1
              ignore_errors: true
              register: slow
            - debug: msg="{{ slow is failed }} {{ slow.msg }} {{ slow.timedout.period }}"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 1"},
        messages={"h1": ["True Task failed: Timed out after 1 second(s). 1"]}),
    # seed 188948 of the random differential: a task that fails before its keywords are rendered (its when, its
    # loop, a keyword ansible renders before ignore_errors, its delegate_to or connection settings) goes by
    # ignore_errors as written: "{{ false }}" ignores
    "a_task_that_fails_before_its_keywords_are_rendered_goes_by_ignore_errors_as_written": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg="never"
              when: nosuchvar
              ignore_errors: "{{ false }}"
            - debug: msg="{{ item }}"
              loop: "{{ nosuchlist }}"
              ignore_errors: "{{ false }}"
            - debug: msg="{{ item }}"
              loop: [1, 2]
              when: item == nosuchvar
              ignore_errors: "{{ false }}"
            - block:
                - debug: msg="never"
                  when: nosuchvar
              ignore_errors: "{{ false }}"
            - block:
                - debug: msg="never"
                  ignore_errors: "{{ false }}"
              when: nosuchvar
            - debug: msg="never"
              when: nosuchvar
              ignore_errors: "no"
            - command: "true"
              become_user: "{{ nosuchuser }}"
              ignore_errors: "{{ false }}"
            - command: "true"
              environment: "{{ nosuchenv }}"
              ignore_errors: "{{ false }}"
            - command: "true"
              delegate_to: "{{ nosuchhost }}"
              ignore_errors: "{{ false }}"
            - command: "true"
              vars: {ansible_user: "{{ nosuchuser }}"}
              ignore_errors: "{{ false }}"
            - debug: msg="went on"
        """,
        hosts={"h1": {}}, rc=0, recap={"h1": "11 0 0 0 0 0 10"}, messages={"h1": ["went on"]}),
    "ignore_errors_is_rendered_once_the_keywords_render": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - fail: msg="the module fails"
              when: inventory_hostname == 'h1'
              ignore_errors: "{{ false }}"
            - command: "true"
              timeout: "{{ nosuchtimeout }}"
              when: inventory_hostname == 'h2'
              ignore_errors: "{{ false }}"
            - debug: msg="never"
              when: inventory_hostname == 'h3' and nosuchvar
              ignore_errors: ""
            - debug: msg="never"
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "0 0 0 1 1 0 0", "h3": "0 0 0 1 2 0 0"}, messages={}),
}

test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


def test_no_log_hides_the_items_of_a_loop_that_never_ran(tmp_path, capsys):
    """The items' keywords are rendered only for the items that run: a task whose every item is skipped still
    hides them under its own ``no_log`` (ansible-core censors them too)."""
    case = Case(playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg=never
              loop: [hidden-item-one, hidden-item-two]
              when: false
              no_log: true
        """, rc=0, recap={}, messages={})
    playbook, inventory = write_case(case, tmp_path)
    assert main(["run", str(playbook), "-i", str(inventory), "-v", "--output-json", str(tmp_path / "run.json")]) == 0
    written = capsys.readouterr().out + (tmp_path / "run.json").read_text()
    assert "censored" in written
    assert "hidden-item" not in written


def test_an_item_that_fails_without_a_run_of_its_own_is_ignored_only_by_the_tasks_ignore_errors(tmp_path):
    """An item ``when`` skipped whose label cannot be rendered fails the task: no run of it said to ignore
    that, so the task's own ``ignore_errors`` decides (titan-ops ignored it for want of a failed run)."""
    case = Case(playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg=hi
              loop: [1, 2]
              when: item == 1
              loop_control: {label: "{{ item if item == 1 else not_defined_anywhere }}"}
        """, rc=2, recap={}, messages={})
    playbook, inventory = write_case(case, tmp_path)
    assert main(["run", str(playbook), "-i", str(inventory)]) == 2
