"""SSH connections against the real lab: data stays data, one connection per host, keys, timeouts, files."""

from __future__ import annotations

import dataclasses
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from titan_ops.connection import ConnectionOptions, ConnectionPool, SSHConnection, TransferError
from titan_ops.connection.base import REQUEST_INPUT, InputOnRequest
from titan_ops.errors import CommandTimeout, HostUnreachable
from titan_ops.lab import Lab
from titan_ops.lab.keys import ensure_key_pair

STRICT = ConnectionOptions(command_timeout=30)


@pytest.fixture
def pool():
    connections = ConnectionPool(STRICT)
    yield connections
    connections.close_all()


@pytest.fixture
def lab1(lab: Lab, pool: ConnectionPool):
    return pool.get(lab.address("lab1"))


def accepted_logins(lab: Lab, name: str) -> int:
    return lab.log_path(name).read_text().count("Accepted publickey")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


METACHARACTERS = ["a b", "c'd", 'e"f', "g;h", "$(touch /tmp/pwned)", "`id`", "x\ny", "*", "|", "&&", "-n", ""]


def test_list_items_arrive_as_data(lab1, lab):
    result = lab1.run(["printf", "[%s]\\n", *METACHARACTERS])
    assert result.rc == 0
    assert result.stdout == "".join(f"[{item}]\n" for item in METACHARACTERS)
    assert not lab.host_path("lab1", "/tmp/pwned").exists()


def test_string_runs_through_the_shell(lab1):
    result = lab1.run("echo $((1 + 2)) | tr 3 X; echo oops >&2; exit 4")
    assert (result.rc, result.stdout, result.stderr) == (4, "X\n", "oops\n")


def test_stdin_text_bytes_and_larger_than_the_window(lab1):
    assert lab1.run(["cat"], stdin="héllo\n").stdout == "héllo\n"
    assert lab1.run(["od", "-An", "-tx1"], stdin=b"\x00\xff").stdout.split() == ["00", "ff"]
    big = b"z" * (3 * 1024 * 1024)
    assert lab1.run(["wc", "-c"], stdin=big).stdout.strip() == str(len(big))
    assert lab1.run(["cat"]).stdout == ""  # no stdin: the command sees EOF at once


def test_input_on_request_is_sent_only_when_asked_for(lab1):
    ask = f"{REQUEST_INPUT}; wc -c"
    assert lab1.run(f"if true; then {ask}; else echo no; fi", stdin=InputOnRequest(b"12345")).stdout.strip() == "5"
    skipped = lab1.run(f"if false; then {ask}; else echo no; fi", stdin=InputOnRequest(b"x" * 4_000_000))
    assert (skipped.rc, skipped.stdout, skipped.stderr) == (0, "no\n", "")
    assert lab1.run(["echo", "still connected"]).stdout == "still connected\n"


def test_unread_input_of_many_lines_is_drained(lab1):
    lines = b"".join(b"line %d\n" % number for number in range(200_000))
    assert lab1.run("head -n 1", stdin=lines).stdout == "line 0\n"
    assert lab1.run(["echo", "still connected"]).stdout == "still connected\n"


def test_env_and_cwd(lab1):
    result = lab1.run(["sh", "-c", 'printf "%s|%s" "$A" "$PWD"'], env={"A": "x; y $(z)"}, cwd="/opt/titan")
    assert result.stdout == "x; y $(z)|/opt/titan"


def test_environment_values_stay_out_of_the_host_process_list(lab1):
    secret = "s3cr3t-value with spaces; $(not run)"
    outcome: dict[str, str] = {}
    started = threading.Event()

    def slow() -> None:
        started.set()
        outcome["out"] = lab1.run('sleep 1.5; printf "%s|%s" "$TOKEN" "$LINES_OF"',
                                  env={"TOKEN": secret, "LINES_OF": "a\nb"}).stdout

    worker = threading.Thread(target=slow)
    worker.start()
    started.wait()
    listing = ""
    for _ in range(50):  # until the command is seen running
        listing = lab1.run(["ps", "-eo", "args"]).stdout
        if "sleep 1.5" in listing:
            break
    worker.join()
    assert "sleep 1.5" in listing
    assert "s3cr3t" not in listing
    assert outcome["out"] == f"{secret}|a\nb"  # a value with a newline travels on the command line


