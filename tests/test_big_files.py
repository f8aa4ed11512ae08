"""Big files (issue 12 §7): copy, fetch and the API's put()/get_into() stream in chunks, so the
controller's memory does not grow with the file's size; a source that changes while it is sent is
refused, not half-written. (The 1 GB measurement is bench/big_file.py, in docs/performance.md.)"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from titan_ops.connection import ConnectionOptions, HostAddress, LocalConnection, SSHConnection
from titan_ops.connection.payload import CHUNK, LocalFile, SourceChanged

SIZE = 48 << 20

MEASURE = """
import json, sys
from pathlib import Path
import titan_ops
from titan_ops.connection import ConnectionOptions, SSHConnection
from titan_ops.connection.base import HostAddress
from titan_ops.connection.payload import LocalFile

def peak() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

inventory, here, port, key, known_hosts = sys.argv[1:6]
here = Path(here)

def playbook(name: str) -> Path:
    path = here / f"{name}.yml"
    path.write_text(f'''
- hosts: lab1
  gather_facts: false
  tasks:
    - copy: {{src: {here}/{name}.bin, dest: /srv/titan/big/{name}.bin}}
    - fetch: {{src: /srv/titan/big/{name}.bin, dest: {here}/fetched/, flat: true}}
''')
    return path

def api(name: str) -> None:
    lab1 = SSHConnection(HostAddress(name="lab1", hostname="127.0.0.1", port=int(port), user="root", key_file=key,
                                     known_hosts_file=known_hosts), ConnectionOptions())
    lab1.put(LocalFile.read(str(here / f"{name}.bin")), f"/srv/titan/big/api-{name}.bin")
    with open(here / f"api-{name}.bin", "wb") as sink:
        lab1.get_into(f"/srv/titan/big/api-{name}.bin", sink)
    lab1.close()

codes = [titan_ops.run(playbook("small"), inventory).exit_code]  # everything imported, connected once
api("small")
before = peak()
codes.append(titan_ops.run(playbook("big"), inventory).exit_code)
api("big")
print(json.dumps({"codes": codes, "growth": peak() - before}))
"""


def sha1(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


def test_copy_fetch_put_and_get_of_a_large_file_keep_memory_bounded(lab, tmp_path):
    """Tens of MB copied, fetched back, put and got through the API: the content arrives whole and
    the controller's peak memory grows by far less than the file (it grew by more than the file before)."""
    big, small = tmp_path / "big.bin", tmp_path / "small.bin"
    with big.open("wb") as handle:
        for block in range(SIZE // CHUNK):
            handle.write(hashlib.sha256(b"%d" % block).digest() * (CHUNK // 32))
    small.write_bytes(b"small\n")
    lab.host_path("lab1", "/srv/titan/big").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(lab.inventory_path), str(tmp_path),
                           str(lab.host("lab1").port), str(lab.client_key_path), str(lab.known_hosts_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.splitlines()[-1])
    assert measured["codes"] == [0, 0]
    expected = sha1(big)
    for copy in (lab.host_path("lab1", "/srv/titan/big/big.bin"), tmp_path / "fetched" / "big.bin",
                 lab.host_path("lab1", "/srv/titan/big/api-big.bin"), tmp_path / "api-big.bin"):
        assert sha1(copy) == expected, copy
    assert measured["growth"] < SIZE // 8, f"peak memory grew by {measured['growth']} bytes for a {SIZE}-byte file"


def _changing_source(tmp_path: Path) -> LocalFile:
    """A 3 MB file read as a LocalFile, then changed in place (same size)."""
    source = tmp_path / "source.bin"
    source.write_bytes(b"a" * (3 << 20))
    read = LocalFile.read(str(source))
    with source.open("r+b") as handle:
        handle.seek(2 << 20)
        handle.write(b"b")
    return read


def test_a_source_changed_while_sent_replaces_nothing_locally(tmp_path):
    local = LocalConnection(HostAddress(name="here", hostname="localhost", connection="local"), ConnectionOptions())
    target = tmp_path / "target"
    target.write_bytes(b"old")
    with pytest.raises(SourceChanged, match="changed while it was sent"):
        local.put(_changing_source(tmp_path), str(target))
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["source.bin", "target"]


def test_a_source_changed_while_sent_replaces_nothing_on_a_host(lab, tmp_path):
    folder = lab.host_path("lab1", "/srv/titan/changing")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "target").write_bytes(b"old")
    lab1 = SSHConnection(lab.address("lab1"), ConnectionOptions(command_timeout=60))
    try:
        with pytest.raises(SourceChanged, match="changed while it was sent"):
            lab1.put(_changing_source(tmp_path), "/srv/titan/changing/target")
        with pytest.raises(SourceChanged):  # also as a command's input (how the file modules send it)
            lab1.run("cat > /dev/null", stdin=_changing_source(tmp_path))
        assert lab1.run(["echo", "still connected"]).stdout == "still connected\n"
    finally:
        lab1.close()
    assert (folder / "target").read_bytes() == b"old"
    assert [path.name for path in folder.iterdir()] == ["target"]
