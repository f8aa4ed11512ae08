"""The connection each run of a task uses, chosen by its variables as ansible-core 2.19 chooses it, on local
hosts (no sshd): connection variables from ``set_fact``, play and task ``vars`` (per loop item too), each
rendered for every task that runs on its own host (one that cannot be rendered fails even a ``debug``, and
so does a connection plugin ansible-core would not find: neither its own nor one beside the playbook); for
a delegated run the delegated host's (``ansible_delegated_vars``: its inventory and facts, with the task's
``vars`` rendered there), never the original host's; the interpreter of a delegated module run is the
delegated host's too.

``far`` is reached by ssh at 127.0.0.1:1, where nothing listens (unreachable at once, no name lookup); a
delegated address sees the play's and the task's variables, as ansible-core's implicit host.
Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import os

import pytest

import titan_ops
from tests.engine_cases import Case, ansible_outcome, case_tests, titan_outcome, write_case

FAR = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1}

CASES = {
    "task_vars_set_fact_and_play_vars_choose_the_connection": Case(
        hosts={"h1": {}, "far": FAR},
        playbook="""
        - hosts: far
          gather_facts: false
          tasks:
            - command: "true"
              vars: {ansible_connection: local}
            - set_fact: {ansible_connection: local}
            - command: "true"
              vars: {ansible_connection: ssh}
              register: still_local
            - debug: msg="set_fact wins over task vars {{ still_local.rc }}"
        - hosts: h1
          gather_facts: false
          vars: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1}
          tasks:
            - command: "true"
              ignore_unreachable: true
            - command: "true"
              vars: {ansible_connection: "{{ item }}"}
              loop: [local, winrm]
              register: per_item
              ignore_errors: true
            - debug: msg="{{ per_item.results | map(attribute='failed') | list }}"
            - debug: msg="not shown"
              vars: {ansible_password: "{{ never_defined }}"}
              ignore_errors: true
        """,
        rc=0, recap={"far": "4 2 0 0 0 0 0", "h1": "4 1 0 0 0 0 3"},
        messages={"far": ["set_fact wins over task vars 0"], "h1": ["[False, True]"]}),
    "a_delegated_run_connects_with_the_delegated_hosts_variables": Case(
        hosts={"h1": {}, "h2": {}, "far": FAR},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact: {ansible_connection: winrm, ansible_host: 127.0.0.1, login: ops}
            - command: "true"
              delegate_to: h2
            - command: "true"
              delegate_to: far
              vars: {ansible_connection: local}
            - command: "true"
              delegate_to: far
              vars: {ansible_user: "{{ login }}"}
              register: undefined_there
              ignore_errors: true
            - debug: msg="{{ undefined_there is failed }} {{ 'login' in undefined_there.msg }}"
            - command: "true"
              delegate_to: far
              vars: {ansible_user: "{{ hostvars[inventory_hostname]['login'] }}"}
              ignore_unreachable: true
            - set_fact: {ansible_connection: local}
              delegate_to: far
              delegate_facts: true
            - command: "true"
              delegate_to: far
            - command: "true"
              ignore_errors: true
        """,
        rc=0, recap={"h1": "9 3 0 0 0 0 3"},
        messages={"h1": ["True True"]}),
    "a_delegated_address_sees_the_play_and_task_vars": Case(
        hosts={"h1": {}},
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {ansible_port: 1, marker: from_play}
          tasks:
            - command: "true"
              delegate_to: 127.0.0.2
              vars: {ansible_connection: local, ansible_python_interpreter: /opt/titan-ops-oracle/bin/python}
            - debug: msg="{{ ansible_delegated_vars['127.0.0.2']['marker'] }}
                {{ ansible_delegated_vars['127.0.0.2']['ansible_port'] }}"
              delegate_to: 127.0.0.2
            - command: "true"
              delegate_to: 127.0.0.2
              ignore_unreachable: true
        """,
        rc=0, recap={"h1": "3 1 0 0 0 0 1"},
        messages={"h1": ["from_play 1"]}),
    "ssh_options_a_task_gives_that_cannot_be_used": Case(
        hosts={"h1": {}},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact:
                ansible_connection: ssh
                ansible_host: 127.0.0.1
                ansible_port: 1
                ansible_ssh_common_args: -o NoSuchOption=yes
            - command: "true"
              ignore_unreachable: true
              register: bad_options
            - debug: msg="{{ bad_options is unreachable }}"
        """,
        rc=0, recap={"h1": "3 0 0 0 0 0 1"},
        messages={"h1": ["True"]}),
    "a_delegated_module_runs_with_the_delegated_hosts_interpreter": Case(
        hosts={"h1": {}, "h2": {"ansible_sh_interpreter": "/nonexistent/sh"}},
        files={"library/probe": """\
            #!/bin/sh
            echo '{"changed": false, "msg": "ran"}'
            """},
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - probe:
              register: here
            - probe:
              delegate_to: h2
              register: there
              ignore_errors: true
            - debug: msg="{{ here.msg }} {{ there is failed }}"
        """,
        rc=0, recap={"h1": "3 0 0 0 0 0 1"},
        messages={"h1": ["ran True"]}),
    "a_connection_plugin_ansible_does_not_have_fails_every_task_of_its_host": Case(
        hosts={"h1": {"ansible_connection": "nosuchplugin"}, "h2": {}, "h3": {}},
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - debug: msg="not run"
              when: false
            - debug: msg="hello"
              ignore_errors: true
            - set_fact: {fact: 1}
              ignore_errors: true
            - command: "true"
        - hosts: h2
          gather_facts: false
          tasks:
            - debug: msg="{{ item }}"
              vars: {ansible_connection: "{{ item }}"}
              loop: [ansible.builtin.local, ansible.legacy.paramiko_ssh, paramiko, smart, winrm, psrp, nosuch, LOCAL,
                     "", docker, ansible.builtin.smart]
              register: plugins
              ignore_errors: true
            - debug: msg="{{ plugins.results | map(attribute='failed') | list }}"
            - command: "true"
              vars: {ansible_connection: ansible.builtin.local}
            - set_fact: {ansible_connection: nosuch}
            - debug: msg="not shown"
              vars: {ansible_connection: local}
              ignore_errors: true
            - debug: msg="delegated to h3"
              delegate_to: h3
            - debug: msg="not shown"
              delegate_to: h1
              ignore_errors: true
        """,
        rc=2, recap={"h1": "2 0 0 1 1 0 2", "h2": "10 2 0 0 1 0 3"},
        messages={"h2": ["hello", "[False, False, False, False, False, False, True, True, True, True, True]",
                         "delegated to h3"]}),
    "a_connection_plugin_beside_the_playbook_is_one_ansible_finds": Case(
        hosts={"h1": {"ansible_connection": "handmade"}, "h2": {"ansible_connection": "ansible.legacy.handmade"},
               "h3": {"ansible_connection": "ansible.builtin.handmade"}},
        files={"connection_plugins/handmade.py": """\
            from ansible.plugins.connection.local import Connection as Local


            class Connection(Local):
                transport = "handmade"
            """},
        playbook="""
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg="hello"
        """,
        rc=2, recap={"h1": "1 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0", "h3": "0 0 0 1 0 0 0"},
        messages={"h1": ["hello"], "h2": ["hello"]}),
    "a_templated_connection_setting_is_rendered_with_what_each_run_sees": Case(
        hosts={"h1": {"ansible_connection": "{{ plugin }}", "ansible_user": "{{ login }}"}},
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {plugin: local, login: ops}
          tasks:
            - debug: msg="first"
            - debug: msg="{{ item }}"
              vars: {plugin: "{{ item }}"}
              loop: [nosuch, local]
              ignore_errors: true
            - debug: msg="without a login"
              vars: {login: "{{ undefined_login }}"}
              ignore_errors: true
            - set_fact: {plugin: nosuch}
            - debug: msg="not shown"
              ignore_errors: true
            - debug: msg="again"
              vars: {ansible_connection: local}
              ignore_errors: true
        """,
        rc=0, recap={"h1": "6 0 0 0 0 0 3"},
        messages={"h1": ["first", "again"]}),
}

test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


def test_ssh_options_a_task_gives_that_cannot_be_honoured_say_which(tmp_path):
    """Unreachable (the connection cannot be made as asked), naming the option, not an attempt without it."""
    playbook, inventory = write_case(CASES["ssh_options_a_task_gives_that_cannot_be_used"], tmp_path)
    result = titan_ops.run(playbook, inventory)
    unreachable = [r for r in result.host_results("h1") if r.module == "command"]
    assert [r.status.value for r in unreachable] == ["unreachable"]
    assert "ssh option 'NoSuchOption' is not supported" in unreachable[0].result["msg"]


def test_a_connection_plugin_ansible_does_not_have_is_named_in_ansibles_words(tmp_path):
    playbook, inventory = write_case(CASES["a_connection_plugin_ansible_does_not_have_fails_every_task_of_its_host"],
                                     tmp_path)
    result = titan_ops.run(playbook, inventory, limit="h1")
    assert [(r.module, r.status.value, r.msg.split(": ", 1)[1]) for r in result.host_results("h1")
            if r.status.value != "skipped"] == [
        ("debug", "failed", "the connection plugin 'nosuchplugin' was not found"),
        ("set_fact", "failed", "the connection plugin 'nosuchplugin' was not found"),
        ("command", "failed", "the connection plugin 'nosuchplugin' was not found")]


BECOME = Case(
    hosts={"h1": {"ansible_become": True, "ansible_become_user": "nobody", "ansible_pipelining": True,
                  "ansible_python_interpreter": "/usr/bin/python3"},
           "h2": {"ansible_pipelining": True, "ansible_python_interpreter": "/usr/bin/python3"}},
    playbook="""
    - hosts: h1
      gather_facts: false
      tasks:
        - command: whoami
          register: inventory_become
        - command: whoami
          become: false
          register: variable_over_keyword
        - command: whoami
          delegate_to: h2
          register: delegated
        - command: whoami
          vars: {ansible_become_user: daemon}
          register: task_vars
        - set_fact: {ansible_become: false}
        - command: whoami
          register: fact_off
        - debug: msg="{{ [inventory_become, variable_over_keyword, delegated, task_vars, fact_off]
                         | map(attribute='stdout') | list }}"
    """,
    rc=0, recap={"h1": "7 5 0 0 0 0 0"},
    messages={"h1": ["['nobody', 'nobody', 'root', 'daemon', 'root']"]})
"""``ansible_become`` and ``ansible_become_user`` (inventory, task vars, set_fact) win over the ``become``
keywords; a delegated run takes the delegated host's. Needs root (sudo to nobody without a password)."""
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="sudo to another user without a password needs root")


@needs_root
def test_become_variables_win_over_the_keywords(tmp_path):
    assert titan_outcome(BECOME, tmp_path) == (BECOME.rc, BECOME.recap, BECOME.messages)


@needs_root
@pytest.mark.oracle
def test_ansible_takes_the_become_variables_the_same_way(tmp_path):
    assert ansible_outcome(BECOME, tmp_path) == (BECOME.rc, BECOME.recap, BECOME.messages)