def test_environment_with_input_and_with_input_on_request(lab1):
    assert lab1.run(["sh", "-c", 'printf "%s:" "$A"; cat'], stdin="data\n", env={"A": "1"}).stdout == "1:data\n"
    ask = f"{REQUEST_INPUT}; printf '%s:' \"$A\"; wc -c"
    asked = lab1.run(f"if true; then {ask}; fi", stdin=InputOnRequest(b"12345"), env={"A": "2"})
    assert asked.stdout.replace(" ", "") == "2:5\n"
    unasked = lab1.run("if false; then cat; else echo \"$A\"; fi", stdin=InputOnRequest(b"x" * 100), env={"A": "3"})
    assert unasked.stdout == "3\n"
    empty = lab1.run(f"{REQUEST_INPUT}; wc -c", stdin=InputOnRequest(b""), env={"A": "4"})
    assert (empty.stdout.strip(), empty.stderr) == ("0", "")
    assert lab1.run(["echo", "still connected"]).stdout == "still connected\n"


def test_session_environment_is_clean(lab1, lab):
    home = lab1.run("echo $HOME").stdout.strip()
    assert home.startswith(str(lab.directory)) and home.endswith("home")


def test_one_connection_serves_every_command(lab, pool):
    before = accepted_logins(lab, "lab2")
    connection = pool.get(lab.address("lab2"))
    transport = connection.transport
    for number in range(20):
        assert connection.run(["echo", str(number)]).stdout == f"{number}\n"
    assert connection.transport is transport
    assert pool.get(lab.address("lab2")) is connection
    assert accepted_logins(lab, "lab2") == before + 1


def test_commands_from_many_threads_share_one_connection(lab):
    connection = SSHConnection(lab.address("lab3"), STRICT)
    before = accepted_logins(lab, "lab3")

    def command(number: int) -> str:
        if number % 2:  # quick commands that ignore their input must not break the connection
            return connection.run(["true"], stdin="unread " * number).stdout
        return connection.run(["echo", str(number)]).stdout

    try:
        with ThreadPoolExecutor(16) as workers:
            outputs = list(workers.map(command, range(128)))
    finally:
        connection.close()
    assert outputs == [f"{n}\n" if n % 2 == 0 else "" for n in range(128)]
    assert accepted_logins(lab, "lab3") == before + 1


def test_close_is_safe_twice_and_from_another_thread(lab):
    connection = SSHConnection(lab.address("lab1"), STRICT)
    connection.run(["true"])
    closer = threading.Thread(target=connection.close)
    closer.start()
    closer.join()
    connection.close()
    assert connection.run(["echo", "again"]).stdout == "again\n"  # reconnects lazily
    connection.close()


