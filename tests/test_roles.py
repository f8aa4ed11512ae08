"""Roles: ``roles:``, ``import_role``, ``include_role``, the role layout, the search path, dependencies,
deduplication, handlers and variable precedence; on the local connection and against ansible-core."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

ROLES = {
    "base/tasks/main.yml": """
        - debug: msg="base {{ base_default }} {{ base_var }} {{ shared }} {{ role_name }} {{ param | default('-') }}"
        - debug: msg="{{ lookup('file', 'f.txt') }} {{ lookup('template', 't.j2') }}"
        - copy: {src: f.txt, dest: "{{ out }}/base-{{ param | default('none') }}.txt"}
        - command: echo changed
          notify: base handler
        """,
    "base/tasks/other.yml": """
        - debug: msg="base other {{ base_default }} {{ from_vars_from | default('none') }}"
        """,
    "base/defaults/main.yml": "base_default: bd\nshared: from_base_defaults\nrole_over_play: base_default\n",
    "base/vars/main.yml": "base_var: bv\nrole_over_play: base_var\n",
    "base/vars/extra.yml": "from_vars_from: vf\n",
    "base/handlers/main.yml": "- name: base handler\n  debug: msg='base handler ran'\n",
    "base/files/f.txt": "role file\n",
    "base/templates/t.j2": "tmpl {{ base_var }}\n",
    "web/tasks/main.yml": """
        - debug: msg="web {{ web_default }} {{ base_default }} {{ shared }} {{ dep_param | default('-') }}"
        """,
    "web/defaults/main.yml": "web_default: wd\nshared: from_web_defaults\n",
    "web/vars/main.yml": "web_var: wv\n",
    "web/meta/main.yml": "dependencies:\n  - role: dep\n    dep_param: 1\n  - base\n",
    "dep/tasks/main.yml": "- debug: msg=\"dep {{ dep_param }} {{ ansible_parent_role_names | default([]) }}\"\n",
}

PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars: {base_var: play_var, param: play_param, role_over_play: play}
  pre_tasks:
    - debug: msg="pre {{ shared }} {{ web_var | default('no web_var') }} {{ role_over_play }}"
  roles:
    - base
    - base
    - role: web
      tags: [webtag]
    - {role: base, param: 2}
    - {role: base, param: 2}
    - {role: base, vars: {param: 3}}
    - role: base
      when: false
  tasks:
    - debug: msg="after {{ base_var }} {{ web_var }} {{ base_default }} {{ shared }} {{ param }}"
    - import_role: {name: base, tasks_from: other}
    - include_role: {name: base, tasks_from: other, vars_from: extra}
    - include_role: {name: dep}
      vars: {dep_param: 9}
    - include_role: {name: "{{ 'd' + 'ep' }}"}
      vars: {dep_param: templated}
  post_tasks:
    - debug: msg=post
- hosts: all
  gather_facts: false
  tasks:
    - include_role: {name: web}
    - debug: msg="{{ web_var | default('private') }} {{ web_default | default('private') }}"
    - include_role: {name: web, public: true}
    - debug: msg="{{ web_var | default('private') }} {{ web_default | default('private') }}"
    - import_role: {name: dep}
      vars: {dep_param: imported}
    - name: a handler notified by its role-qualified name
      command: echo again
      notify: "base : base handler"
"""


def make_project(folder: Path) -> tuple[Path, Path]:
    """The roles above in ``folder/roles``, the playbook, and a local inventory; (playbook, inventory)."""
    for name, text in ROLES.items():
        path = folder / "roles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (folder / "out").mkdir()
    playbook = folder / "site.yml"
    playbook.write_text(PLAYBOOK)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON,
                 "shared": "from_inventory", "out": str(folder / "out")},
        "hosts": {"h1": {}}}}))
    return playbook, inventory


def messages(results) -> list[tuple[str, object]]:
    return [(result.task, result.result.get("msg")) for result in results if result.module == "debug"]


def test_roles_run_with_ansibles_variables_dedup_and_handlers(tmp_path):
    playbook, inventory = make_project(tmp_path)
    result = titan_ops.run(playbook, inventory)
    assert result.exit_code == 0
    shown = messages(result.host_results("h1"))
    assert shown[0] == ("debug", "pre from_inventory wv base_var")  # roles' vars are the play's, over play vars
    base = [msg for task, msg in shown if task == "base : debug" and str(msg).startswith("base bd")]
    # base once (deduplicated), then base as web's dependency (deduplicated), param 2 once, vars param 3,
    # and the when: false entry skipped
    assert base == ["base bd bv from_inventory base play_param", "base bd bv from_inventory base 2",
                    "base bd bv from_inventory base 3", "base bd bv from_inventory base -"]
    assert ("base : debug", "role file tmpl bv\n") in shown
    assert ("dep : debug", "dep 1 []") in shown
    assert ("web : debug", "web wd bd from_inventory -") in shown
    assert ("debug", "after bv wv bd from_inventory play_param") in shown
    assert ("base : debug", "base other bd none") in shown and ("base : debug", "base other bd vf") in shown
    assert ("dep : debug", "dep 9 []") in shown and ("dep : debug", "dep templated []") in shown
    assert ("debug", "private private") in shown and ("debug", "wv wd") in shown
    assert ("dep : debug", "dep imported []") in shown
    handler_runs = [r for r in result.host_results("h1") if r.task == "base : base handler"]
    assert len(handler_runs) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["base-2.txt", "base-3.txt", "base-none.txt", "base-play_param.txt"]
    assert (tmp_path / "out" / "base-2.txt").read_text() == "role file\n"


