"""ansible.cfg and ANSIBLE_* settings as ansible-playbook finds them, and ansible-playbook's options of
``titan-ops run``: -u, -c, -b, --list-hosts/--list-tasks/--list-tags, --syntax-check, -k/-K."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from titan_ops.cli import main
from titan_ops.config import ConfigError, find_config, load_config
from tests.forked_cli import run_cli
from tests.oracle import QUIET_ENV, require_oracle
from tests.test_checks_modules import ORACLE_PYTHON
from tests.test_roles import make_project as make_roles_project


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ANSIBLE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_file_ansible_finds(tmp_path, clean_env):
    home, work, named = tmp_path / "home", tmp_path / "work", tmp_path / "named"
    for folder in (home, work, named):
        folder.mkdir()
    clean_env.setenv("HOME", str(home))
    (home / ".ansible.cfg").write_text("[defaults]\nforks = 1\n")
    assert find_config({}, str(work)) == str(home / ".ansible.cfg")
    (work / "ansible.cfg").write_text("[defaults]\nforks = 2\n")
    assert find_config({}, str(work)) == str(work / "ansible.cfg")
    work.chmod(0o777)  # Ansible ignores ./ansible.cfg in a world-writable folder
    assert find_config({}, str(work)) == str(home / ".ansible.cfg")
    work.chmod(0o755)
    (named / "ansible.cfg").write_text("[defaults]\nforks = 3\n")
    assert find_config({"ANSIBLE_CONFIG": str(named)}, str(work)) == str(named / "ansible.cfg")
    assert find_config({"ANSIBLE_CONFIG": str(home / ".ansible.cfg")}, str(work)) == str(home / ".ansible.cfg")


def test_settings_types_relative_paths_and_the_environment(tmp_path, clean_env):
    config = tmp_path / "ansible.cfg"
    config.write_text(textwrap.dedent("""
        [defaults]
        forks = 7 ; inline comment
        # a comment
        inventory = hosts.yml, /abs/other
        roles_path = roles:~/more-roles
        host_key_checking = False
        remote_user = deploy
        timeout = 3
        gathering = explicit
        nocows = 1
        stdout_callback = yaml
        [privilege_escalation]
        become = true
        become_user = postgres
        [colors]
        ok = green
        [ssh_connection]
        ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s
        pipelining = True
        """))
    loaded = load_config(str(config), environ={})
    assert loaded.ssh_args == "-C -o ControlMaster=auto -o ControlPersist=60s"
    assert (loaded.forks, loaded.host_key_checking, loaded.remote_user, loaded.timeout, loaded.gathering) == \
        (7, False, "deploy", 3.0, "explicit")
    assert loaded.inventory == (str(tmp_path / "hosts.yml"), "/abs/other")
    assert loaded.roles_path == (str(tmp_path / "roles"), os.path.expanduser("~/more-roles"))
    assert (loaded.become, loaded.become_user) == (True, "postgres")
    assert loaded.sources["forks"] == f"{config}:3"
    overridden = load_config(str(config), environ={"ANSIBLE_FORKS": "9", "ANSIBLE_HOST_KEY_CHECKING": "yes"})
    assert (overridden.forks, overridden.host_key_checking, overridden.sources["forks"]) == (9, True, "ANSIBLE_FORKS")


@pytest.mark.parametrize("text,message", [
    ("[defaults]\nstrategy = mitogen_linear\n", "ansible.cfg:2: 'strategy': [defaults] strategy: this setting is "
                                                "not supported by titan-ops"),
    ("[defaults]\nforks = many\n", "ansible.cfg:2: 'forks': [defaults] forks: invalid literal"),
    ("[defaults]\ngathering = sometimes\n", "must be one of implicit, explicit, smart"),
    ("[ssh_connection]\nssh_timeout = 3\n", "[ssh_connection] ssh_timeout: this setting is not supported"),
    ("forks = 1\n", "cannot read the configuration"),
])
def test_a_bad_or_unsupported_setting_is_named_with_its_line(tmp_path, clean_env, text, message):
    config = tmp_path / "ansible.cfg"
    config.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(str(config), environ={})
    assert message in str(error.value)


def _local_inventory(folder: Path) -> Path:
    path = folder / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"h1": {"ansible_host": "127.0.0.1"}}}}))
    return path


def test_ansible_cfg_drives_a_run(tmp_path, clean_env, capsys):
    make_roles_project(tmp_path)
    shared = tmp_path / "shared"
    (tmp_path / "roles").rename(shared)
    _local_inventory(tmp_path)
    (tmp_path / "play.yml").write_text("- hosts: all\n  roles: [{role: dep, dep_param: from-role}]\n"
                                       "  tasks:\n    - command: id -un\n      register: who\n"
                                       "    - debug: {var: who.stdout}\n")
    (tmp_path / "ansible.cfg").write_text("[defaults]\ninventory = hosts.yml\nroles_path = shared\n"
                                          "transport = local\ngathering = explicit\n")
    clean_env.chdir(tmp_path)
    assert main(["run", "play.yml"]) == 0
    output = capsys.readouterr().out
    assert "Gathering Facts" not in output and "dep 1" not in output and '"dep from-role' in output
    assert '"who.stdout": "root"' in output
    (tmp_path / "ansible.cfg").write_text("[defaults]\ninventory = hosts.yml\nroles_path = shared\n")
    assert main(["run", "play.yml", "-c", "local", "-T", "2"]) == 0
    assert "TASK [Gathering Facts]" in capsys.readouterr().out
    clean_env.setenv("ANSIBLE_ROLES_PATH", str(tmp_path / "elsewhere"))
    assert main(["run", "play.yml", "-c", "local"]) == 5
    assert "the role 'dep' was not found" in capsys.readouterr().err


def test_become_and_user_options(tmp_path, clean_env, capsys):
    inventory = _local_inventory(tmp_path)
    (tmp_path / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                                       "    - {command: id -un, register: who}\n    - debug: {var: who.stdout}\n"
                                       "- hosts: all\n  gather_facts: false\n  become: false\n  tasks:\n"
                                       "    - {command: id -un, register: who}\n    - debug: {var: who.stdout}\n")
    assert main(["run", str(tmp_path / "play.yml"), "-i", str(inventory), "-c", "local", "-b",
                 "--become-user", "nobody"]) == 0
    output = capsys.readouterr().out
    assert output.index('"who.stdout": "nobody"') < output.index('"who.stdout": "root"')  # a play's own become wins


@pytest.mark.parametrize("argv,message", [
    (["-K"], "-K/--ask-become-pass is not supported"),
    (["-k"], "-k/--ask-pass needs a terminal"),
    (["-c", "winrm"], "invalid choice: 'winrm'"),
])
def test_options_that_cannot_be_honoured_are_refused(tmp_path, clean_env, capsys, argv, message):
    inventory = _local_inventory(tmp_path)
    (tmp_path / "play.yml").write_text("- hosts: all\n  tasks: [{debug: {msg: x}}]\n")
    code = run_cli(["run", tmp_path / "play.yml", "-i", inventory, *argv])
    assert code.returncode == 5 and message in code.stderr


LISTED = """
- name: first play
  hosts: all
  gather_facts: false
  tags: [playtag]
  tasks:
    - {name: named task, debug: {msg: x}, tags: [a, b]}
    - block:
        - {debug: {msg: y}, tags: [c]}
      tags: [blk]
    - include_tasks: inc.yml
    - import_tasks: inc.yml
    - {debug: {msg: never}, tags: [never]}