def test_unknown_host_key_is_unreachable_and_named(lab, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    address = dataclasses.replace(lab.address("lab1"), known_hosts_file=str(empty))
    with pytest.raises(HostUnreachable) as caught:
        SSHConnection(address, STRICT).run(["true"])
    message = str(caught.value)
    assert "UNKNOWN" in message and f"[127.0.0.1]:{address.port}" in message
    assert "\n" not in message


def test_changed_host_key_is_unreachable(lab, tmp_path):
    lab2_key = lab.known_hosts_path.read_text().splitlines()[1].split(" ", 1)[1]
    forged = tmp_path / "known_hosts"
    forged.write_text(f"[127.0.0.1]:{lab.host('lab1').port} {lab2_key}\n")
    address = dataclasses.replace(lab.address("lab1"), known_hosts_file=str(forged))
    with pytest.raises(HostUnreachable, match="CHANGED"):
        SSHConnection(address, STRICT).run(["true"])


def test_host_key_checking_off_accepts_any_key(lab, tmp_path):
    lab2_key = lab.known_hosts_path.read_text().splitlines()[1].split(" ", 1)[1]
    forged = tmp_path / "known_hosts"
    forged.write_text(f"[127.0.0.1]:{lab.host('lab1').port} {lab2_key}\n")
    address = dataclasses.replace(lab.address("lab1"), known_hosts_file=str(forged))
    connection = SSHConnection(address, ConnectionOptions(host_key_checking=False))
    try:
        assert connection.run(["hostname"]).stdout == "lab1\n"
    finally:
        connection.close()
    assert forged.read_text().count("\n") == 1  # nothing was added


def test_wrong_key_fails_authentication(lab, tmp_path):
    stranger = tmp_path / "stranger"
    ensure_key_pair(stranger, "stranger")
    address = dataclasses.replace(lab.address("lab1"), key_file=str(stranger))
    options = dataclasses.replace(STRICT, ssh_config_file=str(tmp_path / "no_ssh_config"))
    (tmp_path / "no_ssh_config").write_text("")
    with pytest.raises(HostUnreachable, match="authentication failed for user root"):
        SSHConnection(address, options).run(["true"])


def test_host_down_is_unreachable_and_others_finish(lab, pool):
    down = dataclasses.replace(lab.address("lab1"), name="ghost", port=free_port())
    addresses = [down, lab.address("lab1"), lab.address("lab2"), lab.address("lab3")]

    def hostname(address):
        try:
            return pool.get(address).run(["hostname"]).stdout.strip()
        except HostUnreachable as error:
            return str(error)

    with ThreadPoolExecutor(4) as workers:
        results = list(workers.map(hostname, addresses))
    assert results[0].startswith("ghost (root@127.0.0.1:") and results[0].endswith("connection refused")
    assert results[1:] == ["lab1", "lab2", "lab3"]


def remote_processes(connection, marker: str) -> list[str]:
    """Live (not zombie) processes whose command line holds ``marker``."""
    listing = connection.run(["ps", "-eo", "stat=,args="]).stdout.splitlines()
    return [line for line in listing if marker in line and not line.strip().startswith("Z") and "ps -eo" not in line]


def test_timeout_ends_the_remote_process_group(lab1):
    with pytest.raises(CommandTimeout, match="timed out after 1s"):
        lab1.run("sleep 7301 & sleep 7302; echo never", timeout=1)
    assert remote_processes(lab1, "sleep 730") == []


def test_timeout_kills_what_ignores_sigterm(lab1):
    with pytest.raises(CommandTimeout):
        lab1.run("trap '' TERM; sleep 7303", timeout=0.5)
    assert remote_processes(lab1, "sleep 7303") == []


def test_default_command_timeout_comes_from_options(lab):
    connection = SSHConnection(lab.address("lab2"), ConnectionOptions(command_timeout=0.5))
    try:
        with pytest.raises(CommandTimeout, match="0.5s"):
            connection.run(["sleep", "7304"])
        assert remote_processes(connection, "sleep 7304") == []
    finally:
        connection.close()


def test_put_then_get(lab1, lab):
    lab1.put(b"threads: 4\n", "/etc/titan/engine.conf", 0o640)
    assert lab1.get("/etc/titan/engine.conf") == b"threads: 4\n"
    backing = lab.host_path("lab1", "/etc/titan/engine.conf")
    assert backing.read_bytes() == b"threads: 4\n"
    assert backing.stat().st_mode & 0o7777 == 0o640
    assert [p.name for p in backing.parent.iterdir() if "titan-ops" in p.name] == []  # no temp file left


def test_put_keeps_mode_of_replaced_file_and_gives_new_files_0644(lab1, lab):
    lab1.run(["sh", "-c", "printf old > /srv/titan/keep && chmod 600 /srv/titan/keep"])
    lab1.put(b"new", "/srv/titan/keep")
    lab1.put(b"fresh", "/srv/titan/fresh")
    assert lab.host_path("lab1", "/srv/titan/keep").stat().st_mode & 0o7777 == 0o600
    assert lab.host_path("lab1", "/srv/titan/fresh").stat().st_mode & 0o7777 == 0o644
    assert lab1.get("/srv/titan/keep") == b"new"


def test_put_never_shows_a_partial_file(lab1, lab):
    old, new = b"a" * (4 << 20), b"b" * (4 << 20)
    lab1.put(old, "/var/lib/titan/state.bin", 0o600)
    backing = lab.host_path("lab1", "/var/lib/titan/state.bin")
    seen: set[bytes] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            data = backing.read_bytes()
            seen.add(data[:1] * len(data) if data in (old, new) else b"partial")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        lab1.put(new, "/var/lib/titan/state.bin", 0o600)
    finally:
        stop.set()
        watcher.join()
    assert b"partial" not in seen
    assert lab1.get("/var/lib/titan/state.bin") == new


def test_put_and_get_failures(lab1):
    with pytest.raises(TransferError, match="cannot write /opt/titan/missing/dir/f"):
        lab1.put(b"x", "/opt/titan/missing/dir/f")
    with pytest.raises(TransferError, match="cannot read /opt/titan/absent"):
        lab1.get("/opt/titan/absent")


def test_jump_host(lab, pool):
    through_lab2 = dataclasses.replace(
        lab.address("lab1"), name="lab1-via-lab2", jump_host=f"root@127.0.0.1:{lab.host('lab2').port}"
    )
    before = accepted_logins(lab, "lab1"), accepted_logins(lab, "lab2")
    assert pool.get(through_lab2).run(["hostname"]).stdout == "lab1\n"
    assert (accepted_logins(lab, "lab1"), accepted_logins(lab, "lab2")) == (before[0] + 1, before[1] + 1)


def test_hosts_behind_one_jump_host_share_its_connection(lab, pool):
    jump = f"root@127.0.0.1:{lab.host('lab2').port}"
    behind = [dataclasses.replace(lab.address(name), name=f"{name}-behind-lab2", jump_host=jump)
              for name in ("lab1", "lab3")]
    before = accepted_logins(lab, "lab2")
    with ThreadPoolExecutor(2) as workers:  # both connect at once
        names = list(workers.map(lambda address: pool.get(address).run(["hostname"]).stdout, behind))
    assert names == ["lab1\n", "lab3\n"]
    assert accepted_logins(lab, "lab2") == before + 1  # one login on the jump host for both
    pool.get(behind[0]).close()  # a target closed: the jump host stays open for the other
    assert pool.get(behind[1]).run(["hostname"]).stdout == "lab3\n"
    assert pool.get(behind[0]).run(["hostname"]).stdout == "lab1\n"
    assert accepted_logins(lab, "lab2") == before + 1
    pool.close_all()  # and the pool closes it: the next run logs in again
    assert pool.get(behind[1]).run(["hostname"]).stdout == "lab3\n"
    assert accepted_logins(lab, "lab2") == before + 2


def test_aes_gcm_is_offered_first(lab1, lab, pool):
    # an AEAD cipher: paramiko then checks no MAC in Python for each packet
    transport = lab1.transport
    assert (transport.local_cipher, transport.remote_cipher) == ("aes128-gcm@openssh.com",) * 2
    transport.renegotiate_keys()  # new keys and nonces: the connection goes on
    assert lab1.run(["hostname"]).stdout == "lab1\n"
    through_lab2 = dataclasses.replace(
        lab.address("lab1"), name="lab1-via-lab2-gcm", jump_host=f"root@127.0.0.1:{lab.host('lab2').port}"
    )
    assert pool.get(through_lab2).transport.local_cipher == "aes128-gcm@openssh.com"


def test_ssh_config_alias_with_proxyjump(lab, tmp_path: Path):
    common = f"  User root\n  IdentityFile {lab.client_key_path}\n  UserKnownHostsFile {lab.known_hosts_path}\n"
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host lab3-jump\n  HostName 127.0.0.1\n  Port {lab.host('lab3').port}\n{common}"
        f"Host lab1-alias\n  HostName 127.0.0.1\n  Port {lab.host('lab1').port}\n{common}  ProxyJump lab3-jump\n"
    )
    pool = ConnectionPool(dataclasses.replace(STRICT, ssh_config_file=str(config)))
    address = dataclasses.replace(lab.address("lab1"), hostname="lab1-alias", port=22, user=None,
                                  key_file=None, known_hosts_file=None)
    before = accepted_logins(lab, "lab3")
    try:
        assert pool.get(address).run(["hostname"]).stdout == "lab1\n"
    finally:
        pool.close_all()
    assert accepted_logins(lab, "lab3") == before + 1
