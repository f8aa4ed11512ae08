"""Task and templating semantics ansible-core's integration targets found different (set_fact, command,
environment, debug, template, lookups...), as whole playbooks on local hosts (no sshd).

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests

CASES = {
    "gathered_facts_are_below_play_vars_and_set_fact_above": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - setup: {gather_subset: [min]}
        - hosts: h1
          gather_facts: false
          vars: {ansible_nodename: from-play-vars}
          tasks:
            - debug: msg="{{ ansible_nodename }}"
            - set_fact: {ansible_nodename: from-set-fact}
            - debug: msg="{{ ansible_nodename }}"
            - set_fact: {cached_fact: cached, cacheable: true}
              register: cached_result
            - debug: msg="{{ cached_result.keys() | sort | join(',') }}"
            - meta: clear_facts
            - debug: msg="{{ ansible_nodename }} {{ cached_fact }}"
        """,
        rc=0, recap={"h1": "7 0 0 0 0 0 0"},
        messages={"h1": ["from-play-vars", "from-set-fact", "ansible_facts,changed,failed",
                         "from-set-fact cached"]}),
    "a_lookup_name_that_is_no_plugin_name_fails_the_task_when_it_runs": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: {msg: "{{ lookup('{{ \\"pipe\\" }}') }}"}
              register: templated_name
              ignore_errors: true
            - debug: msg="{{ 'lookup plugin' in templated_name.msg and 'not found' in templated_name.msg }}"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 1"}, messages={"h1": ["True"]}),
}

test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)
