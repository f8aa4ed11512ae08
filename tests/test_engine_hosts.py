"""Multi-host play semantics as ansible-core 2.19 runs them, on local hosts (no sshd): a failing ``run_once``
task inside blocks, ``meta: clear_host_errors`` in an ``always`` and ``clear_facts`` (decided on the first host, for all), hosts that ``any_errors_fatal`` stopped and a
``rescue`` caught; ``delegate_to`` per loop item with ``delegate_facts`` and ``ansible_delegated_vars``;
``hostvars`` rendered in their own host, and ``vars``; ``refresh_inventory`` taking a host out of the play; the ``host_pinned`` strategy (the order it runs hosts in: test_engine_strategies).

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import titan_ops
from tests.engine_cases import ORACLE_PYTHON, Case, case_tests, write_case

CASES = {
    "clear_host_errors_in_always": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - block:
                    - fail: msg=boom
                      when: inventory_hostname != 'h3'
                  always:
                    - debug: msg="inner always {{ ansible_play_hosts }}"
                - debug: msg="rest of the block"
              always:
                - meta: clear_host_errors
                  when: inventory_hostname == 'h1'
                - debug: msg="after clearing {{ ansible_play_hosts }}"
            - debug: msg="after the block"
            - fail: msg=boom
              when: inventory_hostname == 'h2'
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h3'
              always:
                - meta: clear_host_errors
            - debug: msg="last"
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg="next play"
        """,
        rc=0, recap={"h1": "5 0 0 1 2 0 0", "h2": "4 0 0 2 0 0 0", "h3": "6 0 0 1 2 0 0"},
        messages={"h1": ["inner always ['h3']", "after clearing ['h3']", "after the block", "last", "next play"],
                  "h2": ["inner always ['h3']", "after clearing ['h3']", "after the block", "next play"],
                  "h3": ["inner always ['h3']", "rest of the block", "after clearing ['h3']", "after the block",
                         "last", "next play"]}),
    "clear_host_errors_decided_on_first_host": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
              always:
                - meta: clear_host_errors
                  when: inventory_hostname == 'h2'
            - debug: msg="after"
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "0 0 0 1 0 0 0", "h3": "0 0 0 1 0 0 0"},
        messages={}),
    "clear_facts_decided_on_first_host": Case(
        playbook="""
        - hosts: all
          gather_facts: true
          tasks:
            - meta: clear_facts
              when: inventory_hostname == 'h2'
            - debug: msg="{{ ansible_hostname is defined }}"
            - meta: clear_facts
              when: inventory_hostname == 'h1'
            - debug: msg="{{ ansible_hostname is defined }}"
        """,
        rc=0, recap={"h1": "3 0 0 0 0 0 0", "h2": "3 0 0 0 0 0 0", "h3": "3 0 0 0 0 0 0"},
        messages={"h1": ["True", "False"], "h2": ["True", "False"], "h3": ["True", "False"]}),
    "run_once_failing_in_a_block": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
                  run_once: true
              always:
                - debug: msg="always {{ ansible_play_hosts }}"
            - debug: msg="after"
        """,
        rc=2, recap={"h1": "1 0 0 1 0 0 0"},
        messages={"h1": ["always []"]}),
    "run_once_failing_in_a_block_with_rescue": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
                  run_once: true
              rescue:
                - debug: msg="rescue"
              always:
                - debug: msg="always {{ ansible_play_hosts }}"
            - debug: msg="after"
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg="next play"
        """,
        rc=2, recap={"h1": "4 0 0 0 0 1 0", "h2": "1 0 0 0 0 0 0", "h3": "1 0 0 0 0 0 0"},
        messages={"h1": ["rescue", "always ['h1']", "after", "next play"], "h2": ["always ['h1']"],
                  "h3": ["always ['h1']"]}),
    "run_once_failing_in_a_nested_block": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - block:
                    - fail: msg=boom
                      run_once: true
                  always:
                    - debug: msg="inner always"
              rescue:
                - debug: msg="rescue"
              always:
                - debug: msg="always"
            - debug: msg="after"
        """,
        rc=0, recap={"h1": "4 0 0 0 0 1 0", "h2": "3 0 0 0 0 0 0", "h3": "3 0 0 0 0 0 0"},
        messages={"h1": ["inner always", "rescue", "always", "after"], "h2": ["rescue", "always", "after"],
                  "h3": ["rescue", "always", "after"]}),
    "run_once_failing_in_a_rescue": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
              rescue:
                - debug: msg="rescue"
                - fail: msg=boom
                  run_once: true
              always:
                - debug: msg="always"
            - debug: msg="after"
        """,
        rc=2, recap={"h1": "2 0 0 1 0 1 0", "h2": "1 0 0 0 0 1 0", "h3": "1 0 0 0 0 1 0"},
        messages={"h1": ["rescue", "always"], "h2": ["rescue"], "h3": ["rescue"]}),
    "run_once_failing_in_an_include": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - include_tasks: fails.yml
              rescue:
                - debug: msg="rescue"
            - debug: msg="after"
        """,
        files={"fails.yml": """
            - debug: msg="included"
            - fail: msg=boom
              run_once: true
            """},
        rc=0, recap={"h1": "4 0 0 0 0 1 0", "h2": "4 0 0 0 0 0 0", "h3": "4 0 0 0 0 0 0"},
        messages={"h1": ["included", "rescue", "after"], "h2": ["included", "rescue", "after"],
                  "h3": ["included", "rescue", "after"]}),
    "any_errors_fatal_rescued_hosts_fail_once_a_later_play_runs": Case(
        playbook="""
        - hosts: web
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h2'
                  any_errors_fatal: true
              rescue:
                - debug: msg="rescue"
            - debug: msg="after"
        - hosts: h3
          gather_facts: false
          tasks:
            - debug: msg="next play"
        """,
        rc=2, recap={"h1": "2 0 0 0 1 0 0", "h2": "2 0 0 0 0 1 0", "h3": "1 0 0 0 0 0 0"},
        messages={"h1": ["rescue", "after"], "h2": ["rescue", "after"], "h3": ["next play"]}),
    "any_errors_fatal_rescued_hosts_in_the_last_play": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h2'
                  any_errors_fatal: true
              rescue:
                - debug: msg="rescue"
            - debug: msg="after"
        """,
        rc=0, recap={"h1": "2 0 0 0 1 0 0", "h2": "2 0 0 0 0 1 0", "h3": "2 0 0 0 1 0 0"},
        messages={"h1": ["rescue", "after"], "h2": ["rescue", "after"], "h3": ["rescue", "after"]}),
    "host_pinned_runs_every_host_on_its_own": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          strategy: host_pinned
          any_errors_fatal: true
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h2'
            - debug: msg="after"
            - meta: end_host
              when: inventory_hostname == 'h3'
            - debug: msg="last"
        """,
        rc=2, recap={"h1": "2 0 0 0 1 0 0", "h2": "0 0 0 1 0 0 0", "h3": "1 0 0 0 1 0 0"},
        messages={"h1": ["after", "last"], "h3": ["after"]}),
    "delegate_facts_to_the_delegated_host": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact: {direct: 1}
              delegate_to: h2
              delegate_facts: true
            - block:
                - set_fact: {inherited: 2}
              delegate_to: h3
              delegate_facts: true
            - set_fact: {kept: 3}
              delegate_to: h2
            - debug: msg="{{ direct is defined }} {{ inherited is defined }} {{ kept }}"
            - debug: msg="{{ hostvars['h2']['direct'] }} {{ hostvars['h3']['inherited'] }}
                {{ hostvars['h2']['kept'] | default('none') }}"
        """,
        rc=0, recap={"h1": "5 0 0 0 0 0 0"},
        messages={"h1": ["False False 3", "1 2 none"]}),
    "delegate_to_each_loop_item": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact:
                owner: "{{ item }}"
              delegate_to: "{{ item }}"
              delegate_facts: true
              loop: [h2, h3]
            - debug: msg="{{ hostvars['h2']['owner'] }} {{ hostvars['h3']['owner'] }} {{ owner is defined }}"
            - assert:
                that: item in ansible_delegated_vars
              delegate_to: "{{ item }}"
              loop: [h2, h3]
            - debug: msg="{{ ansible_delegated_vars['h2']['inventory_hostname'] }}
                {{ ansible_delegated_vars['h2']['role'] }}"
              delegate_to: h2
              vars:
                role: task
        """,
        rc=0, recap={"h1": "4 0 0 0 0 0 0"},
        messages={"h1": ["h2 h3 False", "h1 task"]}),
    "hostvars_render_in_their_own_host": Case(
        hosts={"h1": {}, "h2": {"address": "127.0.0.2", "ansible_host": "{{ address }}"}},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg="{{ hostvars['h2']['ansible_host'] }} {{ 'address' in hostvars['h2'] }}
                {{ 'nothing' in hostvars['localhost'] }}"
            - debug: msg="{{ vars['inventory_hostname'] }} {{ vars['server'] }}"
              vars:
                server: "{{ inventory_hostname }}-server"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 0"},
        messages={"h1": ["127.0.0.2 True False", "h1 h1-server"]}),
    "hostvars_answer_to_every_name_of_the_local_machine": Case(
        hosts={"h1": {}},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact: {made: 1}
              delegate_to: 127.0.0.1
              delegate_facts: true
            - debug: msg="{{ hostvars['127.0.0.1']['made'] }} {{ hostvars['::1']['made'] }}
                {{ hostvars['localhost']['made'] }} {{ hostvars['h1']['made'] | default('unset') }}
                {{ '127.0.0.1' in hostvars }} {{ '::1' in hostvars }} {{ 'localhost' in hostvars }}
                {{ 'h9' in hostvars }}"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 0"},
        messages={"h1": ["1 1 1 unset True True True False"]}),
    "hostvars_hold_each_hosts_magic_variables": Case(
        hosts={"h1": {}, "h2.example": {}},
        playbook="""
        - hosts: h1
          gather_facts: false
          vars:
            mine: 1
          tasks:
            - debug: msg="{{ hostvars['h2.example']['inventory_hostname'] }}
                {{ hostvars['h2.example']['inventory_hostname_short'] }} {{ hostvars['h2.example']['group_names'] }}
                {{ hostvars['h2.example']['ansible_facts'] }} {{ ansible_facts }} {{ 'groups' in hostvars['h1'] }}
                {{ 'hostvars' in hostvars['h1'] }} {{ hostvars['h2.example']['mine'] | default('not a play var') }}"
            - set_fact: {learned: 1}
              delegate_to: h2.example
              delegate_facts: true
            - debug: msg="{{ hostvars['h2.example']['learned'] }} {{ hostvars['h2.example']['ansible_facts'] }}"
        """,
        rc=0, recap={"h1": "3 0 0 0 0 0 0"},
        messages={"h1": ["h2.example h2 ['ungrouped'] {} {} True False not a play var", "1 {}"]}),
    "delegated_vars_of_an_address_hold_what_was_learned_of_it": Case(
        hosts={"h1": {}}, files={"extra.yml": "loaded: 7\n"},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_vars: extra.yml
              delegate_to: 127.0.0.2
              delegate_facts: true
            - debug: msg="{{ ansible_delegated_vars['127.0.0.2']['loaded'] | default('none') }}"
              delegate_to: 127.0.0.2
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 0"},
        messages={"h1": ["7"]}),
    "local_names_that_are_inventory_hosts_keep_their_own_facts": Case(
        hosts={"localhost": {}, "127.0.0.1": {}},
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - set_fact: {me: "{{ inventory_hostname }}"}
            - debug: msg="{{ hostvars['localhost']['me'] }} {{ hostvars['127.0.0.1']['me'] }} {{ hostvars['::1']['me'] }}"
              run_once: true
        """,
        rc=0, recap={"127.0.0.1": "2 0 0 0 0 0 0", "localhost": "1 0 0 0 0 0 0"},
        messages={"127.0.0.1": ["localhost 127.0.0.1 127.0.0.1"]}),
    "refresh_inventory_without_a_host": Case(
        files={"smaller.yml": f"""
            all:
              hosts:
                h2: {{ansible_connection: local, ansible_python_interpreter: {ORACLE_PYTHON}}}
                h3: {{ansible_connection: local, ansible_python_interpreter: {ORACLE_PYTHON}}}
            """},
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - group_by: {key: "by_{{ inventory_hostname }}"}
            - copy: {src: smaller.yml, dest: "{{ playbook_dir }}/inventory.yml"}
              delegate_to: localhost
              run_once: true
            - meta: refresh_inventory
            - debug: msg="{{ ansible_play_hosts }} {{ groups | dict2items | map(attribute='key') | sort }}"
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg="next play"
        """,
        rc=0, recap={"h1": "2 2 0 0 0 0 0", "h2": "3 1 0 0 0 0 0", "h3": "3 1 0 0 0 0 0"},
        messages={"h2": ["['h2', 'h3'] ['all', 'by_h2', 'by_h3', 'ungrouped']", "next play"],
                  "h3": ["['h2', 'h3'] ['all', 'by_h2', 'by_h3', 'ungrouped']", "next play"]}),
}

test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


def test_a_meta_task_skipped_by_its_condition_is_reported_not_counted(tmp_path):
    """As ansible-core: ``skipping: [h1]`` for a meta task whose ``when`` is false on a host it decides on
    (every host for ``end_host``, the first for ``end_play``), and no ``skipped`` in the recap."""
    case = Case(playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - meta: end_host
              when: inventory_hostname == 'h2'
            - meta: end_play
              when: inventory_hostname == 'h3'
            - debug: msg=after
        """, rc=0, recap={}, messages={})
    playbook, inventory = write_case(case, tmp_path)
    result = titan_ops.run(playbook, inventory)
    skipped = sorted((r.host, r.result["msg"]) for play in result.plays for results in play.tasks.values()
                     for r in results if r.module == "meta")
    assert skipped == [("h1", "end_host"), ("h1", "end_play"), ("h3", "end_host")]
    assert {host: (stats.ok, stats.skipped) for host, stats in result.stats.items()} == {"h1": (1, 0), "h3": (1, 0)}
