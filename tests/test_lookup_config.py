"""The ``config`` lookup: ansible-core's settings titan-ops has, from ansible.cfg, ``ANSIBLE_*`` variables and
ansible-core's defaults; the same values as ansible-core's own lookup (oracle test), other settings refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from titan_ops.errors import TemplateError
from titan_ops.templating import Templar
from titan_ops.trust import Authored
from tests.oracle import ansible_record

CONFIG = """[defaults]
roles_path = roles:/srv/shared-roles
remote_user = deploy
timeout = 25
host_key_checking = False

[privilege_escalation]
become_user = admin
"""
ENVIRONMENT = {"ANSIBLE_FORKS": "7"}
EXPRESSIONS = [
    "lookup('config', 'DEFAULT_FORKS')",
    "lookup('config', 'DEFAULT_ROLES_PATH', wantlist=True)",
    "lookup('config', 'DEFAULT_REMOTE_USER')",
    "lookup('config', 'DEFAULT_TIMEOUT')",
    "lookup('config', 'HOST_KEY_CHECKING')",
    "lookup('config', 'DEFAULT_BECOME_USER')",
    "lookup('config', 'DEFAULT_BECOME_METHOD')",
    "lookup('config', 'DEFAULT_BECOME')",
    "lookup('config', 'DEFAULT_GATHERING')",
    "lookup('config', 'ERROR_ON_MISSING_HANDLER')",
    "lookup('config', 'DEFAULT_HOST_LIST', wantlist=True)",
    "lookup('config', 'ALLOW_BROKEN_CONDITIONALS')",
    "query('config', 'DEFAULT_FORKS', 'DEFAULT_TRANSPORT')",
    "query('config', 'NOT_A_SETTING_OF_ANYONE', on_missing='skip')",
]


@pytest.fixture
def configured(tmp_path, monkeypatch) -> Path:
    """An ansible.cfg (named by ANSIBLE_CONFIG) and ANSIBLE_FORKS, in this process's environment."""
    (tmp_path / "ansible.cfg").write_text(CONFIG)
    for key in [key for key in os.environ if key.startswith("ANSIBLE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ANSIBLE_CONFIG", str(tmp_path / "ansible.cfg"))
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    return tmp_path


def _titan(expression: str) -> Any:
    return Templar().evaluate(Authored(expression), {})


def test_settings_come_from_the_environment_then_ansible_cfg_then_ansibles_defaults(configured):
    assert _titan("lookup('config', 'DEFAULT_FORKS')") == 7
    assert _titan("lookup('config', 'DEFAULT_ROLES_PATH')") == [str(configured / "roles"), "/srv/shared-roles"]
    assert _titan("lookup('config', 'DEFAULT_REMOTE_USER')") == "deploy"
    assert _titan("lookup('config', 'DEFAULT_TIMEOUT')") == 25
    assert _titan("lookup('config', 'HOST_KEY_CHECKING')") is False
    assert _titan("lookup('config', 'DEFAULT_BECOME_METHOD')") == "sudo"
    assert _titan("lookup('config', 'ALLOW_BROKEN_CONDITIONALS')") is False
    assert _titan("query('config', 'NOT_A_SETTING_OF_ANYONE', on_missing='skip')") == []


@pytest.mark.parametrize("expression,words", [
    ("lookup('config', 'COLOR_OK')", "the setting 'COLOR_OK' is not supported by titan-ops"),
    ("lookup('config', 'ssh_args', plugin_type='connection', plugin_name='ssh')",
     "the settings of plugins (plugin_type, plugin_name) are not supported by titan-ops"),
    ("lookup('config', 'DEFAULT_FORKS', on_missing='maybe')", '"on_missing" must be a string and one of'),
])
def test_other_settings_are_refused_by_name(configured, expression, words):
    with pytest.raises(TemplateError) as raised:
        _titan(expression)
    assert words in str(raised.value)


@pytest.mark.oracle
def test_ansible_core_gives_the_same_values(configured, tmp_path):
    tasks = [{"debug": {"msg": "{{ " + expression + " }}"}} for expression in EXPRESSIONS]
    (tmp_path / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    record = ansible_record("-i", "localhost,", "-c", "local", "play.yml", cwd=tmp_path,
                            env={**ENVIRONMENT, "ANSIBLE_CONFIG": str(configured / "ansible.cfg")})
    ansible = [task["hosts"]["localhost"].get("msg") for task in record["plays"][0]["tasks"]]
    assert ansible == [_titan(expression) for expression in EXPRESSIONS]
