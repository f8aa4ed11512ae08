"""``titan-ops run`` holds a socket per host for the whole run: it raises its own limit on open files."""

from __future__ import annotations

import resource
import subprocess
import sys


def test_the_cli_raises_its_open_files_limit_to_the_hard_one(tmp_path):
    out = tmp_path / "limit"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: ulimit -n > {out}\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n")

    def low_soft_limit() -> None:  # Debian's default soft limit is 1024, below a 1,000-host run's sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))

    done = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(inventory)],
                          capture_output=True, text=True, preexec_fn=low_soft_limit, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_text().strip() == "4096"  # what the run's commands inherit: the raised limit
