"""What the random differential (tests/test_differential_random.py) found titan-ops doing unlike ansible-core
2.19, each reduced to a small case on local hosts (no sshd) that names the seed that found it.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import pytest

from tests.engine_cases import Case, ansible_outcome, titan_outcome

ONE_HOST = {"h1": {}}

CASES = {
    # seed 351485: a rescue that never ran registered nothing, and `reg.rc | default(0)` is 0.
    "attribute_of_an_undefined_variable_is_undefined": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          vars:
            known: {a: 1}
          tasks:
            - block:
                - debug: msg=skipped
                  when: false
              rescue:
                - command: "false"
                  register: never
            - debug: msg="rc {{ never.rc | default(0) }} {{ never['rc'].x | default(1) }}"
            - debug: msg=when
              when: never.rc | default(0) == 0
            - debug: msg="{{ never.rc is defined }} {{ known.b.c is defined }} {{ known.b.c | default(3) }}"
            - debug: msg="{{ never.rc == 0 }}"
              ignore_errors: true
            - debug: msg="{{ known.b.c == 0 }}"
              ignore_errors: true
            - debug: msg=failed
              when: never is failed
              ignore_errors: true
        """,
        hosts=ONE_HOST,
        rc=0, recap={"h1": "6 0 0 0 1 0 3"},
        messages={"h1": ["rc 0 1", "when", "False False 3"]}),
    # seed 355796: under the free strategy a play's max_fail_percentage (and any_errors_fatal, which ansible
    # warns about) stops no host and not the playbook.
    "free_strategy_uses_no_max_fail_percentage_nor_any_errors_fatal": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          strategy: free
          max_fail_percentage: 0
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h1'
            - debug: msg=one
        - hosts: all
          gather_facts: false
          strategy: free
          any_errors_fatal: true
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h2'
            - debug: msg=two
            - block:
                - fail: msg=boom
                  run_once: true
                  when: inventory_hostname == 'h3'
              any_errors_fatal: true
            - debug: msg=three
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=four
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "1 0 0 1 1 0 0", "h3": "2 0 0 1 2 0 0"},
        messages={"h2": ["one"], "h3": ["one", "two"]}),
}


@pytest.mark.parametrize("name", CASES)
def test_titan_ops_runs_it_as_ansible(name, tmp_path):
    case = CASES[name]
    assert titan_outcome(case, tmp_path) == (case.rc, case.recap, case.messages)


@pytest.mark.oracle
@pytest.mark.parametrize("name", CASES)
def test_ansible_gives_the_same(name, tmp_path):
    case = CASES[name]
    assert ansible_outcome(case, tmp_path) == (case.rc, case.recap, case.messages)
