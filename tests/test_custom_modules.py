"""Custom modules (``library/`` beside the playbook, in roles, on the module path) on the local
connection: found at validation, run on the host by Ansible's module protocol, their output read as data."""

from __future__ import annotations

import io
import os
import shutil
import tempfile

import pytest

import titan_ops
from titan_ops.errors import PlaybookError
from titan_ops.output.console import ConsoleRenderer
from titan_ops.playbook import load_playbook
from tests.custom_module_files import FILE_MODE, LIBRARY, OLD_STYLE, PLAYBOOK
from tests.local_oracle import ORACLE_PYTHON, play_ansible, play_titan, project

BARE_PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n"
KEYS = ("changed", "msg", "name", "count", "echoed", "check", "hidden", "said", "data", "warnings", "args",
        "text", "module_stdout", "module_stderr", "rc", "api_fact", "skipped", "deprecations")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, dict]]:
    tmp_path = tmp_path_factory.mktemp("custom")
    project(tmp_path / "project", PLAYBOOK, LIBRARY)
    side = play_titan(tmp_path / "project", tmp_path / "base", KEYS)
    return {name: (status, result) for name, status, result in side.tasks}


def test_a_module_api_module_runs_with_its_parameters_validated(played):
    status, result = played["module API"]
    assert status == "changed"
    assert result["name"] == "hello" and result["count"] == 2 and result["echoed"] == "hello"  # alias, default
    assert result["check"] is False and result["warnings"] == ["a warning"]
    assert result["data"] == {"top_level_key": {"iam_user": "x"}}  # module_utils.common.dict_transformations
    assert result["hidden"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # a no_log option's value, masked
    assert result["said"] == "the hidden value is ********"


def test_a_module_result_is_data_and_its_facts_are_set(played):
    assert played["module API fact"] == ("ok", {"api_fact": "{{ 6 * 7 }}", "changed": False})
    assert played["junk after"] == ("ok", {"changed": False, "text": "{{ 1 + 1 }}",
                                           "warnings": ["Module invocation had junk after the JSON data: after"]})


def test_check_mode_is_the_modules_own(played):
    assert played["module API check mode"] == ("ok", {"changed": False, "name": "checked", "count": 2,
        "echoed": "checked", "check": True, "hidden": None, "said": "the hidden value is None", "data": {},
        "warnings": ["a warning"]})
    assert played["no check mode support"] == ("skipped", {"changed": False, "skipped": True,
        "msg": "remote module (no_check_mode) does not support check mode"})
    assert played["old style check mode"] == ("changed", {"changed": True, "name": "fred", "check": "True"})


@pytest.mark.parametrize("task, message", [
    ("module API fails", "asked to fail"),
    ("module API bad type", "argument 'count' is of type str and we were unable to convert to int: "
                            "\"'many'\" cannot be converted to an int"),
    ("module API unknown option", "Unsupported parameters for (api_module) module: colour. Supported parameters "
                                  "include: count, data, hidden, name, state (label)."),
    ("module API bad choice", "value of state must be one of: present, absent, got: gone"),
    ("module API missing option", "missing required arguments: name"),
    ("raises", "Task failed: Module failed: kaput"),
    ("no interpreter", "Task failed: module (no_interpreter) is missing interpreter line"),
])
def test_a_failing_module_fails_its_task_with_ansibles_message(played, task, message):
    status, result = played[task]
    assert status == "failed" and result["msg"] == message and result["changed"] is False


def test_old_style_and_want_json_modules_get_their_parameters_in_a_file(played):
    assert played["old style"] == ("changed", {"changed": True, "name": "fred", "check": "False"})
    assert played["want json"] == ("ok", {"changed": False, "args": {"name": "fred", "n": 3}})


def test_output_without_json_fails_with_what_the_module_printed(played):
    assert played["not json"] == ("failed", {"changed": False, "rc": 3, "module_stdout": "no json here\n",
        "module_stderr": "oops\n", "msg": "Module result deserialization failed: No start of json char found"})


def _run_in_tmpdir(tmp_path, task: str, library: dict[str, str], inventory=None, host: str = "h") -> dict[str, dict]:
    """``task`` run with the host's TMPDIR in a new folder ``base``, then ``after``, which lists that folder: the
    results by task name."""
    playbook = ('- hosts: all\n  gather_facts: false\n  environment: {TMPDIR: "{{ base }}"}\n  tasks:\n'
                '    - {name: base, file: {path: "{{ base }}", state: directory}}\n'
                f'    - {task}\n'
                '    - {name: after, shell: "ls -A {{ base }}"}\n')
    project(tmp_path / "project", playbook, library)
    result = titan_ops.run(tmp_path / "project" / "play.yml", inventory or tmp_path / "project" / "inventory.yml",
                           limit=host, extra_vars={"base": str(tmp_path / "base")})
    return {r.task: r.result for r in result.host_results(host)}


def test_nothing_is_left_on_the_host_and_no_parameter_is_on_a_command_line(tmp_path):
    spy = ("#!/usr/bin/python\n# WANT_JSON\nimport json, os, sys\n"
           "parent = open('/proc/%d/cmdline' % os.getppid()).read().replace('\\0', ' ')\n"
           "print(json.dumps({'parent': parent, 'folder': os.path.dirname(sys.argv[1])}))\n")
    by_task = _run_in_tmpdir(tmp_path, '{name: spy, spy: {token: "{{ token }}"}, vars: {token: hidden-parameter-value}}',
                             {"library/spy": spy})
    assert by_task["spy"]["folder"].startswith(str(tmp_path / "base"))  # (its private folder, in TMPDIR)
    assert "hidden-parameter-value" not in by_task["spy"]["parent"] and "mktemp" in by_task["spy"]["parent"]
    assert by_task["after"]["stdout"] == ""


def test_a_module_ended_by_its_timeout_leaves_no_folder_on_the_host(lab, tmp_path):
    """The task's timeout TERMs the remote command's process group: its private folder (the parameters, a
    secret among them) goes all the same (over SSH, whose kill waits for the whole group to end)."""
    by_task = _run_in_tmpdir(tmp_path, "{name: sleeper, sleeper: {token: hidden-parameter-value}, timeout: 1, "
                             "ignore_errors: true}", {"library/sleeper": "#!/bin/sh\n# WANT_JSON\nsleep 600\n"},
                             lab.inventory_path, "lab1")
    assert by_task["sleeper"]["msg"] == "Task failed: Timed out after 1 second(s)."
    assert by_task["after"]["stdout"] == ""


def test_a_module_that_raises_leaves_no_temporary_folder_on_the_host(tmp_path):
    """``AnsibleModule.tmpdir`` is made in the module's private folder: gone with it even when the module raises
    before ``exit_json`` could remove it."""
    module = ("from ansible.module_utils.basic import AnsibleModule\n"
              "module = AnsibleModule(argument_spec={})\n"
              "open(module.tmpdir + '/work', 'w').write('x')\n"
              "raise RuntimeError('kaput')\n")
    by_task = _run_in_tmpdir(tmp_path, "{name: raiser, raiser: {}, ignore_errors: true}", {"library/raiser.py": module})
    assert by_task["raiser"]["msg"] == "Task failed: Module failed: kaput"
    assert by_task["after"]["stdout"] == ""


def test_atomic_move_from_a_tmpdir_on_another_file_system_replaces_the_file(tmp_path):
    """``tmpdir`` on a tmpfs, the file on disk: the rename cannot cross them, the move goes through a copy
    beside the file (none left)."""
    shm = tempfile.mkdtemp(dir="/dev/shm")
    try:
        if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("/dev/shm is on the same file system as the test's folder")
        module = ("from ansible.module_utils.basic import AnsibleModule\n"
                  "module = AnsibleModule(argument_spec={'dest': {'type': 'path'}})\n"
                  "work = module.tmpdir + '/new'\n"
                  "open(work, 'w').write('new text')\n"
                  "module.atomic_move(work, module.params['dest'])\n"
                  "module.exit_json(changed=True)\n")
        playbook = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: mover, mover: {dest: "{{ base }}/f"}, environment: {TMPDIR: "{{ shm }}"}}
