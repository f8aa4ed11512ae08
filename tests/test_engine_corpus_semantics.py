"""Semantics ansible-core's integration targets found different, as whole playbooks on local hosts (no sshd):
where ``vars_files`` are looked for, what a role's dependencies see.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests

CASES = {
    "vars_files_are_looked_for_in_vars_then_beside_the_playbook": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars_files: [shared.yml, only_beside.yml]
          tasks:
            - debug: msg="{{ where }} {{ beside }}"
        """,
        files={"vars/shared.yml": "where: from-vars-folder\n", "shared.yml": "where: beside\n",
               "only_beside.yml": "beside: found-beside\n"},
        rc=0, recap={"h1": "1 0 0 0 0 0 0"}, messages={"h1": ["from-vars-folder found-beside"]}),
    "a_dependency_sees_the_parameters_of_the_role_that_depends_on_it": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          roles:
            - {role: parent, param: from-play, other: play-other}
        """,
        files={"roles/parent/meta/main.yml": "dependencies:\n  - {role: dep, other: dep-own}\n",
               "roles/parent/tasks/main.yml": "- debug: msg=\"parent {{ param }} {{ other }}\"\n",
               "roles/dep/tasks/main.yml": "- debug: msg=\"dep {{ param }} {{ other }}\"\n"},
        rc=0, recap={"h1": "2 0 0 0 0 0 0"},
        messages={"h1": ["dep from-play dep-own", "parent from-play play-other"]}),
    "roles_and_includes_in_key_value_and_action_form": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          roles: [r]
          tasks:
            - import_role: name=r tasks_from=other.yml
            - include_role: name=r tasks_from=other.yml
            - action: include_tasks inc.yml
        """,
        files={"roles/r/tasks/main.yml": "- command: 'true'\n  notify: from playbook folder\n",
               "roles/r/tasks/other.yml": "- debug: msg=other\n",
               "roles/r/handlers/main.yml": "- import_tasks: beside_playbook.yml\n",
               "beside_playbook.yml": "- name: from playbook folder\n  debug: msg=handler-beside-playbook\n",
               "inc.yml": "- debug: msg=included-by-action\n"},
        rc=0, recap={"h1": "7 1 0 0 0 0 0"},
        messages={"h1": ["other", "other", "included-by-action", "handler-beside-playbook"]}),
    # keyword_inheritance's playbooks with a user that exists (its own stop at password_hash without passlib);
    # the second whoami of roles: does not run: become_user does not tell two entries of a role apart
    "become_keywords_of_a_role_and_of_a_dependency_win_over_the_play_and_do_not_make_it_another_role": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          become: true
          become_user: nobody
          roles:
            - {role: whoami, become_user: root}
            - whoami
        - hosts: h1
          gather_facts: false
          tasks:
            - include_role: {name: "{{ item }}"}
              loop: [whoami, depends]
        """,
        files={"roles/whoami/tasks/main.yml": "- command: whoami\n  register: me\n- debug: msg=\"{{ me.stdout }}\"\n",
               "roles/depends/meta/main.yml": "dependencies:\n  - {role: whoami, become: true, become_user: nobody}\n",
               "roles/depends/tasks/main.yml": "- debug: msg=own\n"},
        hosts={"h1": {"ansible_python_interpreter": "/usr/bin/python3"}},  # (one the user nobody may run)
        rc=0, recap={"h1": "9 3 0 0 0 0 0"}, messages={"h1": ["root", "root", "nobody", "own"]}),
}


test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)
