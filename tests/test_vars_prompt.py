"""``vars_prompt``: asked on a terminal (a pty here), answered by -e, by its default without a terminal, and
an error naming it when nothing can answer; private answers masked; against ansible-core for precedence."""

from __future__ import annotations

import os
import pty
import sys
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars: {who: from-play, shown: from-play}
  vars_files: [files.yml]
  vars_prompt:
    - {name: who, prompt: Who are you, private: false, default: nobody}
    - {name: shown, prompt: Shown, private: false, default: from-prompt}
    - {name: code, prompt: Code, confirm: true}
  tasks:
    - {name: answers, debug: {msg: "{{ who }} {{ shown }} {{ code }}"}}
"""


def _project(folder: Path, text: str = PLAYBOOK) -> tuple[Path, Path]:
    (folder / "files.yml").write_text("who: from-vars-files\n")
    playbook = folder / "play.yml"
    playbook.write_text(text)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"h1": {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}}}}))
    return playbook, inventory


def test_answers_from_ask_defaults_and_extra_vars(tmp_path):
    playbook, inventory = _project(tmp_path)
    asked = []

    def ask(prompt):
        asked.append((prompt.name, prompt.private, prompt.confirm))
        return {"who": "", "shown": "typed", "code": "c0de-value"}[prompt.name]

    result = titan_ops.run(playbook, inventory, ask=ask)
    assert asked == [("who", False, False), ("shown", False, False), ("code", True, True)]
    assert result.host_results("h1")[0].msg == "from-vars-files typed ********"  # vars_files over vars_prompt
    with pytest.raises(PlaybookError, match="play.yml:9:7: 'vars_prompt': vars_prompt .code. needs a terminal"):
        titan_ops.run(playbook, inventory)
    result = titan_ops.run(playbook, inventory, extra_vars={"code": "given"})
    assert result.host_results("h1")[0].msg == "from-vars-files from-prompt given"


@pytest.mark.parametrize("entry,message", [
    ("{name: pw, encrypt: sha512_crypt}", "the vars_prompt option 'encrypt' is not supported by titan-ops"),
    ("{name: pw, colour: red}", "unknown vars_prompt option 'colour'"),
    ("{prompt: x}", "needs 'name:'"),
    ("{name: pw, private: maybe}", "'private' must be true or false"),
])
def test_bad_prompts_are_refused_at_validation(tmp_path, entry, message):
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: all\n  vars_prompt:\n    - {entry}\n  tasks: []\n")
    with pytest.raises(PlaybookError, match=message):
        load_playbook(playbook)


def _run_on_a_terminal(argv: list[str], answers: list[tuple[bytes, bytes]]) -> str:
    """Run the CLI on a pseudo-terminal, answering each prompt that appears; everything it printed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the terminal
        os.execv(sys.executable, [sys.executable, "-m", "titan_ops", *argv])
    output = b""
    for prompt, answer in answers:
        while prompt not in output:
            output += os.read(fd, 1024)
        output = output.split(prompt, 1)[1]
        os.write(fd, answer)
    try:
        while chunk := os.read(fd, 4096):
            output += chunk
    except OSError:  # the terminal closes when the child exits
        pass
    os.waitpid(pid, 0)
    return output.decode()


def test_the_command_line_asks_on_a_terminal_and_masks_private_answers(tmp_path):
    playbook, inventory = _project(tmp_path)
    output = _run_on_a_terminal(["run", str(playbook), "-i", str(inventory)], [
        (b"Who are you [nobody]: ", b"\n"), (b"Shown [from-prompt]: ", b"typed\n"),
        (b"Code: ", b"c0de-value\n"), (b"confirm Code: ", b"mistyped\n"),
        (b"Code: ", b"c0de-value\n"), (b"confirm Code: ", b"c0de-value\n")])
    assert '"msg": "from-vars-files typed ********"' in output
    assert "c0de-value" not in output


@pytest.mark.oracle
def test_defaults_and_precedence_match_ansible(tmp_path):
    playbook, inventory = _project(tmp_path, PLAYBOOK.replace("Code, confirm: true", "Code, default: d"))
    code, report = ansible_report(playbook, inventory)  # not a terminal: defaults answer
    result = titan_ops.run(playbook, inventory)
    assert result.host_results("h1")[0].msg == report["plays"][0]["tasks"][0]["hosts"]["h1"]["msg"]
    assert result.exit_code == code
