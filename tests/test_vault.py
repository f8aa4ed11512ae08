"""Ansible Vault: the format ansible-vault writes and reads, vault values and files in playbooks, vars files,
include_vars, copy and inventories, the vault options, and every opened value masked in every output."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.cli import main
from titan_ops.errors import PlaybookError
from titan_ops.inventory import load_inventory
from titan_ops.playbook import load_playbook
from titan_ops.vault import Vault, VaultError, VaultSecret, encrypt, parse_vault_id, read_secret
from tests.oracle import QUIET_ENV, require_oracle
from tests.test_checks_modules import ORACLE_PYTHON

PASSWORD = b"correct horse"
SECRET = VaultSecret("default", PASSWORD)


def test_encrypt_then_decrypt_and_what_fails():
    vault = Vault([VaultSecret("other", b"nope"), SECRET])
    text = encrypt("the plaintext\n", SECRET)
    assert text.startswith("$ANSIBLE_VAULT;1.1;AES256\n") and all(len(line) <= 80 for line in text.splitlines())
    assert vault.decrypt(text) == b"the plaintext\n"
    labelled = encrypt("x" * 100, VaultSecret("prod", PASSWORD))
    assert labelled.startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert Vault([VaultSecret("prod", PASSWORD)]).decrypt(labelled) == b"x" * 100
    with pytest.raises(VaultError, match="no vault password given opens this vault data"):
        Vault([VaultSecret("default", b"wrong")]).decrypt(text, "f.yml")
    with pytest.raises(VaultError, match="no vault password was given"):
        Vault().decrypt(text)
    damaged = text[:-10] + "zz" + text[-8:]
    with pytest.raises(VaultError, match="damaged"):
        vault.decrypt(damaged)
    flipped = text.replace(text.splitlines()[2], "0" * len(text.splitlines()[2]))
    with pytest.raises(VaultError):
        vault.decrypt(flipped)
    with pytest.raises(VaultError, match="not a vault format"):
        vault.decrypt("$ANSIBLE_VAULT;9.9;AES\n00\n")


def test_password_sources(tmp_path):
    plain = tmp_path / "pass.txt"
    plain.write_bytes(PASSWORD + b"\n")
    assert read_secret(str(plain)) == SECRET
    script = tmp_path / "pass.sh"
    script.write_text("#!/bin/sh\necho \"pw-for-$2\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert read_secret(str(script), "prod").password == b"pw-for-prod"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(VaultError, match="is empty"):
        read_secret(str(tmp_path / "empty"))
    with pytest.raises(VaultError, match="does not exist"):
        read_secret(str(tmp_path / "missing"))
    with pytest.raises(VaultError, match="needs a terminal"):
        read_secret("prompt")
    assert parse_vault_id("prod@/x/y") == ("prod", "/x/y") and parse_vault_id("/x/y") == ("default", "/x/y")


def _inline(value: str, indent: int) -> str:
    body = textwrap.indent(encrypt(value, SECRET), " " * (indent + 2))
    return "!vault |\n" + body


def make_project(folder: Path) -> dict[str, Path]:
    """A playbook using a vault value, an encrypted vars file, include_vars and copy of encrypted files,
    and an inventory with an encrypted group_vars file and a vault value; the password file."""
    (folder / "files").mkdir()
    (folder / "files" / "cert.pem").write_text(encrypt("-----CERT SECRET-----\n", SECRET))
    (folder / "secrets.yml").write_text(encrypt("db_password: hunter2-db\nnested: {key: nested-secret}\n", SECRET))
    (folder / "vars").mkdir()
    (folder / "vars" / "more.yml").write_text(encrypt("more_secret: included-secret\n", SECRET))
    (folder / "group_vars").mkdir()
    (folder / "group_vars" / "all.yml").write_text(encrypt("group_secret: from-group-vars\n", SECRET))
    out = folder / "out"
    out.mkdir()
    (folder / "inventory.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {ORACLE_PYTHON}\n"
        f"      host_secret: {_inline('inventory-inline', 6)}")
    (folder / "play.yml").write_text(f"""
- hosts: all
  gather_facts: false
  vars:
    api_token: {_inline('s3cr3t-token', 4)}
  vars_files: [secrets.yml]
  tasks:
    - name: every secret
      debug:
        msg: "{{{{ api_token }}}} {{{{ db_password }}}} {{{{ nested.key }}}} {{{{ group_secret }}}} {{{{ host_secret }}}}"
    - copy: {{src: cert.pem, dest: "{out}/cert.pem", mode: "0600"}}
    - include_vars: more.yml
    - command: cat {out}/cert.pem
      register: cert
    - debug: {{msg: "{{{{ more_secret }}}} {{{{ cert.stdout }}}}"}}
    - copy: {{content: "{{{{ api_token }}}}:{{{{ db_password }}}}", dest: "{out}/creds"}}
