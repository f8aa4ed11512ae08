"""What the random differential (tests/test_differential_random.py) found titan-ops doing unlike ansible-core
2.19, each reduced to a small case on local hosts (no sshd) that names the seed that found it.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import os
import subprocess

import pytest

import titan_ops
from tests.engine_cases import Case, case_tests, write_case
from tests.oracle import QUIET_ENV, require_oracle

ONE_HOST = {"h1": {}}

ROLE_WITH_HANDLER = {"roles/r/tasks/main.yml": "- {debug: {msg: 'task {{ w }}'}, changed_when: true, notify: rh}",
                     "roles/r/handlers/main.yml": "- {name: rh, debug: {msg: 'handler {{ w }}'}}",
                     "roles/r/defaults/main.yml": "w: default"}

HANDLER_ROLES = {f"roles/{name}/{folder}/main.yml": text.format(name=name) for name in "qrs" for folder, text in (
    ("tasks", "- {{debug: {{msg: 'task {name}'}}, changed_when: true, notify: {name}h}}"),
    ("handlers", "- {{name: {name}h, debug: {{msg: 'handler {name}'}}}}"))}

CASES = {
    # seed 89880: ansible-core asks a failed task's ignore_errors as written whether any_errors_fatal stops the
    # other hosts; a templated one (true for h2 only) keeps h2 going while h1 and h3 fail.
    "templated_ignore_errors_keeps_any_errors_fatal_from_stopping_the_others": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - command: "false"
              ignore_errors: "{{ inventory_hostname == 'h2' }}"
            - debug: msg=after
        """,
        rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "2 1 0 0 0 0 1", "h3": "0 0 0 1 0 0 0"},
        messages={"h2": ["after"]}),
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
    # seed 514259: handlers notified before meta end_play or end_batch do not run, force_handlers or not.
    "no_handler_runs_after_end_play_or_end_batch": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg=a
              changed_when: true
              notify: h
            - meta: end_play
          handlers:
            - name: h
              debug: msg=handler-play1
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: msg=b
              changed_when: true
              notify: h
            - block:
                - block:
                    - meta: end_play
                      when: true
          handlers:
            - name: h
              debug: msg=handler-play2
        - hosts: all
          gather_facts: false
          serial: 1
          tasks:
            - debug: msg=c
              changed_when: true
              notify: h
            - meta: end_batch
              when: inventory_hostname == 'h1'
            - meta: end_host
              when: inventory_hostname == 'h2'
          post_tasks:
            - debug: msg=post
          handlers:
            - name: h
              debug: msg=handler-play3
        - hosts: h1
          gather_facts: false
          force_handlers: true
          tasks:
            - debug: msg=a
              changed_when: true
              notify: h
            - meta: end_play
          handlers:
            - name: h
              debug: msg=handler-play1
        - hosts: all
          gather_facts: false
          serial: 2
          force_handlers: true
          tasks:
            - debug: msg=c
              changed_when: true
              notify: h
            - meta: end_batch
          handlers:
            - name: h
              debug: msg=handler-play2
        """,
        rc=0, recap={"h1": "5 5 0 0 0 0 0", "h2": "2 2 0 0 0 0 0", "h3": "4 2 0 0 0 0 0"},
        messages={"h1": ["a", "b", "c", "a", "c"], "h2": ["c", "c"], "h3": ["c", "handler-play3", "post", "c"]}),
    # with the crash below: the condition of a meta noop is not even evaluated.
    "meta_noop_condition_is_not_evaluated": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - meta: noop
              when: nope is failed
            - debug: msg=after
        """,
        hosts=ONE_HOST, rc=0, recap={"h1": "1 0 0 0 0 0 0"}, messages={"h1": ["after"]}),
    # seed 968274: meta end_host is decided host by host, and a host it ends leaves ansible_play_hosts and
    # ansible_play_batch at once (the next host's condition sees that), until the batch ends.
    "end_host_leaves_the_host_lists_of_its_batch": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - meta: end_host
              when: ansible_play_batch | length > 1
            - debug: msg="{{ ansible_play_hosts }} {{ ansible_play_batch }}"
        - hosts: all
          gather_facts: false
          tasks:
            - meta: end_host
              when: inventory_hostname == 'h2'
            - debug: msg="{{ ansible_play_hosts_all }} {{ ansible_play_hosts }} {{ ansible_play_batch }}"
        """,
        rc=0, recap={"h1": "1 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0", "h3": "2 0 0 0 0 0 0"},
        messages={"h1": ["['h1', 'h2', 'h3'] ['h1', 'h3'] ['h1', 'h3']"], "h2": ["['h2', 'h3'] ['h2']"],
                  "h3": ["['h1', 'h2', 'h3'] ['h3']", "['h1', 'h2', 'h3'] ['h1', 'h3'] ['h1', 'h3']"]}),
    # seed 922426: a rescue whose every task --tags leaves out is no rescue: the failure stands; one task of it
    # left in (in a nested block too) rescues.
    "a_rescue_the_tags_leave_empty_rescues_nothing": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - fail: msg=one
                  when: inventory_hostname == 'h1'
                  tags: [red]
              rescue:
                - debug: msg=rescue-untagged
            - block:
                - fail: msg=two
                  when: inventory_hostname == 'h2'
                  tags: [red]
              rescue:
                - block:
                    - debug: msg=rescue-red
                      tags: [red]
            - debug: msg=end
              tags: [red]
        """,
        tags=("red",), rc=2, recap={"h1": "0 0 0 1 0 0 0", "h2": "2 0 0 0 1 1 0", "h3": "1 0 0 0 2 0 0"},
        messages={"h2": ["rescue-red", "end"], "h3": ["end"]}),
    # seed 26455 (generator with roles): the handler of an include_role sees its role's defaults and variables.
    "an_included_roles_handler_sees_its_role_variables": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - include_role: {name: r}
        """,
        files={"roles/r/tasks/main.yml": "- {debug: {msg: task}, changed_when: true, notify: rh}",
               "roles/r/handlers/main.yml": "- {name: rh, debug: {msg: 'handler {{ r_default }} {{ r_var }}'}}",
               "roles/r/defaults/main.yml": "r_default: d",
               "roles/r/vars/main.yml": "r_var: v"},
        hosts=ONE_HOST, rc=0, recap={"h1": "3 1 0 0 0 0 0"}, messages={"h1": ["task", "handler d v"]}),
    # seed 338904: a role's handler sees the variables around where the role was included last (the include's
    # vars, its blocks' vars) ...
    "an_included_roles_handler_sees_the_variables_of_the_include": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - {include_role: {name: r}, vars: {w: one}}
            - meta: flush_handlers
            - block:
                - include_role: {name: r}
              vars: {w: block}
        """,
        files=ROLE_WITH_HANDLER, hosts=ONE_HOST, rc=0, recap={"h1": "6 2 0 0 0 0 0"},
        messages={"h1": ["task one", "handler one", "task block", "handler block"]}),
    # ... and, for a role the play holds (roles:, import_role), around where it is placed last in the play,
    # whatever ran.
    "a_held_roles_handler_sees_the_variables_around_its_last_place": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - {import_role: {name: r}, vars: {w: one}}
            - meta: flush_handlers
            - {import_role: {name: r}, vars: {w: two}}
        """,
        files=ROLE_WITH_HANDLER, hosts=ONE_HOST, rc=0, recap={"h1": "4 2 0 0 0 0 0"},
        messages={"h1": ["task one", "handler two", "task two", "handler two"]}),
    # seed 953796: the handlers of the roles a play imports come after the play's own, in the order ansible-core
    # loads the sections (pre_tasks, post_tasks, tasks); those of its roles: entries before them ...
    "imported_roles_handlers_run_after_the_plays_own": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          roles: [q]
          tasks:
            - import_role: {name: s}
            - {debug: {msg: notify}, changed_when: true, notify: [rh, ph]}
          post_tasks:
            - import_role: {name: r}
          handlers:
            - {name: ph, debug: {msg: handler play}}
        """,
        files=HANDLER_ROLES, hosts=ONE_HOST, rc=0, recap={"h1": "9 4 0 0 0 0 0"},
        messages={"h1": ["task q", "task s", "notify", "handler q", "handler play", "handler r", "handler s",
                         "task r", "handler r"]}),
    # ... and a handler of an imported role keeps the import's conditions: never run here.
    "an_imported_roles_handler_keeps_the_imports_condition": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          pre_tasks:
            - {import_role: {name: r}, when: false}
          tasks:
            - {debug: {msg: notify}, changed_when: true, notify: rh}
        """,
        files=HANDLER_ROLES, hosts=ONE_HOST, rc=0, recap={"h1": "1 1 0 0 2 0 0"}, messages={"h1": ["notify"]}),
    # seed 325350 (generator of e34b4ba): max_fail_percentage counts a failed host only once nothing is left for
    # it to run. With force_handlers, h1 (a handler notified) goes to the flush first and is not counted, h2 is:
    # 1 of 2 > 34%. ansible-core then fails every host at the flush, before its handlers: the handler never runs.
    "max_fail_percentage_stops_the_forced_handlers": Case(
        playbook="""
        - hosts: h1:h2
          gather_facts: false
          force_handlers: true
          max_fail_percentage: 34
          tasks:
            - debug: msg=notify
              changed_when: inventory_hostname == 'h1'
              notify: h
            - fail: msg=boom
            - debug: msg=after
          handlers:
            - name: h
              debug: msg=handler
        """,
        rc=2, recap={"h1": "1 1 0 1 0 0 0", "h2": "1 0 0 1 0 0 0"}, messages={"h1": ["notify"], "h2": ["notify"]}),
    # ... and a host that failed with a handler still to force is not counted at all in its batch (its handler
    # runs at the flush): h2's failure alone is 1 of 3, under 34%, so h3 goes on into the next play.
    "a_host_failed_into_a_forced_flush_is_not_counted_by_max_fail_percentage": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          force_handlers: true
          max_fail_percentage: 34
          tasks:
            - debug: msg=notify
              changed_when: inventory_hostname == 'h1'
              notify: h
            - fail: msg=boom
              when: inventory_hostname == 'h1'
            - debug: msg=after
          post_tasks:
            - fail: msg=boom2
              when: inventory_hostname == 'h2'
            - debug: msg=post
          handlers:
            - name: h
              debug: msg=handler
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "2 1 0 1 0 0 0", "h2": "2 0 0 1 1 0 0", "h3": "4 0 0 0 2 0 0"},
        messages={"h1": ["notify", "handler"], "h2": ["notify", "after"], "h3": ["notify", "after", "post", "play2"]}),
    # Found with the cases above: a host that fails into an always that then succeeds is never counted against
    # max_fail_percentage in its batch (ansible-core counts a host when a failure leaves it nothing to run); it sits
    # out the later plays.
    "a_host_failed_into_an_always_is_not_counted_by_max_fail_percentage": Case(
        playbook="""
        - hosts: all
          gather_facts: false
          max_fail_percentage: 0
          tasks:
            - block:
                - fail: msg=boom
                  when: inventory_hostname == 'h1'
                - debug: msg=body
              always:
                - debug: msg=always
            - debug: msg=after
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=play2
        """,
        rc=2, recap={"h1": "1 0 0 1 0 0 0", "h2": "4 0 0 0 1 0 0", "h3": "4 0 0 0 1 0 0"},
        messages={"h1": ["always"], "h2": ["body", "always", "after", "play2"],
                  "h3": ["body", "always", "after", "play2"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


# The random differential's bulk run found a traceback out of titan_ops.run: the condition of a meta task that ends or
# flushes cannot be evaluated. ansible-playbook stops the run there, with no recap, and exits 1.
META_CONDITION_STOPS = """
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=before
    - meta: {action}
      when: nope is failed
    - debug: msg=after
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=play2
"""
STOPPING_META = ("end_host", "end_batch", "end_play", "flush_handlers")


@pytest.mark.parametrize("action", STOPPING_META)
def test_an_error_in_a_meta_condition_stops_the_run(action, tmp_path):
    playbook, inventory = write_case(Case(META_CONDITION_STOPS.format(action=action), 1, {}, {}), tmp_path)
    result = titan_ops.run(playbook, inventory)
    assert result.exit_code == 1
    assert "'nope' is undefined" in result.error
    messages = [r.result.get("msg") for host in result.stats for r in result.host_results(host) if r.module == "debug"]
    assert messages == ["before"] * 3


@pytest.mark.oracle
@pytest.mark.parametrize("action", STOPPING_META)
def test_ansible_stops_the_run_too(action, tmp_path):
    playbook, inventory = write_case(Case(META_CONDITION_STOPS.format(action=action), 1, {}, {}), tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **QUIET_ENV})
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Error while evaluating conditional: 'nope' is undefined" in output
    assert output.count('"msg": "before"') == 3
    assert '"msg": "after"' not in output and "play2" not in output and "PLAY RECAP" not in output
