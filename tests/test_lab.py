"""The lab: namespaced sshd hosts, their inventory, isolation, and an up/down that touch only their own."""

from __future__ import annotations

import argparse
import socket
import subprocess

import pytest
import yaml

from titan_ops import lab as lab_api
from titan_ops.commands import lab as lab_command
from titan_ops.connection import ConnectionOptions, ConnectionPool
from titan_ops.lab import PRIVATE_PATHS, LabError
from titan_ops.lab import lab as lab_module


@pytest.fixture
def pool():
    connections = ConnectionPool(ConnectionOptions(command_timeout=30))
    yield connections
    connections.close_all()


def test_inventory_lists_every_host_with_its_connection_vars(lab):
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    hosts = inventory["all"]["children"]["lab"]["hosts"]
    assert list(hosts) == ["lab1", "lab2", "lab3"]
    for host in lab.hosts:
        assert hosts[host.name] == {
            "ansible_host": "127.0.0.1",
            "ansible_port": host.port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(lab.client_key_path),
            "ansible_ssh_known_hosts_file": str(lab.known_hosts_path),
            "lab_private_paths": list(PRIVATE_PATHS),
            "titan_lab": True,
        }
    assert len({host.port for host in lab.hosts}) == 3
    known = lab.known_hosts_path.read_text().splitlines()
    assert [line.split()[0] for line in known] == [f"[127.0.0.1]:{host.port}" for host in lab.hosts]


def test_hosts_do_not_see_each_others_files(lab, pool):
    lab1, lab2 = pool.get(lab.address("lab1")), pool.get(lab.address("lab2"))
    lab1.run("mkdir -p /opt/titan/bin && echo lab1 > /opt/titan/bin/marker && echo t > /tmp/lab-marker")
    assert lab.host_path("lab1", "/opt/titan/bin/marker").read_text() == "lab1\n"
    assert lab.host_path("lab1", "/tmp/lab-marker").exists()
    assert lab2.run(["test", "-e", "/opt/titan/bin/marker"]).rc == 1
    assert lab2.run(["test", "-e", "/tmp/lab-marker"]).rc == 1
    assert not lab.host_path("lab2", "/opt/titan/bin/marker").exists()


def test_each_host_has_its_own_name_and_processes(lab, pool):
    for host in lab.hosts:
        connection = pool.get(lab.address(host.name))
        assert connection.run(["hostname"]).stdout == f"{host.name}\n"
        processes = connection.run(["ps", "-eo", "args="]).stdout
        assert f"hosts/{host.name}/sshd_config" in processes
        assert not any(f"hosts/{other.name}/" in processes for other in lab.hosts if other is not host)


def test_host_path_only_maps_private_paths(lab):
    assert lab.host_path("lab3", "/var/log/titan/engine.log") == (
        lab.directory / "hosts" / "lab3" / "fs" / "var" / "log" / "titan" / "engine.log")
    with pytest.raises(ValueError, match="not a per-host path"):
        lab.host_path("lab3", "/etc/passwd")
    with pytest.raises(KeyError):
        lab.host_path("lab9", "/opt/titan")


def test_up_again_reuses_the_running_hosts(lab):
    again = lab_api.up(hosts=3, directory=lab.directory)
    assert again.hosts == lab.hosts
    assert all(host.alive for host in again.hosts)


def test_up_with_more_hosts_adds_them(spare_lab):
    grown = lab_api.up(hosts=2, directory=spare_lab.directory)
    assert [host.name for host in grown.hosts] == ["lab1", "lab2"]
    assert grown.host("lab1") == spare_lab.host("lab1")
    assert grown.host("lab2").alive and grown.host("lab2").port != grown.host("lab1").port
    inventory = yaml.safe_load(grown.inventory_path.read_text())
    assert list(inventory["all"]["children"]["lab"]["hosts"]) == ["lab1", "lab2"]


def test_down_stops_only_lab_processes_and_is_safe_twice(lab, spare_lab):
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        assert lab_api.down(spare_lab.directory) == ["lab1"]
        assert lab_api.down(spare_lab.directory) == []
        assert not lab_api.status(spare_lab.directory).host("lab1").alive
        assert bystander.poll() is None
        assert all(host.alive for host in lab_api.status(lab.directory).hosts)
        assert spare_lab.inventory_path.exists()  # down removes nothing
    finally:
        bystander.kill()
        bystander.wait()