""")
    password = folder / "vault-pass"
    password.write_bytes(PASSWORD + b"\n")
    return {"playbook": folder / "play.yml", "inventory": folder / "inventory.yml", "password": password, "out": out}


SECRETS = ("s3cr3t-token", "hunter2-db", "nested-secret", "from-group-vars", "inventory-inline", "included-secret",
           "CERT SECRET")


def test_a_run_opens_every_vault_and_masks_what_it_opened(tmp_path, capsys):
    paths = make_project(tmp_path)
    report = tmp_path / "result.json"
    code = main(["run", str(paths["playbook"]), "-i", str(paths["inventory"]), "--vault-password-file",
                 str(paths["password"]), "--output-json", str(report), "-v"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert (paths["out"] / "cert.pem").read_text() == "-----CERT SECRET-----\n"
    assert (paths["out"] / "creds").read_text() == "s3cr3t-token:hunter2-db"
    recorded = report.read_text()
    for secret in SECRETS:
        assert secret not in output and secret not in recorded, secret
    assert '"msg": "******** ******** ******** ******** ********"' in output


def test_without_the_password(tmp_path, capsys):
    paths = make_project(tmp_path)
    code = main(["run", str(paths["playbook"]), "-i", str(paths["inventory"])])
    assert code == 5
    assert "group_vars/all.yml: the file is vault-encrypted, and no vault password was given" in capsys.readouterr().err
    (tmp_path / "group_vars" / "all.yml").unlink()
    (tmp_path / "secrets.yml").write_text("db_password: plain\nnested: {key: plain}\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(playbook.read_text().replace("{{ group_secret }}", "").replace(
        "  tasks:\n", "  tasks:\n    - {name: unrelated, debug: {msg: plain}}\n"))
    result = titan_ops.run(playbook, paths["inventory"])
    by_name = {r.task: r for r in result.host_results("h1")}
    assert by_name["every secret"].failed and "a vault-encrypted value is used, and no vault password was given" \
        in by_name["every secret"].msg
    assert by_name["unrelated"].status.value == "ok"  # a value no password opened fails only where it is used
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong\n")
    with pytest.raises(PlaybookError, match="play.yml:5:16: no vault password given opens this vault data"):
        load_playbook(playbook, vault=Vault([read_secret(str(wrong))]))


def test_vault_ids_and_ansible_cfg(tmp_path, monkeypatch, capsys):
    paths = make_project(tmp_path)
    (tmp_path / "ansible.cfg").write_text(f"[defaults]\nvault_identity_list = dev@{tmp_path / 'nope'}, "
                                          f"default@{paths['password']}\ninventory = inventory.yml\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    (tmp_path / "nope").write_text("dev-password\n")
    assert main(["run", "play.yml"]) == 0
    assert "hunter2-db" not in capsys.readouterr().out
    assert main(["validate", "play.yml", "--vault-id", f"dev@{tmp_path / 'nope'}"]) == 5
    assert "no vault password given opens this vault data" in capsys.readouterr().err


def test_the_inventory_shows_vault_values_as_ansible_inventory_does(tmp_path):
    paths = make_project(tmp_path)
    (tmp_path / "group_vars" / "all.yml").unlink()
    listed = load_inventory(paths["inventory"]).to_list_json()
    assert listed["_meta"]["hostvars"]["h1"]["host_secret"]["__ansible_vault"].startswith("$ANSIBLE_VAULT;1.1")
    vault = Vault([SECRET])
    assert load_inventory(paths["inventory"], vault=vault).host_vars("h1")["host_secret"] == "inventory-inline"
    assert "inventory-inline" in vault.revealed


def _ansible_vault(*args: str, cwd: Path) -> str:
    binary = require_oracle().parent / "ansible-vault"
    done = subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **QUIET_ENV}, check=True)
    return done.stdout


@pytest.mark.oracle
def test_ansible_vault_and_titan_ops_read_each_others_files(tmp_path):
    password = tmp_path / "pw"
    password.write_bytes(PASSWORD + b"\n")
    (tmp_path / "theirs.yml").write_text("theirs: made by ansible-vault\n")
    _ansible_vault("encrypt", "--vault-password-file", str(password), "theirs.yml", cwd=tmp_path)
    labelled = _ansible_vault("encrypt_string", "--vault-id", f"prod@{password}", "labelled value", cwd=tmp_path)
    vault = Vault([VaultSecret("prod", PASSWORD)])
    assert vault.decrypt((tmp_path / "theirs.yml").read_text()) == b"theirs: made by ansible-vault\n"
    assert vault.decrypt(yaml.safe_load(labelled.replace("!vault", "")).strip() + "\n") == b"labelled value"
    (tmp_path / "ours").write_text(encrypt("made by titan-ops\n", SECRET))
    (tmp_path / "ours-labelled").write_text(encrypt("labelled by titan-ops", VaultSecret("prod", PASSWORD)))
    assert _ansible_vault("view", "--vault-password-file", str(password), "ours", cwd=tmp_path) == \
        "made by titan-ops\n"
    assert _ansible_vault("view", "--vault-id", f"prod@{password}", "ours-labelled", cwd=tmp_path) == \
        "labelled by titan-ops\n"  # ansible-vault view ends what it shows with a newline


@pytest.mark.oracle
def test_a_vaulted_project_ends_as_with_ansible(tmp_path):
    paths = make_project(tmp_path)
    done = subprocess.run([str(require_oracle()), "-i", str(paths["inventory"]), str(paths["playbook"]),
                           "--vault-password-file", str(paths["password"])], capture_output=True, text=True,
                          env={**os.environ, **QUIET_ENV}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    theirs = {path.name: path.read_text() for path in paths["out"].iterdir()}
    for path in paths["out"].iterdir():
        path.unlink()
    result = titan_ops.run(paths["playbook"], paths["inventory"], vault=Vault([SECRET]))
    assert result.exit_code == 0
    assert {path.name: path.read_text() for path in paths["out"].iterdir()} == theirs
    assert json.dumps(result.to_dict(), default=str).count("hunter2-db") == 0
