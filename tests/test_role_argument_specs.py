"""Roles' argument specs (``meta/argument_specs.yml``, ``argument_specs`` in ``meta/main.yml``): the validation
task each entry point runs first, the module ``validate_argument_spec``, and how both end as in ansible-core;
on the local connection and against ansible-core."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import titan_ops
from titan_ops.cli import main
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.local_oracle import play_ansible, play_titan, project

KEYS = ("msg", "argument_errors", "argument_spec_data", "validate_args_context")

ROLES = {
    "roles/app/meta/argument_specs.yml": """
        argument_specs:
          main:
            short_description: The app.
            options:
              app_name: {type: str, required: true}
              app_port: {type: int, default: 8080}
              app_mode: {type: str, choices: [fast, safe]}
              app_ids: {type: list, elements: int}
              app_tls:
                type: dict
                options:
                  enabled: {type: bool, required: true}
          migrate:
            options:
              dry_run: {type: bool, required: true}
          plain:
        """,
    "roles/app/tasks/main.yml": """
        - debug: msg="app {{ app_name }} {{ app_port | default('no default set') }}"
        """,
    "roles/app/tasks/migrate.yml": "- debug: msg=\"migrate {{ dry_run }} {{ dry_run | type_debug }}\"\n",
    "roles/app/tasks/plain.yml": "- debug: msg=plain\n",
    "roles/old/meta/main.yml": """
        argument_specs:
          main:
            options:
              old_level: {type: int, required: true}
        """,
    "roles/old/tasks/main.yml": "- debug: msg=\"old {{ old_level }}\"\n",
}

RESCUED = """
    - block:
        - {name: %(name)s, %(call)s}
        - {fail: {msg: not reached}}
      rescue:
        - debug: {msg: "{{ ansible_failed_task.name }}: {{ ansible_failed_result.argument_errors | join(' | ') }}"}
"""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars: {app_ids: [1, "2"]}
  roles:
    - {role: app, app_name: "{{ 'web' }}"}
    - {role: old, old_level: "3"}
  tasks:
    - include_role: {name: app, tasks_from: migrate}
      vars: {dry_run: "yes"}
    - import_role: {name: app, tasks_from: plain}
    - name: valid with import_role
      import_role: {name: app}
      vars: {app_name: api, app_mode: safe, app_tls: {enabled: "on"}}
""" + "".join(RESCUED % case for case in (
    {"name": "missing", "call": "include_role: {name: app}"},
    {"name": "wrong type", "call": "import_role: {name: old}, vars: {old_level: lots}"},
    {"name": "wrong choice and elements", "call": "include_role: {name: app}, "
                                                  "vars: {app_name: x, app_mode: slow, app_ids: [1, b]}"},
    {"name": "sub-option", "call": "import_role: {name: app}, vars: {app_name: x, app_tls: {enable: true}}"},
    {"name": "entry point", "call": "include_role: {name: app, tasks_from: migrate}"},
)) + """
    - name: rolespec_validate false
      import_role: {name: old, rolespec_validate: false}
      vars: {old_level: lots}
    - name: the module in a task
      validate_argument_spec:
        argument_spec: {level: {type: int, required: true}, mode: {choices: [a, b]}}
        provided_arguments: {mode: c}
      vars: {level: "x"}
      ignore_errors: true
    - name: the module passes
      validate_argument_spec:
        argument_spec: {level: {type: int, required: true}}
      vars: {level: "7"}
    - include_role: {name: app}
    - debug: {msg: not reached}
"""


def _project(folder: Path) -> None:
    project(folder, PLAYBOOK, {name: textwrap.dedent(text) for name, text in ROLES.items()})


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    folder = tmp_path_factory.mktemp("argspecs")
    _project(folder)
    return folder, play_titan(folder, folder / "base", KEYS)


def _results(side, name: str) -> list[dict]:
    return [result for task, _status, result in side.tasks if task == name]


BARE = "Validating arguments against arg spec 'main' - The app."
MAIN = f"app : {BARE}"


def test_a_valid_call_passes_as_an_ok_task_and_sets_no_default(played):
    folder, side = played
    assert side.tasks[0] == (MAIN, "ok", {"msg": "The arg spec validation passed", "validate_args_context": {
        "type": "role", "name": "app", "argument_spec_name": "main", "path": str(folder / "roles" / "app")}})
    assert side.tasks[1][2]["msg"] == "app web no default set"
    assert side.tasks[2][:2] == ("old : Validating arguments against arg spec 'main'", "ok")
    # the values are checked, not converted: dry_run stays the text it was given
    assert ("app : debug", "ok", {"msg": "migrate yes str"}) in side.tasks
    assert [task for task, status, _ in side.tasks if status == "ok"].count(MAIN) == 2


def test_each_entry_point_has_its_own_spec(played):
    _folder, side = played
    names = [task for task, _status, _result in side.tasks]
    assert "app : Validating arguments against arg spec 'migrate'" in names
    # an entry point named in the specs without a spec, and roles without specs, validate nothing
    plain = names.index("app : debug", names.index("app : Validating arguments against arg spec 'migrate'") + 2)
    assert side.tasks[plain][2] == {"msg": "plain"}
    assert not any("'plain'" in name for name in names)