"""
        project(tmp_path / "project", playbook, {"library/mover.py": module})
        (tmp_path / "base").mkdir()
        (tmp_path / "base" / "f").write_text("old text")
        (tmp_path / "base" / "f").chmod(0o640)
        result = titan_ops.run(tmp_path / "project" / "play.yml", tmp_path / "project" / "inventory.yml",
                               extra_vars={"base": str(tmp_path / "base"), "shm": shm})
        assert [r.result for r in result.host_results("h")] == [{"changed": True, "failed": False}]
        assert (tmp_path / "base" / "f").read_text() == "new text"
        assert oct((tmp_path / "base" / "f").stat().st_mode & 0o777) == "0o640"
        assert os.listdir(tmp_path / "base") == ["f"] and os.listdir(shm) == []
    finally:
        shutil.rmtree(shm, ignore_errors=True)


ROLE_PLAYBOOK = """
- hosts: all
  gather_facts: false
  roles: [outer]
  tasks:
    - {name: a role's module after the role, inner_module: {}}
"""
ROLE_FILES = {
    "roles/inner/library/inner_module": '#!/bin/sh\necho \'{"changed": false, "from": "inner"}\'\n',
    "roles/inner/tasks/main.yml": "- {name: inner task, inner_module: {}}\n",
    "roles/outer/meta/main.yml": "dependencies: [inner]\n",
    "roles/outer/library/outer_module": '#!/bin/sh\necho \'{"changed": true, "from": "outer"}\'\n',
    "roles/outer/tasks/main.yml": "- {name: outer task, outer_module: {}}\n- {name: dependency's, inner_module: {}}\n",
}


def test_a_roles_library_serves_its_tasks_its_dependents_and_the_play(tmp_path):
    project(tmp_path / "project", ROLE_PLAYBOOK, ROLE_FILES)
    side = play_titan(tmp_path / "project", tmp_path / "base", ("from",))
    assert side.tasks == [("inner : inner task", "ok", {"from": "inner"}),
                          ("outer : outer task", "changed", {"from": "outer"}),
                          ("outer : dependency's", "ok", {"from": "inner"}),
                          ("a role's module after the role", "ok", {"from": "inner"})]


def test_the_configured_module_path_is_searched(tmp_path):
    project(tmp_path / "project", BARE_PLAY + "    - {shared_module: {}}\n")
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "shared_module.py").write_text("#!/usr/bin/python\nprint('{}')\n")
    with pytest.raises(PlaybookError, match="unknown module or keyword 'shared_module'"):
        load_playbook(tmp_path / "project" / "play.yml")
    playbook = load_playbook(tmp_path / "project" / "play.yml", library_path=[str(tmp_path / "modules")])
    assert playbook.plays[0].tasks[0].module_path == str(tmp_path / "modules" / "shared_module.py")


def test_an_unknown_module_is_one_located_line_before_any_host(tmp_path):
    project(tmp_path / "project", BARE_PLAY + "    - {name: x, debug: {}}\n    - nowhere_module: {}\n",
            {"library/elsewhere.py": "print('{}')\n"})
    with pytest.raises(PlaybookError) as raised:
        load_playbook(tmp_path / "project" / "play.yml")
    assert str(raised.value).endswith("play.yml:5:7: 'nowhere_module': unknown module or keyword 'nowhere_module'")


def test_an_action_plugin_is_refused_by_name(tmp_path):
    project(tmp_path / "project", BARE_PLAY + "    - {my_action: {}, ignore_errors: true}\n",
            {"action_plugins/my_action.py": "from ansible.plugins.action import ActionBase\n"})
    with pytest.raises(PlaybookError, match=r"play\.yml:4:8: 'my_action': the action plugin 'my_action' "
                                            r".*action_plugins/my_action\.py\) is not supported by titan-ops"):
        load_playbook(tmp_path / "project" / "play.yml")


def test_a_module_importing_an_api_titan_ops_lacks_fails_its_task_clearly(tmp_path):
    module = "from ansible.module_utils.basic import AnsibleModule\nfrom ansible.module_utils.urls import open_url\n"
    project(tmp_path / "project", BARE_PLAY + "    - {name: t, web: {}, ignore_errors: true}\n",
            {"library/web.py": module})
    side = play_titan(tmp_path / "project", tmp_path / "base", ("msg",))
    status, result = side.tasks[0][1:]
    assert status == "failed"
    assert result["msg"].startswith("the module 'web' imports ansible.module_utils.urls, which titan-ops does not "
                                    "provide to custom modules (it provides ansible.module_utils._text, "
                                    "ansible.module_utils.basic, ")


@pytest.mark.parametrize("file, source, message", [
    ("web.py", "from ansible.module_utils.urls import open_url\n",
     "the module 'web' imports ansible.module_utils.urls, which titan-ops does not provide to custom modules"),
    ("web", "print('{}')\n", "module (web) is missing interpreter line"),
])
def test_a_module_that_cannot_run_is_refused_before_any_host_where_its_failure_is_unhandled(tmp_path, file, source,
                                                                                              message):
    project(tmp_path / "project", BARE_PLAY + "    - {name: first, file: {path: '{{ base }}/touched', state: touch}}\n"
            "    - {name: t, web: {}}\n", {f"library/{file}": source})
    with pytest.raises(PlaybookError) as raised:
        load_playbook(tmp_path / "project" / "play.yml")
    assert str(raised.value).startswith(f"{tmp_path / 'project' / 'play.yml'}:5:17: 'web': {message}")
    base = tmp_path / "base"
    base.mkdir()
    with pytest.raises(PlaybookError):
        titan_ops.run(tmp_path / "project" / "play.yml", tmp_path / "project" / "inventory.yml",
                      extra_vars={"base": str(base)})
    assert not (base / "touched").exists()  # (the first task never ran)


def test_the_python_interpreter_is_the_hosts(tmp_path):
    module = "#!/usr/bin/python\nimport json, sys\nprint(json.dumps({'python': sys.executable}))\n"
    project(tmp_path / "project", BARE_PLAY + "    - {name: t, which: {}}\n", {"library/which.py": module})
    side = play_titan(tmp_path / "project", tmp_path / "base", ("python",))
    assert side.tasks[0][2]["python"] == ORACLE_PYTHON  # (the inventory's ansible_python_interpreter)


def test_custom_modules_run_over_ssh_as_on_the_local_connection(lab, played, tmp_path):
    project(tmp_path / "project", PLAYBOOK, LIBRARY)
    result = titan_ops.run(tmp_path / "project" / "play.yml", lab.inventory_path, limit="lab1",
                           extra_vars={"base": str(tmp_path / "base")})
    over_ssh = {r.task: (r.status.value, {key: r.result[key] for key in KEYS if key in r.result})
                for r in result.host_results("lab1")}
    assert over_ssh == played


@pytest.mark.oracle
def test_custom_modules_match_ansible(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK, LIBRARY)
    monkeypatch.chdir(folder)
    keys = tuple(key for key in KEYS if key != "args")  # (ansible-core's recorder sees what it registers not)
    theirs = play_ansible(folder, tmp_path / "ansible", keys)
    ours = play_titan(folder, tmp_path / "titan", keys)
    assert ours.tasks == theirs.tasks and ours.rc == theirs.rc


def test_the_console_shows_a_modules_warnings_and_deprecations(tmp_path):
    noisy = ("from ansible.module_utils.basic import AnsibleModule\nm = AnsibleModule({})\nm.warn('This is a warning.')\n"
             "m.deprecate('This is a deprecation.', version='9999.9')\nm.exit_json()\n")
    project(tmp_path / "project", BARE_PLAY + "    - noisy: {}\n", {"library/noisy.py": noisy})
    shown = io.StringIO()
    titan_ops.run(tmp_path / "project" / "play.yml", tmp_path / "project" / "inventory.yml",
                  subscribers=[ConsoleRenderer(shown, color=False)])
    assert "[WARNING]: This is a warning.\n[DEPRECATION WARNING]: This is a deprecation. This feature will be " \
           "removed from module 'noisy' in collection 'ansible.legacy' version 9999.9.\nok: [h]\n" in shown.getvalue()


def test_file_attributes_are_set_as_the_module_asks(tmp_path):
    playbook = BARE_PLAY + """    - {name: check mode, file_mode: {path: "{{ base }}/f", mode: "0640"}, check_mode: true}
    - {name: set, file_mode: {path: "{{ base }}/f", mode: "0640", owner: "%d", group: "%d"}}
    - {name: unknown group, file_mode: {path: "{{ base }}/f", group: no-such-group-here}, ignore_errors: true}
    - {name: again, file_mode: {path: "{{ base }}/f", mode: 416}}
    - {name: symbolic, file_mode: {path: "{{ base }}/f", mode: "u+x"}, ignore_errors: true}
""" % (os.getuid(), os.getgid())
    project(tmp_path / "project", playbook, {"library/file_mode.py": FILE_MODE})
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "f").write_text("x")
    (tmp_path / "base" / "f").chmod(0o600)
    result = titan_ops.run(tmp_path / "project" / "play.yml", tmp_path / "project" / "inventory.yml",
                           extra_vars={"base": str(tmp_path / "base")})
    by_task = {r.task: (r.status.value, r.result) for r in result.host_results("h")}
    assert by_task["check mode"][0] == "changed"
    assert by_task["set"][0] == "changed" and by_task["set"][1]["diff"] == [
        {"before": {"mode": "0600"}, "after": {"mode": "0640"}}]
    assert by_task["again"][0] == "ok"
    assert by_task["unknown group"][1]["msg"] == "chown failed: failed to look up group no-such-group-here"
    assert by_task["symbolic"][1]["msg"] == "mode must be in octal form in titan-ops' module API, not 'u+x'"
    assert oct((tmp_path / "base" / "f").stat().st_mode & 0o777) == "0o640"


def test_files_loaded_when_the_run_gets_there_find_custom_modules_too(tmp_path):
    playbook = BARE_PLAY + """    - {include_role: {name: "{{ role }}"}, vars: {role: late}}
    - {include_tasks: more.yml}
"""
    files = {"roles/late/library/late_module": '#!/bin/sh\necho \'{"changed": false, "from": "late"}\'\n',
             "roles/late/tasks/main.yml": "- {name: in the late role, late_module: {}}\n",
             "library/own_module": '#!/bin/sh\necho \'{"changed": false, "from": "own"}\'\n',
             "more.yml": "- {name: included, own_module: {}}\n"}
    project(tmp_path / "project", playbook, files)
    side = play_titan(tmp_path / "project", tmp_path / "base", ("from",))
    assert [task for task in side.tasks if task[2]] == [("late : in the late role", "ok", {"from": "late"}),
                                                        ("included", "ok", {"from": "own"})]


def test_a_module_named_by_a_template_may_be_a_custom_one(tmp_path):
    project(tmp_path / "project", BARE_PLAY + '    - {name: chosen, action: "{{ which }} name=fred", vars: {which: '
                                              'old_style}}\n', {"library/old_style.sh": OLD_STYLE})
    side = play_titan(tmp_path / "project", tmp_path / "base", ("name",))
    assert side.tasks == [("chosen", "changed", {"name": "fred"})]
