"""Plays and batches as ansible-core 2.19 runs them, on local hosts (no sshd): templated play keywords,
the play's host lists, serial batches, any_errors_fatal, max_fail_percentage, end_play, vars_files.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests

HOST_LISTS = "all={{ ansible_play_hosts_all }} hosts={{ ansible_play_hosts }} batch={{ ansible_play_batch }}"

CASES = {
    "templated_play_keywords": Case(
        playbook="""
        - hosts: "{{ target }}"
          gather_facts: "{{ facts | default(false) }}"
          serial: "{{ batch | default(1) }}"
          strategy: "{{ how | default('linear') }}"
          max_fail_percentage: "{{ most | default(50) }}"
          tags: "{{ t }}"
          tasks:
            - debug: msg="{{ ansible_play_batch }}"
        """,
        extra_vars={"target": "web", "t": "picked"}, tags=("picked",),
        rc=0, recap={"h1": "1 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0"},
        messages={"h1": ["['h1']"], "h2": ["['h2']"]}),
    "host_lists_in_batches": Case(
        playbook=f"""
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - debug: msg="A {HOST_LISTS}"
            - fail: msg=boom
              when: inventory_hostname == 'h1'
            - debug: msg="B {HOST_LISTS}"
        """,
        rc=2, recap={"h1": "1 0 0 1 0 0 0", "h2": "2 0 0 0 1 0 0", "h3": "2 0 0 0 1 0 0"},
        messages={"h1": ["A all=['h1', 'h2', 'h3'] hosts=['h1', 'h2', 'h3'] batch=['h1', 'h2']"],
                  "h2": ["A all=['h1', 'h2', 'h3'] hosts=['h1', 'h2', 'h3'] batch=['h1', 'h2']",
                         "B all=['h1', 'h2', 'h3'] hosts=['h2', 'h3'] batch=['h2']"],
                  "h3": ["A all=['h1', 'h2', 'h3'] hosts=['h2', 'h3'] batch=['h3']",
                         "B all=['h1', 'h2', 'h3'] hosts=['h2', 'h3'] batch=['h3']"]}),
    "host_lists_in_later_plays": Case(
        playbook=f"""
        - hosts: all
          gather_facts: false
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h1'
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - debug: msg="C {HOST_LISTS}"
        - hosts: web
          gather_facts: false
          tasks:
            - debug: msg="D {HOST_LISTS}"
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "2 0 0 0 1 0 0", "h3": "1 0 0 0 1 0 0"},
        messages={"h2": ["C all=['h1', 'h2', 'h3'] hosts=['h2', 'h3'] batch=['h2']",
                         "D all=['h1', 'h2'] hosts=['h2'] batch=['h2']"],
                  "h3": ["C all=['h1', 'h2', 'h3'] hosts=['h2', 'h3'] batch=['h3']"]}),
    "serial_batch_all_failed_ends_the_playbook": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          serial: 1
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h2'
            - debug: msg=one
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=two
        """,
        rc=2, recap={"h1": "1 0 0 0 1 0 0", "h2": "0 0 0 1 0 0 0"},
        messages={"h1": ["one"]}),
    "any_errors_fatal_ends_the_playbook": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - debug: msg=first
            - fail: msg=boom
              when: inventory_hostname == 'h1'
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "1 0 0 1 0 0 0", "h2": "1 0 0 0 1 0 0", "h3": "1 0 0 0 1 0 0"},
        messages={"h1": ["first"], "h2": ["first"], "h3": ["first"]}),
    "any_errors_fatal_with_rescue": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h1'
                - debug: msg=inblock
              rescue:
                - debug: msg=rescued
              always:
                - debug: msg=always
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "4 0 0 0 0 1 0", "h2": "3 0 0 0 1 0 0", "h3": "3 0 0 0 1 0 0"},
        messages={"h1": ["rescued", "always", "after", "play2"], "h2": ["rescued", "always", "after"],
                  "h3": ["rescued", "always", "after"]}),
    "any_errors_fatal_fail_in_rescue": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h1'
              rescue:
                - debug: msg=rescued
                - fail: msg=again
                  when: inventory_hostname == 'h1'
              always:
                - debug: msg=always
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "2 0 0 1 0 1 0", "h2": "2 0 0 0 2 0 0", "h3": "2 0 0 0 2 0 0"},
        messages={"h1": ["rescued", "always"], "h2": ["rescued", "always"], "h3": ["rescued", "always"]}),
    "max_fail_percentage_counts_the_batch": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h1'
        - hosts: all
          gather_facts: false
          max_fail_percentage: 40
          tasks:
            - debug: msg=p2-start
            - fail: msg=boom2
              when: inventory_hostname == 'h2'
            - debug: msg=p2-end
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=p3
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "1 0 0 1 1 0 0", "h3": "3 0 0 0 2 0 0"},
        messages={"h2": ["p2-start"], "h3": ["p2-start", "p2-end", "p3"]}),
    "max_fail_percentage_exceeded_ends_the_playbook": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          max_fail_percentage: 30
          tasks:
            - fail: msg=boom
              when: inventory_hostname == 'h1'
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "0 0 0 0 1 0 0", "h3": "0 0 0 0 1 0 0"},
        messages={}),
    "end_play_ends_every_batch": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          serial: 1
          tasks:
            - debug: msg=before
            - meta: end_play
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0", "h3": "1 0 0 0 0 0 0"},
        messages={"h1": ["before", "play2"], "h2": ["play2"], "h3": ["play2"]}),
    "run_once_failure_fails_every_host": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - command: "true"
              run_once: true
              failed_when: true
            - debug: msg=after
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0"}, messages={}),
    "vars_files_alternatives_per_host": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          vars_files:
            - vars/common.yml
            - ["vars/{{ inventory_hostname }}.yml", vars/default.yml]
          tasks:
            - debug: msg="{{ x }} {{ y }}"
        """,
        files={"vars/common.yml": "y: 1\n", "vars/h1.yml": "x: from_h1\n", "vars/default.yml": "x: default\n"},
        rc=0, recap={"h1": "1 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0", "h3": "1 0 0 0 0 0 0"},
        messages={"h1": ["from_h1 1"], "h2": ["default 1"], "h3": ["default 1"]}),
    "ansible_host_and_lazy_inventory_variables": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg="{{ ansible_host }} {{ fine }}"
            - command: "true"
            - debug: msg="{{ broken }}"
              ignore_errors: true
        """,
        hosts={"h1": {"fine": "yes", "broken": "{{ nosuchvar }}"}},
        rc=0, recap={"h1": "3 1 0 0 0 0 1"}, messages={"h1": ["h1 yes"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)