- hosts: web:!h2
  gather_facts: false
  roles: [dep]
"""


@pytest.mark.oracle
@pytest.mark.parametrize("options", [["--list-hosts"], ["--list-tasks"], ["--list-tags"], ["--list-tasks", "-t", "a"],
                                     ["--list-tasks", "--skip-tags", "c"], ["--list-hosts", "--list-tasks",
                                                                             "--list-tags", "-l", "h1"],
                                     ["--syntax-check"]])
def test_listings_are_ansibles(tmp_path, clean_env, capsys, options):
    make_roles_project(tmp_path)
    (tmp_path / "inc.yml").write_text("- debug: msg=inc\n")
    playbook = tmp_path / "site.yml"
    playbook.write_text(LISTED)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"web": {"hosts": {
        "h1": {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}, "h2": None}}}}}))
    clean_env.chdir(tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", "hosts.yml", "site.yml", *options], capture_output=True,
                          text=True, env={**os.environ, **QUIET_ENV}, timeout=120)
    assert main(["run", "site.yml", "-i", "hosts.yml", *options]) == done.returncode == 0
    assert _hosts_sorted(capsys.readouterr().out) == _hosts_sorted(done.stdout)


def _hosts_sorted(listing: str) -> str:
    """``listing`` with each play's host lines sorted: ansible-playbook prints them in no fixed order (from a
    set; titan-ops prints them in inventory order)."""
    lines = listing.split("\n")
    out: list[str] = []
    while lines:
        line = lines.pop(0)
        out.append(line)
        if line.strip().startswith("hosts ("):
            hosts = []
            while lines and lines[0].startswith("      ") and "\t" not in lines[0]:
                hosts.append(lines.pop(0))
            out += sorted(hosts)
    return "\n".join(out)