def test_roles_path_and_tags(tmp_path):
    make_project(tmp_path)
    elsewhere = tmp_path / "shared-roles"
    (tmp_path / "roles").rename(elsewhere)
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  roles: [{role: web, tags: [webtag]}, dep]\n"
                        "  vars: {dep_param: x}\n")
    with pytest.raises(PlaybookError, match="the role 'web' was not found in"):
        load_playbook(playbook)
    result = titan_ops.run(load_playbook(playbook, roles_path=[str(elsewhere)]), tmp_path / "inventory.yml",
                           tags=["webtag"])
    # handlers are not selected by tags (as in ansible): the one the tagged role notified runs
    assert [r.task for r in result.host_results("h1")] == ["dep : debug", "base : debug", "base : debug",
                                                           "base : copy", "base : command", "web : debug",
                                                           "base : base handler"]


@pytest.mark.parametrize("files,play,message", [
    ({}, "roles: [nosuch]", "the role 'nosuch' was not found in"),
    ({"a/meta/main.yml": "dependencies: [b]", "b/meta/main.yml": "dependencies: [a]"}, "roles: [a]",
     "role 'a' depends on itself"),
    ({"a/tasks/main.yml": "- debug: msg=x"}, "tasks: [{import_role: {name: a, task_from: x}}]",
     "unknown import_role option 'task_from'"),
    ({"a/tasks/main.yml": "- debug: msg=x"}, "tasks: [{import_role: {name: a, tasks_from: nope}}]",
     "role 'a' has no tasks file 'nope'"),
    ({"a/tasks/main.yml": "- debug: msg=x"}, "roles: ['{{ r }}']", "cannot be a template"),
    ({}, "roles: [community.general.thing]", "roles from collections"),
    ({"a/meta/argument_specs.yml": "argument_specs: {main: {options: {x: {type: strng}}}}"}, "roles: [a]",
     r"argument spec 'main': options.x.type unknown type 'strng'"),
    ({"a/meta/argument_specs.yml": "argument_specs: [main]"}, "roles: [a]",
     "argument_specs must map entry point names"),
    ({"a/meta/main.yml": "argument_specs: {main: {options: {x: {options: [y]}}}}"}, "roles: [a]",
     "options.x.options must be a mapping of option names"),
    ({"a/meta/argument_specs.yml": "argument_specs: {main: {options: {x: {required: maybe}}}}"},
     "tasks: [{include_role: {name: a}}]", "options.x.required must be true or false"),
    ({"a/tasks/main.yml": "- debug: msg=x"}, "roles: [{role: a, module_defaults: {}}]",
     "the role keyword 'module_defaults' is not supported"),
    ({"a/tasks/main.yml": "- nosuchmodule: x"}, "roles: [a]", "unknown module or keyword 'nosuchmodule'"),
    ({"a/tasks/main.yml": "- debug: msg=x"}, "tasks: [{include_role: {name: a, apply: {loop: [1]}}}]",
     "apply takes task keywords"),
])
def test_bad_roles_are_refused_before_any_host_is_touched(tmp_path, files, play, message):
    for name, text in files.items():
        path = tmp_path / "roles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: all\n  {play}\n")
    with pytest.raises(PlaybookError, match=message):
        load_playbook(playbook)


@pytest.mark.oracle
def test_roles_match_ansible(tmp_path):
    playbook, inventory = make_project(tmp_path)
    code, report = ansible_report(playbook, inventory)
    ansible_files = sorted(p.name for p in (tmp_path / "out").iterdir())
    for path in (tmp_path / "out").iterdir():
        path.unlink()
    result = titan_ops.run(playbook, inventory)
    theirs = [(task["task"]["name"], task["hosts"]["h1"].get("msg")) for play in report["plays"]
              for task in play["tasks"] if "h1" in task["hosts"] and "msg" in task["hosts"]["h1"]
              and not task["task"]["name"].endswith(("command", "copy")) and "notified" not in task["task"]["name"]]
    ours = [(r.task, r.result["msg"]) for r in result.host_results("h1") if r.module == "debug" and "msg" in r.result]
    assert ours == theirs
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ansible_files
    assert result.exit_code == code
    stats = report["stats"]["h1"]
    assert (result.stats["h1"].ok, result.stats["h1"].changed, result.stats["h1"].skipped) == \
        (stats["ok"], stats["changed"], stats["skipped"])
