"""Issue 12 §2: once a value is known to be secret, it is masked in every output and record for the rest
of the run, with its JSON-escaped, URL-encoded and base64 forms.

Each secret below comes by a different path (a name with a secret word anywhere in it, a list of them
and its loop items, a template, a vars file, task and block vars, a secret store, ``environment:``, a
fact set at run time, ``no_log``, the controller's environment); the run prints each of them through
commands, diffs, errors and an evidence bundle, at -v and -vvv, into JSON, JUnit and an incident. No
secret, in any form, is in any of it. The local connection, except the key-file test on the lab.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tarfile
import textwrap
import urllib.parse
from datetime import datetime
from pathlib import Path

import pytest
import yaml

import titan_ops

from titan_ops.engine import events
from titan_ops.engine.results import PlayResult, RunResult, Status, TaskResult
from titan_ops.redaction import MASK, Redactor, encoded_forms, is_secret_name
from tests.forked_cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _secret(label: str) -> str:
    return f"{label}-{secrets.token_hex(6)}"


@pytest.fixture(scope="module")
def leaked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run the playbook that prints every secret; every text it left behind, and the secrets."""
    folder = tmp_path_factory.mktemp("secrets")
    known = {name: _secret(name) for name in ("password_new", "db_passwords_0", "db_passwords_1", "raw",
                                              "app_secret", "task_password", "block_token", "pg_pw",
                                              "generated", "plain_fact", "store_value", "controller_token",
                                              "extra_store_value")}
    known["quoted_password"] = f'q"/+ &={secrets.token_hex(4)}\\ü'
    (folder / "app.yml").write_text(yaml.safe_dump({"app_secret": known["app_secret"]}))
    (folder / "credentials.yml").write_text(yaml.safe_dump({"service_login": known["store_value"]}))
    (folder / "secrets.yml").write_text(yaml.safe_dump({"ticket_ref": known["extra_store_value"]}))
    (folder / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"web1": {
        "ansible_connection": "local", "out": str(folder / "out"), "incidents": str(folder / "incidents")}}}}))
    (folder / "out").mkdir()
    play_vars = {"password_new": known["password_new"], "db_passwords": [known["db_passwords_0"],
                 known["db_passwords_1"]], "raw": known["raw"], "api_token": "{{ raw }}", "pg_pw": known["pg_pw"],
                 "quoted_password": known["quoted_password"]}
    encoder = ("import base64, json, sys, urllib.parse; s = sys.argv[1]; "
               "print(json.dumps(s), urllib.parse.quote(s, safe=''), urllib.parse.quote_plus(s), "
               "base64.b64encode(s.encode()).decode(), base64.b64encode(b'user:' + s.encode()).decode())")
    playbook = [{
        "hosts": "web1", "gather_facts": False, "vars": play_vars, "vars_files": ["app.yml", "credentials.yml"],
        "tasks": [
            {"name": "a name with a secret word in it", "command": "echo {{ password_new }}"},
            {"name": "a list of secrets, item by item", "command": "echo {{ item }}", "loop": "{{ db_passwords }}"},
            {"name": "a templated secret", "command": "echo {{ api_token }}"},
            {"name": "what it was templated from", "debug": {"msg": "{{ raw }}"}},
            {"name": "a vars file", "command": "echo {{ app_secret }}"},
            {"name": "task vars", "command": "echo {{ task_password }}",
             "vars": {"task_password": known["task_password"]}},
            {"block": [{"name": "block vars", "command": "echo {{ block_token }}"}],
             "vars": {"block_token": known["block_token"]}},
            {"name": "a secret store", "debug": {"msg": "login {{ service_login }}"}},
            {"name": "a secret store given with -e @", "debug": {"msg": "ticket {{ ticket_ref }}"}},
            {"name": "environment echoed", "shell": "env | grep PGPASSWORD",
             "environment": {"PGPASSWORD": "{{ pg_pw }}"}},
            {"name": "read at run time", "command": f"echo {known['generated']}", "register": "generated",
             "no_log": True},
            {"name": "a secret-named fact", "set_fact": {"new_secret": "{{ generated.stdout }}"}},
            {"name": "a fact set under no_log", "set_fact": {"plain_fact": known["plain_fact"]}, "no_log": True},
            *[{"name": f"printed again {index}", "command": "echo {{ new_secret }} {{ plain_fact }}"}
              for index in range(3)],
            {"name": "before the diff", "copy": {"content": "old\n", "dest": "{{ out }}/app.conf"}},
            {"name": "in a diff", "lineinfile": {"line": "token={{ new_secret }}", "path": "{{ out }}/app.conf"}},
            {"name": "in an error", "fail": {"msg": "bad password {{ password_new }}"}, "ignore_errors": True},
            {"name": "encoded forms", "command": {"argv": ["python3", "-c", encoder, "{{ quoted_password }}"]}},
            {"name": "the controller's environment", "debug": {"msg": "{{ lookup('env', 'TITAN_API_TOKEN') }}"}},
            {"name": "diagnostics", "shell": "{{ item }}", "register": "diagnostics",
             "loop": ["echo {{ new_secret }}", "echo {{ password_new }} >&2"]},
            {"name": "evidence", "evidence": {"dest": "{{ incidents }}/INC-SECRETS",
                                              "results": "{{ diagnostics.results }}"}},
        ]}]
    (folder / "playbook.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    texts = []
    environment = {**os.environ, "TITAN_API_TOKEN": known["controller_token"]}
    for verbosity in ("-v", "-vvv"):
        done = run_cli(
            ["run", folder / "playbook.yml", "-i", folder / "inventory.yml", verbosity, "-D", "-e",
             f"@{folder / 'secrets.yml'}", "--output-json", folder / f"run{verbosity}.json",
             "--junit", folder / f"run{verbosity}.xml", "--incident", "INC-SECRETS", "--incident-dir",
             folder / "incidents"], cwd=ROOT, env=environment, timeout=300)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        texts += [done.stdout, done.stderr]
    report = run_cli(["incident", "report", "INC-SECRETS", "--dir", folder / "incidents"], cwd=ROOT, env=environment)
    texts.append(report.stdout)
    for path in folder.rglob("*"):
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                texts += [archive.extractfile(member).read().decode() for member in archive if member.isfile()]
        elif path.is_file() and path.suffix in (".json", ".xml", ".jsonl", ".txt", ".md"):
            texts.append(path.read_text())
    return {"text": "\n".join(texts), "known": known, "folder": folder}


def test_every_secret_is_masked_in_every_output(leaked):
    text, known = leaked["text"], leaked["known"]
    found = {name: value for name, value in known.items() if value in text}
    assert found == {}


def test_their_encoded_forms_too(leaked):
    text, value = leaked["text"], leaked["known"]["quoted_password"]
    forms = {"json": json.dumps(value)[1:-1], "url": urllib.parse.quote(value, safe=""),
             "url+": urllib.parse.quote_plus(value), "base64": base64.b64encode(value.encode()).decode(),
             "base64 in basic auth": base64.b64encode(b"user:" + value.encode()).decode()[8:-4]}
    assert {name: form for name, form in forms.items() if form in text} == {}


def test_the_outputs_were_there_to_be_masked(leaked):
    """Not a vacuous pass: every output was written, and the masks stand where the secrets were."""
    text, folder = leaked["text"], leaked["folder"]
    for written in ("run-v.json", "run-vvv.json", "run-v.xml", "run-vvv.xml"):
        assert (folder / written).stat().st_size > 0
    assert list((folder / "incidents" / "INC-SECRETS").glob("web1-*.tar.gz"))
    assert (folder / "out" / "app.conf").read_text() == f"old\ntoken={leaked['known']['generated']}\n"
    for shown in (f"PGPASSWORD={MASK}", f"login {MASK}", f"ticket {MASK}", f"bad password {MASK}", f"token={MASK}",
                  f"{MASK} {MASK}"):
        assert shown in text, shown


@pytest.mark.parametrize(("name", "secret"), [
    ("password_new", True), ("db_passwords", True), ("api_token", True), ("X-Auth-Token", True),
    ("PGPASSWORD", True), ("titan_exchange_api_key", True), ("client_secret", True), ("ansible_become_pass", True),
    ("sessionCookie", True), ("vault_password", True),
    ("ansible_ssh_private_key_file", False), ("password_file", False), ("token_url", False),
    ("titan_api_user", False), ("api_key_id", False), ("auth_method", False), ("bypass", False),
    ("passed", False), ("stdout", False), ("getent_passwd", False), ("getent_shadow_password", True),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_a_list_under_a_secret_name_and_a_mapping_keep_their_other_names():
    redactor = Redactor()
    redactor.collect_from({"db_passwords": ["alpha-1", "beta-2"], "db": {"user": "titan", "password": "gamma-3"},
                           "credentials": {"user": "ops", "key": "delta-4", "key_file": "/k/id"}})
    shown = redactor.text("alpha-1 beta-2 titan gamma-3 ops delta-4 /k/id")
    assert shown == f"{MASK} {MASK} titan {MASK} ops {MASK} /k/id"


def test_encoded_forms_cover_every_base64_alignment():
    secret = "s3cr3t-value"
    redactor = Redactor([secret])
    for prefix in ("", "a", "ab", "user:", "Bearer x"):
        encoded = base64.b64encode(f"{prefix}{secret}!".encode()).decode()
        assert MASK in redactor.text(encoded), prefix
    assert secret in encoded_forms(secret)


def test_the_records_written_at_the_end_mask_what_was_learnt_after_it_was_printed():
    """A host printed a value; a later task made it a secret: the run's JSON, JUnit and RunResult mask it."""
    redactor = Redactor()
    now = datetime.now()
    printed = TaskResult("web1", "read", "command", Status.OK, now, now, {"stdout": "the token is tk-123456"})
    run = RunResult(playbook="p.yml", plays=[PlayResult("play", ["web1"])])
    run.plays[0].add(redactor.event(events.HostTaskDone(printed)).result)
    redactor.collect_from({"api_token": "tk-123456"})
    redactor.event(events.RunDone(run))
    assert run.plays[0].tasks["web1"][0].result["stdout"] == f"the token is {MASK}"


def test_a_missing_key_files_path_is_not_a_secret(lab, tmp_path):
    inventory = yaml.safe_load(Path(lab.inventory_path).read_text())
    missing = f"/nonexistent/keys/id-{secrets.token_hex(4)}"
    for group in [inventory["all"], *(inventory["all"].get("children") or {}).values()]:
        for name, host_vars in (group.get("hosts") or {}).items():
            if name == "lab1":
                host_vars["ansible_ssh_private_key_file"] = missing
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "playbook.yml").write_text(textwrap.dedent("""
        - hosts: lab1
          gather_facts: false
          tasks:
            - command: "true"
        """))
    done = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(tmp_path / "playbook.yml"), "-i",
                           str(tmp_path / "inventory.yml")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 4
    [unreachable] = [line for line in done.stdout.splitlines() if "UNREACHABLE!" in line]
    assert missing in unreachable and MASK not in unreachable


PRE_RUN_ERRORS = {  # name: (the play's keywords, options)
    "an extra var in a host pattern": ({"hosts": "{{ db_password }}["}, ["-e", "db_password=SECRET"]),
    "a secret store's value as a batch size": ({"serial": "{{ ticket_ref }}"}, ["-e", "@secrets.yml"]),
    "a play variable as a batch size": ({"serial": "{{ api_token }}", "vars": {"api_token": "SECRET"}}, []),
    "an inventory variable in a vars file's name": ({"vars_files": ["{{ db_password }}.yml"]}, []),
}


@pytest.mark.parametrize("name", list(PRE_RUN_ERRORS))
def test_an_error_before_the_run_masks_the_secrets_known_by_then(tmp_path, capsys, name):
    """A bad play keyword's one-line error quotes the value it rendered to: a secret (by name, from a
    secret store, from the inventory) is masked there as in every output."""
    from titan_ops.cli import main

    keywords, options = PRE_RUN_ERRORS[name]
    secret = _secret("pre-run")
    (tmp_path / "secrets.yml").write_text(yaml.safe_dump({"ticket_ref": secret}))
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"web1": {"ansible_connection": "local"}}, "vars": {"db_password": secret}}}))
    play = {"hosts": "all", "gather_facts": False, **keywords, "tasks": []}
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump([play]).replace("SECRET", secret))
    code = main(["run", str(tmp_path / "playbook.yml"), "-i", str(tmp_path / "inventory.yml"),
                 *(option.replace("SECRET", secret).replace("@", f"@{tmp_path}/") for option in options)])
    error = capsys.readouterr().err
    assert code == 5 and error.startswith("ERROR! ") and error.count("\n") == 1, error
    assert secret not in error and MASK in error, error


def test_the_shells_working_directory_is_no_secret(tmp_path, monkeypatch):
    """``PWD`` holds the controller's working directory (``pwd`` is a secret word in ``db_pwd``)."""
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("DB_PWD", _secret("db-pwd"))
    (tmp_path / "inventory").write_text("localhost ansible_connection=local\n")
    (tmp_path / "playbook.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - debug: {msg: \"{{ playbook_dir }} {{ lookup('env', 'DB_PWD') }}\"}\n")
    result = titan_ops.run(tmp_path / "playbook.yml", tmp_path / "inventory")
    assert result.host_results("localhost")[0].msg == f"{tmp_path} {MASK}"
