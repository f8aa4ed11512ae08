"""``known_hosts`` on the local connection, and against ansible-core."""

from __future__ import annotations

import subprocess

import pytest

from tests.local_oracle import play_ansible, play_titan, project

ED1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKP79B14VdpYNNRjIU80kG9+7QRfolxPWLc6XI7ezeax"
ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjrlNTl12mGFrJJJVGQaOSbG4ML46Q16ssRjUwdBIvA"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDQppsU8GZykl48GezFe37BGDPrcx8B8unc+gwcBp9rjr7iP+OQPlC2EA9MbtlQ39PFCyss5"
       "my5lRYvOX4jQSdvSqAjS+pQSvZONDlBW1HJaIFSqMWNZd8E1hNC2hk92S00EAGmNYGuz9VGUsF8nzqQn/QYfnxVzYG2XrMm1LvBeQ==")
PLAYBOOK = f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: mkdir {{{{ base }}}}/.ssh && printf '# kept\\nother.example {RSA}@END@' > {{{{ base }}}}/kh
    - {{name: added, known_hosts: {{path: "{{{{ base }}}}/kh", name: web1, key: "web1 {ED1}"}}}}
    - {{name: again, known_hosts: {{path: "{{{{ base }}}}/kh", name: WEB1, key: "web1,10.0.0.1 {ED1}"}}}}
    - {{name: another type, known_hosts: {{path: "{{{{ base }}}}/kh", name: web1, key: "web1 {RSA}"}}}}
    - {{name: replaced, known_hosts: {{path: "{{{{ base }}}}/kh", name: web1, key: "web1 {ED2}"}}}}
    - name: removed in check mode
      known_hosts: {{path: "{{{{ base }}}}/kh", name: other.example, state: absent}}
      check_mode: true
    - {{name: removed, known_hosts: {{path: "{{{{ base }}}}/kh", name: other.example, state: absent}}}}
    - {{name: nothing to remove, known_hosts: {{path: "{{{{ base }}}}/kh", name: nobody, state: absent}}}}
    - {{name: another host, known_hosts: {{path: "{{{{ base }}}}/kh", name: web9, key: "web1 {ED1}"}},
       ignore_errors: true}}
    - {{name: no key, known_hosts: {{path: "{{{{ base }}}}/kh", name: web1}}, ignore_errors: true}}
    - name: the default file
      known_hosts: {{name: "[web2]:2222", key: "[web2]:2222 {ED1}"}}
      environment: {{HOME: "{{{{ base }}}}"}}
"""
LAST_NEWLINE = "@END@"
"""Where the seed's last line ends: without a newline titan-ops adds one before a line it appends (ansible-core
would merge the two lines into one that no ssh reads), so the oracle twin seeds a file that ends with one."""
KEYS = ("changed", "msg", "name", "key", "path", "hash_host", "mode", "size")


def test_known_hosts_keeps_one_key_per_type(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK.replace(LAST_NEWLINE, ""))
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: (status, result) for name, status, result in side.tasks}
    assert [results[name][0] for name in ("added", "again", "another type", "replaced", "removed in check mode",
                                          "removed", "nothing to remove")] == \
        ["changed", "changed", "changed", "changed", "changed", "changed", "ok"]  # (again: another host field)
    assert results["another host"][1]["msg"] == "Host parameter does not match hashed host field in supplied key"
    assert results["no key"][1]["msg"] == "No key specified when adding a host"
    assert side.files["kh"][2] == f"# kept\nweb1 {RSA}\nweb1 {ED2}\n".encode()
    assert side.files[".ssh/known_hosts"][2] == f"[web2]:2222 {ED1}\n".encode()
    assert results["the default file"][1]["path"] == "BASE/.ssh/known_hosts"


def test_a_hashed_host_is_found_by_ssh_keygen_and_kept(tmp_path):
    folder = tmp_path / "project"
    project(folder, f"""
- hosts: all
  gather_facts: false
  tasks:
    - {{name: hashed, known_hosts: {{path: "{{{{ base }}}}/kh", name: "[web2]:2222", key: "[web2]:2222 {ED1}",
                                   hash_host: true}}}}
    - {{name: found hashed, known_hosts: {{path: "{{{{ base }}}}/kh", name: "[web2]:2222", key: "[web2]:2222 {ED1}"}}}}
    - {{name: removed, known_hosts: {{path: "{{{{ base }}}}/kh", name: "[web2]:2222", state: absent}}}}
""")
    base = tmp_path / "base"
    side = play_titan(folder, base, KEYS)
    assert [status for _, status, _ in side.tasks] == ["changed", "ok", "changed"]
    assert side.files["kh"][2] == b""
    project(folder, f"""
- hosts: all
  gather_facts: false
  tasks:
    - known_hosts: {{path: "{{{{ base }}}}/kh", name: "[web2]:2222", key: "[web2]:2222 {ED1}", hash_host: true}}
""")
    side = play_titan(folder, tmp_path / "again", KEYS)
    line = side.files["kh"][2].decode()
    assert line.startswith("|1|") and "web2" not in line
    found = subprocess.run(["ssh-keygen", "-F", "[web2]:2222", "-f", str(tmp_path / "again" / "kh")],
                           capture_output=True, text=True)
    assert line.strip() in found.stdout


@pytest.mark.oracle
def test_known_hosts_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK.replace(LAST_NEWLINE, "\\n"))
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    # ansible-core removes with ssh-keygen -R, which leaves the file as it was beside it (kh.old); titan-ops does not
    assert ours.files == {name: found for name, found in theirs.files.items() if name != "kh.old"}
    assert ours.rc == theirs.rc
