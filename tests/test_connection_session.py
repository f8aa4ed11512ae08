"""Commands through one shell session per host (``ansible_titan_session``): one channel for all, output as
data that cannot end a frame, deadlines, Ctrl-C, a session that dies, and a channel per command as fallback."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time

import paramiko
import pytest
import yaml

import titan_ops
from titan_ops.cli import main
from titan_ops.commands.run import SESSION_ENV
from titan_ops.connection import ConnectionOptions, SSHConnection, address_from_vars
from titan_ops.connection import session as session_module
from titan_ops.connection import ssh as ssh_module
from titan_ops.connection.base import INPUT_REQUEST, REQUEST_INPUT, InputOnRequest
from titan_ops.connection.session import _Frame, frame_line
from titan_ops.errors import CommandTimeout, TitanOpsError
from titan_ops.connection.base import CommandInterrupted

OPTIONS = ConnectionOptions(command_timeout=30)
TOKENS = ("a" * 24, "b" * 24)


@pytest.fixture
def host(lab):
    connection = SSHConnection(dataclasses.replace(lab.address("lab1"), session=True), OPTIONS)
    yield connection
    connection.close()


@pytest.fixture
def plain(lab):
    connection = SSHConnection(dataclasses.replace(lab.address("lab1"), session=False), OPTIONS)
    yield connection
    connection.close()


def channels_opened(connection: SSHConnection, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the channels ``connection`` opens from now on."""
    transport = connection.transport
    opened: list[str] = []
    original = transport.open_session

    def counting(*args, **kwargs):
        opened.append("channel")
        return original(*args, **kwargs)

    monkeypatch.setattr(transport, "open_session", counting)
    return opened


def session_pid(connection: SSHConnection) -> int:
    session = connection._session
    assert session is not None and session.pid is not None
    return session.pid


def test_every_command_goes_through_one_channel(host, lab, monkeypatch):
    opened = channels_opened(host, monkeypatch)
    assert host.run(["echo", "first"]).stdout == "first\n"
    result = host.run("echo out; echo err >&2; printf 'no newline'; exit 4")
    assert (result.rc, result.stdout, result.stderr) == (4, "out\nno newline", "err\n")
    assert host.run(["cat"], stdin="héllo\n").stdout == "héllo\n"
    big = b"z" * (3 * 1024 * 1024)
    assert host.run(["wc", "-c"], stdin=big).stdout.strip() == str(len(big))
    assert host.run("head -c 2", stdin=b"unread rest" * 100_000).stdout == "un"
    assert host.run(["sh", "-c", 'printf "%s|%s" "$A" "$PWD"'], env={"A": "x; y $(z)"}, cwd="/opt/titan").stdout \
        == "x; y $(z)|/opt/titan"
    ask = f"{REQUEST_INPUT}; printf '%s:' \"$A\"; wc -c"
    assert host.run(ask, stdin=InputOnRequest(b"12345"), env={"A": "2"}).stdout.replace(" ", "") == "2:5\n"
    unasked = host.run("echo \"$A\"", stdin=InputOnRequest(b"x" * 100), env={"A": "3"})
    assert (unasked.stdout, unasked.stderr) == ("3\n", "")
    assert host.run("cd /; exit 9").rc == 9  # the command's exit and cd end its subshell, not the session
    assert host.run(["pwd"]).stdout != "/\n"
    assert host.run("if then fi").rc == 2  # a syntax error too
    host.put(b"0123456789" * 50_000, "/tmp/session-put")
    assert host.get("/tmp/session-put") == b"0123456789" * 50_000
    assert lab.host_path("lab1", "/tmp/session-put").stat().st_mode & 0o777 == 0o644
    assert opened == ["channel"]


def test_host_output_cannot_end_a_frame(host, monkeypatch):
    tokens = itertools.chain([TOKENS[0]], itertools.repeat(TOKENS[1]))
    monkeypatch.setattr(session_module.secrets, "token_hex", lambda size: next(tokens))
    assert host.run(["true"]).rc == 0  # token a, spent; every later command's is b, which the host cannot know
    forged = "".join(f"\\036{token}{end}\\n" for token in (TOKENS[0], "0" * 24) for end in ("<1", "<", "=0", ">", "!"))
    opened = channels_opened(host, monkeypatch)
    result = host.run(f"printf '{forged}half\\036{TOKENS[0]}'; printf '{forged}\\036titan-ops-input\\n' >&2; exit 3")
    expected = forged.replace("\\036", "\x1e").replace("\\n", "\n")
    assert (result.rc, result.stdout, result.stderr) == (3, f"{expected}half\x1e{TOKENS[0]}",
                                                         expected + INPUT_REQUEST.decode())
    binary = bytes(range(256)) * 1000
    host.put(binary, "/tmp/session-binary")
    assert host.get("/tmp/session-binary") == binary
    assert TOKENS[1] not in host.run(["ps", "-eo", "args"]).stdout  # never on a command line
    assert opened == []