def test_a_stale_pid_file_never_kills_a_stranger(spare_lab):
    lab_api.down(spare_lab.directory)
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        (spare_lab.directory / "hosts" / "lab1" / "sshd.pid").write_text(f"{bystander.pid}\n")
        assert not lab_api.status(spare_lab.directory).host("lab1").alive
        assert lab_api.down(spare_lab.directory) == []
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_up_after_down_restarts_on_the_same_port(spare_lab, pool):
    lab_api.down(spare_lab.directory)
    again = lab_api.up(hosts=1, directory=spare_lab.directory)
    assert again.host("lab1").port == spare_lab.host("lab1").port
    assert again.host("lab1").pid != spare_lab.host("lab1").pid
    assert pool.get(again.address("lab1")).run(["hostname"]).stdout == "lab1\n"


def test_missing_sshd_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr("titan_ops.lab.sshd.shutil.which", lambda *args, **kwargs: None)
    with pytest.raises(LabError, match="install openssh-server"):
        lab_api.up(hosts=1, directory=tmp_path)


def test_default_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TITAN_OPS_LAB_DIR", str(tmp_path / "here"))
    assert lab_api.default_directory() == tmp_path / "here"
    monkeypatch.delenv("TITAN_OPS_LAB_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert lab_api.default_directory() == tmp_path / ".local" / "state" / "titan-ops" / "lab"


def cli(*args: str) -> int:
    parser = argparse.ArgumentParser(prog="titan-ops")
    lab_command.register(parser.add_subparsers())
    parsed = parser.parse_args(args)
    return parsed.handler(parsed)


def test_cli_up_status_down(tmp_path, capsys):
    directory = str(tmp_path / "cli-lab")
    try:
        assert cli("lab", "up", "--hosts", "2", "--dir", directory) == 0
        out = capsys.readouterr().out
        assert "lab2" in out and f"inventory: {directory}/inventory.yml" in out
        assert cli("lab", "status", "--dir", directory) == 0
        assert capsys.readouterr().out.splitlines()[0].split() == ["HOST", "PORT", "PID", "ALIVE"]
    finally:
        assert cli("lab", "down", "--dir", directory) == 0
    assert capsys.readouterr().out == "stopped lab1 lab2\n"
    assert cli("lab", "status", "--dir", directory) == 1
    assert cli("lab", "down", "--dir", directory) == 0
    assert "nothing to stop" in capsys.readouterr().out


def test_a_taken_port_is_replaced_by_a_free_one(spare_lab, pool):
    lab_api.down(spare_lab.directory)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", spare_lab.host("lab1").port))
        squatter.listen()
        again = lab_api.up(hosts=1, directory=spare_lab.directory)
    assert again.host("lab1").port != spare_lab.host("lab1").port
    assert f"[127.0.0.1]:{again.host('lab1').port} " in again.known_hosts_path.read_text()
    assert pool.get(again.address("lab1")).run(["hostname"]).stdout == "lab1\n"


def test_up_with_fewer_hosts_stops_nothing_and_down_then_up_shrinks(lab_factory):
    bed = lab_factory(2)
    assert lab_api.up(hosts=1, directory=bed.directory).hosts == bed.hosts
    lab_api.down(bed.directory)
    shrunk = lab_api.up(hosts=1, directory=bed.directory)
    assert [host.name for host in shrunk.hosts] == ["lab1"]
    assert list(yaml.safe_load(shrunk.inventory_path.read_text())["all"]["children"]["lab"]["hosts"]) == ["lab1"]


def test_a_failed_up_leaves_nothing_running(monkeypatch, tmp_path):
    real_launch = lab_module._launch_all

    def launch_then_fail(*args, **kwargs):
        real_launch(*args, **kwargs)
        raise LabError("simulated failure after the hosts started")

    monkeypatch.setattr(lab_module, "_launch_all", launch_then_fail)
    with pytest.raises(LabError, match="simulated"):
        lab_api.up(hosts=2, directory=tmp_path)
    assert [host.alive for host in lab_api.status(tmp_path).hosts] == [False, False]
