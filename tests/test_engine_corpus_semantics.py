"""Semantics ansible-core's integration targets found different, as whole playbooks on local hosts (no sshd):
where ``vars_files`` are looked for, what a role's dependencies see.

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

import pytest

from tests.engine_cases import Case, ansible_outcome, titan_outcome

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