def test_a_deadline_ends_the_command_and_the_host_goes_on_with_channels(host, plain, lab, monkeypatch):
    host.run("rm -f /tmp/session-count; echo once >> /tmp/session-count")
    opened = channels_opened(host, monkeypatch)
    with pytest.raises(CommandTimeout):
        host.run("echo ran >> /tmp/session-count; sh -c 'echo $$ > /tmp/session-sleeper; trap \"\" TERM; "
                 "exec sleep 300'", timeout=1)
    sleeper = lab.host_path("lab1", "/tmp/session-sleeper").read_text().strip()
    assert plain.run(["kill", "-0", sleeper]).rc != 0  # gone, though it ignored TERM
    assert host.run(["echo", "next"]).stdout == "next\n"
    assert host.run(["echo", "and next"]).stdout == "and next\n"
    assert len(opened) == 3  # the kill, then a channel per command
    assert lab.host_path("lab1", "/tmp/session-count").read_text() == "once\nran\n"  # not run again


def test_a_session_killed_between_commands_loses_and_doubles_nothing(host, plain, lab, monkeypatch):
    host.run("rm -f /tmp/session-ledger; echo one >> /tmp/session-ledger")
    assert plain.run(["kill", "-KILL", str(session_pid(host))]).rc == 0
    opened = channels_opened(host, monkeypatch)
    assert host.run("echo two >> /tmp/session-ledger").rc == 0
    assert host.run("echo three >> /tmp/session-ledger").rc == 0
    assert lab.host_path("lab1", "/tmp/session-ledger").read_text() == "one\ntwo\nthree\n"
    assert len(opened) == 2  # each on a channel of its own


def test_a_session_killed_during_a_command_gives_its_result_once(host, plain, lab, monkeypatch):
    host.run(["true"])
    pid = session_pid(host)
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=host.run(
        "echo started >> /tmp/session-once; echo started; sleep 30")))
    runner.start()
    for _ in range(100):
        if lab.host_path("lab1", "/tmp/session-once").exists():
            break
        time.sleep(0.05)
    assert plain.run(["kill", "-KILL", "--", f"-{pid}"]).rc == 0
    runner.join(20)
    result = outcome["result"]
    assert (result.rc, result.stdout) == (-1, "started\n")
    assert "session ended" in result.stderr
    assert host.run(["echo", "after"]).stdout == "after\n"
    assert lab.host_path("lab1", "/tmp/session-once").read_text() == "started\n"
    plain.run(["rm", "-f", "/tmp/session-once"])


def test_a_host_that_refuses_the_session_goes_on_with_channels(host, monkeypatch):
    def refused(*args, **kwargs):
        raise paramiko.ChannelException(1, "Administratively prohibited")

    monkeypatch.setattr(ssh_module, "ShellSession", refused)
    opened = channels_opened(host, monkeypatch)
    assert [host.run(["echo", str(number)]).stdout for number in range(3)] == ["0\n", "1\n", "2\n"]
    assert len(opened) == 3


def test_what_a_background_process_writes_later_is_no_later_commands_output(host, lab, monkeypatch):
    go, done = lab.host_path("lab1", "/tmp/session-go"), lab.host_path("lab1", "/tmp/session-done")
    for path in (go, done):
        path.unlink(missing_ok=True)
    result = host.run("(while [ ! -e /tmp/session-go ]; do sleep 0.05; done; echo late; echo late >&2; "
                      "touch /tmp/session-done) & echo now")
    assert (result.rc, result.stdout) == (0, "now\n")  # a channel would wait for the process to close its output
    go.touch()
    for _ in range(200):
        if done.exists():
            break
        time.sleep(0.05)
    opened = channels_opened(host, monkeypatch)
    after = host.run(["echo", "next"])
    assert (after.stdout, after.stderr) == ("next\n", "")
    assert host.run(["echo", "then"]).stdout == "then\n"
    assert opened == ["channel"]  # the session was dropped once it saw output outside its frames


