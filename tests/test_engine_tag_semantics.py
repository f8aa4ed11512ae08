"""Tags as ansible-core 2.19 gives them, on local hosts (no sshd): ``ansible_run_tags`` and
``ansible_skip_tags``, and block and role tags written as templates.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests

TEMPLATED_TAGS = """
- hosts: h1
  gather_facts: false
  vars:
    picked: [tag1]
    one: tag1
  roles:
    - role: r
      tags: "{{ one }}"
  tasks:
    - debug: msg="{{ ansible_run_tags | sort }} {{ ansible_skip_tags | sort }}"
      tags: [always]
    - block:
        - debug: msg=in-templated-block
      tags: "{{ picked }}"
    - debug: msg=untagged
"""

CASES = {
    "tags_given_as_templates_select_their_tasks": Case(
        playbook=TEMPLATED_TAGS, files={"roles/r/tasks/main.yml": "- debug: msg=in-role\n"}, tags=("tag1",),
        rc=0, recap={"h1": "3 0 0 0 0 0 0"},
        messages={"h1": ["in-role", "['tag1'] []", "in-templated-block"]}),
    "the_run_tags_are_all_when_none_are_asked_for": Case(
        playbook=TEMPLATED_TAGS, files={"roles/r/tasks/main.yml": "- debug: msg=in-role\n"},
        rc=0, recap={"h1": "4 0 0 0 0 0 0"},
        messages={"h1": ["in-role", "['all'] []", "in-templated-block", "untagged"]}),
    "the_run_tags_each_once": Case(  # (sorted: ansible-core keeps them in a set, in no fixed order)
        playbook=TEMPLATED_TAGS, files={"roles/r/tasks/main.yml": "- debug: msg=in-role\n"},
        tags=("other,tag1", "other"), rc=0, recap={"h1": "3 0 0 0 0 0 0"},
        messages={"h1": ["in-role", "['other', 'tag1'] []", "in-templated-block"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)
