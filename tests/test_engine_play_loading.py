"""Loading plays as ansible-core 2.19 does, on local hosts (no sshd): where roles are searched from
included files, the keywords includes accept, includes that never run, and the play keywords of older
playbooks.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import pytest

from tests.engine_cases import Case, case_tests, titan_outcome, write_case
from titan_ops.cli import main
from titan_ops.errors import PlaybookError

CASES = {
    "a_role_named_in_a_nested_included_file_is_searched_from_the_playbook": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: sub/deeper/inc.yml
            - import_tasks: sub/deeper/imp.yml
        """,
        files={"roles/r/tasks/main.yml": "- debug: msg=from-r\n",
               "sub/deeper/inc.yml": "- include_role: {name: r}\n",
               "sub/deeper/imp.yml": "- include_tasks: inc.yml\n"},
        rc=0, recap={"h1": "6 0 0 0 0 0 0"}, messages={"h1": ["from-r", "from-r"]}),
    "an_include_of_a_missing_file_or_role_fails_only_when_it_runs": Case(
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - include_tasks: nosuch.yml
              loop: "{{ undefined_list }}"
              when: false
              register: skipped_include
            - debug: msg="{{ skipped_include.skip_reason }} {{ skipped_include.results is undefined }}"
            - include_role: {name: nosuch}
              when: "undefined_var == 1"
              ignore_errors: true
              register: failed_include
            - debug: msg="{{ failed_include is failed }}"
            - include_tasks: inc/imports_missing.yml
              ignore_errors: true  # (no help: a file that cannot be loaded fails its hosts)
              when: inventory_hostname == 'h1'
            - include_role: {name: nosuch}
            - debug: msg=not-reached
        """,
        files={"inc/imports_missing.yml": "- import_tasks: nosuch.yml\n"},
        rc=2, recap={"h1": "3 0 0 1 1 0 1", "h2": "3 0 0 1 2 0 1"},
        messages={"h1": ["Conditional result was False True", "True"],
                  "h2": ["Conditional result was False True", "True"]}),
    "an_include_with_a_loop_gives_one_result_per_host": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - include_tasks: inc/item.yml
              loop: [a, b]
              register: included
            - debug: msg="{{ included.results | map(attribute='item') | list }} {{ included.results[0].include }}"
            - include_tasks: inc/item.yml
              loop: []
              register: none_included
            - debug: msg="{{ none_included is skipped }}"
        """,
        files={"inc/item.yml": "- debug: msg=\"item {{ item }}\"\n"},
        rc=0, recap={"h1": "6 0 0 0 1 0 0"},
        messages={"h1": ["item a", "item b", "['a', 'b'] inc/item.yml", "True"]}),
    "older_playbooks_keywords_load": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          user: "{{ lookup('env', 'USER') | default('root', true) }}"
          vars_prompt:
          vars_files:
          roles:
          tasks:
            - debug: msg=loaded
              diff: yes
              debugger: never
            - debug: msg=not-run
              diff: yes.
              ignore_errors: true
              register: bad
            - debug:
                msg: "{{ bad.msg is contains('yes.' ~ q ~ ' could not be converted to ' ~ q ~ 'bool') }}"
              vars: {q: "'"}
        """,
        rc=0, recap={"h1": "3 0 0 0 0 0 1"}, messages={"h1": ["loaded", "True"]}),
    "keywords_given_as_omit_are_not_given": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          serial: "{{ no_batch | default(omit) }}"
          strategy: "{{ no_strategy | default(omit) }}"
          tasks:
            - debug: msg="check {{ ansible_check_mode }}"
              check_mode: "{{ omit }}"
              become: "{{ omit }}"
            - include_role: {name: r, tasks_from: "{{ omit }}"}
        """,
        files={"roles/r/tasks/main.yml": "- debug: msg=role-main\n"},
        rc=0, recap={"h1": "3 0 0 0 0 0 0"}, messages={"h1": ["check False", "role-main"]}),
    "import_playbook_in_every_form": Case(
        playbook="""
        - import_playbook: '{{ "sub/" ~ "first.yml" }}'
        - ansible.builtin.import_playbook: sub/named_role.yml
          vars: {role_to_import: r}
        - ansible.legacy.import_playbook: sub/facts.yml
          when: false
        """,
        files={"sub/first.yml": "- hosts: h1\n  gather_facts: false\n  pre_tasks: [{debug: {msg: pre}}]\n"
                                "  tasks: [{debug: {msg: first}}]\n",
               "sub/facts.yml": "- hosts: h1\n  pre_tasks: [{debug: {msg: pre}}]\n  tasks: [{debug: {msg: first}}]\n",
               "sub/named_role.yml": "- hosts: h1\n  gather_facts: false\n"
                                     "  tasks: [{import_role: {name: '{{ role_to_import }}'}}]\n",
               "sub/roles/r/tasks/main.yml": "- debug: msg=imported-role\n"},
        rc=0, recap={"h1": "3 0 0 0 3 0 0"}, messages={"h1": ["pre", "first", "imported-role"]}),
    "unsafe_lists_and_mappings_hold_data": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars:
            items: !unsafe ['{{ not_a_template }}', 2]
            mapping: !unsafe {key: '{{ neither }}', number: 3}
          tasks:
            - debug: msg="{{ items[0] }} {{ items[1] + 1 }} {{ mapping.key }} {{ mapping.number + 1 }}"
        """,
        rc=0, recap={"h1": "1 0 0 0 0 0 0"}, messages={"h1": ["{{ not_a_template }} 3 {{ neither }} 4"]}),
    "an_include_with_run_once_includes_on_the_first_host_only": Case(
        playbook="""
        - hosts: h1,h2
          gather_facts: false
          tasks:
            - include_tasks: inc/item.yml
              vars: {item: once}
              run_once: true
            - debug: msg=after
        """,
        files={"inc/item.yml": "- debug: msg=\"item {{ item }}\"\n"},
        rc=0, recap={"h1": "3 0 0 0 0 0 0", "h2": "1 0 0 0 0 0 0"},
        messages={"h1": ["item once", "after"], "h2": ["after"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)


def test_a_play_giving_both_user_and_remote_user_is_refused(tmp_path):
    case = Case(playbook="- hosts: h1\n  user: a\n  remote_user: b\n  tasks: []\n", rc=5, recap={}, messages={})
    with pytest.raises(PlaybookError, match=r":2:3: 'user': both 'user' and 'remote_user' are given"):
        titan_outcome(case, tmp_path)


def test_several_playbooks_run_one_after_the_other(tmp_path, capsys):
    case = Case(playbook="- hosts: h1\n  gather_facts: false\n  tasks: [{debug: {msg: first-playbook}}]\n",
                rc=0, recap={}, messages={})
    first, inventory = write_case(case, tmp_path)
    second = tmp_path / "second.yml"
    second.write_text("- hosts: h1\n  gather_facts: false\n  tasks: [{debug: {msg: second-playbook}}]\n")
    assert main(["run", str(first), str(second), "-i", str(inventory)]) == 0
    out = capsys.readouterr().out
    assert 0 < out.index("first-playbook") < out.index("second-playbook")


@pytest.mark.parametrize("where", ["playbook.yml", "imported.yml"])
def test_a_playbook_without_plays_is_refused_naming_its_file(tmp_path, where):
    files = {"imported.yml": "[]\n"} if where == "imported.yml" else {}
    text = "- import_playbook: imported.yml\n" if files else "[]\n"
    case = Case(playbook=text, files=files, rc=5, recap={}, messages={})
    with pytest.raises(PlaybookError, match=rf"{where}:1:1: a playbook must contain at least one play"):
        titan_outcome(case, tmp_path)