def test_a_bad_call_fails_the_host_with_ansibles_messages(played):
    _folder, side = played
    # (ansible_failed_task.name is the task's own name, without its role's)
    rescued = [result["msg"] for task, _status, result in side.tasks
               if task == "debug" and "Validating" in result.get("msg", "")]
    assert rescued == [
        f"{BARE}: missing required arguments: app_name",
        "Validating arguments against arg spec 'main': argument 'old_level' is of type str and we were unable to "
        "convert to int: \"'lots'\" cannot be converted to an int",
        f"{BARE}: Elements value for option 'app_ids' is of type str and we were unable to convert to int: "
        "\"'b'\" cannot be converted to an int | value of app_mode must be one of: fast, safe, got: slow",
        f"{BARE}: missing required arguments: enabled found in app_tls | "
        "app_tls.enable. Supported parameters include: enabled.",
        "Validating arguments against arg spec 'migrate': missing required arguments: dry_run",
    ]
    last = side.tasks[-1]
    assert last[:2] == (MAIN, "failed")
    assert last[2]["msg"] == "Validation of arguments failed:\nmissing required arguments: app_name"
    assert last[2]["argument_spec_data"]["app_name"] == {"type": "str", "required": True}
    assert side.rc == 2


def test_rolespec_validate_false_skips_validation_and_the_module_works_in_a_task(played):
    _folder, side = played
    assert _results(side, "old : debug")[-1] == {"msg": "old lots"}
    assert _results(side, "the module in a task") == [{
        "msg": "Validation of arguments failed:\nargument 'level' is of type str and we were unable to convert to "
               "int: \"'x'\" cannot be converted to an int\nvalue of mode must be one of: a, b, got: c",
        "argument_errors": ["argument 'level' is of type str and we were unable to convert to int: \"'x'\" cannot "
                            "be converted to an int", "value of mode must be one of: a, b, got: c"],
        "argument_spec_data": {"level": {"type": "int", "required": True}, "mode": {"choices": ["a", "b"]}},
        "validate_args_context": {}}]
    assert _results(side, "the module passes") == [{"msg": "The arg spec validation passed",
                                                    "validate_args_context": {}}]


def test_the_validation_is_located_at_the_play_as_in_ansible(tmp_path):
    """ansible-core's implicit validation task has no place of its own: it reports the play's, for an
    include_role run at run time too."""
    _project(tmp_path)
    result = titan_ops.run(tmp_path / "play.yml", tmp_path / "inventory.yml")
    places = {r.location.rsplit(":", 1)[0] for r in result.host_results("h") if r.module == "validate_argument_spec"
              and r.task.startswith("app :")}
    assert places == {f"{tmp_path / 'play.yml'}:2"}


def test_the_validation_runs_under_any_tags_and_is_listed(tmp_path, monkeypatch, capsys):
    _project(tmp_path)
    result = titan_ops.run(tmp_path / "play.yml", tmp_path / "inventory.yml", tags=["nosuchtag"])
    assert [r.task for r in result.host_results("h")][:2] == [MAIN, "old : Validating arguments against arg spec "
                                                                    "'main'"]
    monkeypatch.chdir(tmp_path)
    assert main(["run", "play.yml", "-i", "inventory.yml", "--list-tasks"]) == 0
    assert f"      {MAIN}\tTAGS: [always]\n" in capsys.readouterr().out


def test_a_malformed_spec_is_refused_at_validation_naming_file_line_and_key(tmp_path):
    _project(tmp_path)
    specs = tmp_path / "roles" / "old" / "meta" / "main.yml"
    specs.write_text("argument_specs:\n  main:\n    options:\n      old_level: {type: integer}\n")
    with pytest.raises(PlaybookError) as raised:
        load_playbook(tmp_path / "play.yml")
    assert str(raised.value).startswith(f"{specs}:4:")
    assert "options.old_level.type unknown type 'integer'" in str(raised.value)


def test_a_collections_role_is_validated_under_its_own_name(tmp_path):
    role = "collections/ansible_collections/ns/col/roles/svc"
    project(tmp_path, "- hosts: all\n  gather_facts: false\n  roles: [ns.col.svc]\n", {
        f"{role}/meta/argument_specs.yml": "argument_specs: {main: {options: {svc: {required: true}}}}\n",
        f"{role}/tasks/main.yml": "- debug: msg=x\n"})
    side = play_titan(tmp_path, tmp_path / "base", KEYS)
    assert side.tasks[0][2]["validate_args_context"] == {
        "type": "role", "name": "svc", "argument_spec_name": "main", "path": str(tmp_path / role)}
    assert side.tasks[0][2]["argument_errors"] == ["missing required arguments: svc"]


@pytest.mark.oracle
def test_argument_specs_match_ansible(tmp_path):
    _project(tmp_path / "project")
    theirs = play_ansible(tmp_path / "project", tmp_path / "ansible", KEYS)
    ours = play_titan(tmp_path / "project", tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.rc == theirs.rc