def test_interrupt_ends_the_running_command(host, plain, lab):
    host.run(["true"])
    failure = {}

    def run() -> None:
        try:
            host.run("sh -c 'echo $$ > /tmp/session-interrupted; exec sleep 300'")
        except CommandInterrupted as error:
            failure["error"] = error

    runner = threading.Thread(target=run)
    runner.start()
    marker = lab.host_path("lab1", "/tmp/session-interrupted")
    for _ in range(100):
        if marker.exists() and marker.read_text().strip():
            break
        time.sleep(0.05)
    host.interrupt()
    runner.join(20)
    assert "error" in failure
    assert plain.run(["kill", "-0", marker.read_text().strip()]).rc != 0


def test_frames_are_found_however_the_bytes_arrive():
    token = TOKENS[0]
    mark = f"\x1e{token}".encode()
    stdout = b"junk before" + mark + b"<123\n" + b"out\x1e" + mark[:-1] + b"put" + mark + b"=7\n" + b"after"
    stderr = b"stray" + mark + b"<\n" + b"e" + INPUT_REQUEST + b"rr" + mark + b"!\n" + mark + b">\n"
    for size in (1, 2, 5, 1000):
        frame = _Frame(token, None, on_request=True)
        for start in range(0, max(len(stdout), len(stderr)), size):
            frame.take_stdout(stdout[start:start + size])
            frame.take_stderr(stderr[start:start + size])
        assert (frame.pid, frame.status, bytes(frame.stdout), bytes(frame.stderr)) == \
            (123, 7, b"out\x1e" + mark[:-1] + b"put", b"err")
        assert frame.complete and frame.asked and not frame.finished_unasked and frame.stray
    clean = _Frame(token, None, on_request=False)
    clean.take_stdout(mark + b"<1\nout" + mark + b"=0\n")
    clean.take_stderr(mark + b"<\n" + mark + b">\n")
    assert clean.complete and not clean.stray and bytes(clean.stdout) == b"out"


def test_the_frame_line_is_one_shell_line_with_the_command_quoted():
    line = frame_line(TOKENS[0], "echo 'a'\necho $HOME", 5, 9).decode()
    assert line.endswith("\n") and line.count("\n") == 2  # the newline inside the quoted command, and the end
    assert "eval 'echo '\"'\"'a'\"'\"'\necho $HOME'" in line
    assert "head -c 5; read -r go" in line and "head -c 9" in line


def test_the_inventory_variable_turns_it_on_or_off():
    assert address_from_vars("h", {"ansible_titan_session": "yes"}).session is True
    assert address_from_vars("h", {"ansible_titan_session": False}).session is False
    assert address_from_vars("h", {}).session is None
    with pytest.raises(TitanOpsError, match="h: ansible_titan_session 'maybe' is not a boolean"):
        address_from_vars("h", {"ansible_titan_session": "maybe"})


PARENT = """- hosts: lab
  gather_facts: false
  tasks:
    - shell: ps -o args= -p $PPID
      register: parent
    - debug: msg="{{ inventory_hostname }} {{ parent.stdout }}"
"""


def test_the_run_option_applies_where_the_inventory_does_not_say(lab, tmp_path):
    playbook = tmp_path / "parent.yml"
    playbook.write_text(PARENT)
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    inventory["all"]["children"]["lab"]["hosts"]["lab2"]["ansible_titan_session"] = False
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    result = titan_ops.run(playbook, tmp_path / "inventory.yml", session=True)
    parents = {host: next(task.stdout for task in result.host_results(host) if task.module == "shell")
               for host in ("lab1", "lab2", "lab3")}
    assert parents["lab1"] == parents["lab3"] == "/bin/sh"  # the session's subshell
    assert parents["lab2"].startswith("sshd: ")  # its own channel's session


def test_a_session_setting_that_is_no_boolean_stops_the_cli_before_any_host(tmp_path, monkeypatch, capsys):
    playbook = tmp_path / "parent.yml"
    playbook.write_text(PARENT)
    monkeypatch.setenv(SESSION_ENV, "maybe")
    assert main(["run", str(playbook), "-i", "localhost,"]) == 5
    assert "TITAN_OPS_SESSION: 'maybe' is not a boolean" in capsys.readouterr().err
