"""``reboot`` on the local connection and over SSH to a lab host, against a stand-in reboot
(tests/standins/reboot: the lab's hosts cannot reboot) that gives the "host" a new boot id in a file a moment
after it was ordered."""

from __future__ import annotations

from pathlib import Path

import titan_ops
from tests.local_oracle import project

STANDIN = Path(__file__).parent / "standins" / "reboot"
PLAYBOOK = f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: echo first-boot > {{{{ base }}}}/boot_id
    - name: in check mode
      reboot: {{reboot_command: "{STANDIN} {{{{ base }}}}/boot_id 0", boot_time_command: "cat {{{{ base }}}}/boot_id"}}
      check_mode: true
    - name: checked
      command: cat {{{{ base }}}}/boot_id
    - name: rebooted
      reboot:
        reboot_command: "{STANDIN} {{{{ base }}}}/boot_id"
        boot_time_command: "cat {{{{ base }}}}/boot_id"
        test_command: "test -s {{{{ base }}}}/boot_id"
    - name: booted
      command: cat {{{{ base }}}}/boot_id
    - name: never back
      reboot: {{reboot_command: "{STANDIN} --never", boot_time_command: "cat {{{{ base }}}}/boot_id",
               reboot_timeout: 1}}
      ignore_errors: true
    - name: refused
      reboot: {{reboot_command: "{STANDIN} --refuse", boot_time_command: "cat {{{{ base }}}}/boot_id"}}
      ignore_errors: true
    - name: not ready
      reboot: {{reboot_command: "{STANDIN} {{{{ base }}}}/boot_id 0", boot_time_command: "cat {{{{ base }}}}/boot_id",
               test_command: "false", reboot_timeout: 1}}
      ignore_errors: true
    - name: the controller
      reboot: {{}}
      check_mode: true
      ignore_errors: true
"""


def test_reboot_waits_for_a_new_boot_and_the_test_command(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    base = tmp_path / "base"
    base.mkdir()
    result = titan_ops.run(folder / "play.yml", folder / "inventory.yml", extra_vars={"base": str(base)})
    runs = {run.task: run for run in result.host_results("h")}
    assert runs["in check mode"].status.value == "changed"
    assert runs["checked"].result["stdout"] == "first-boot"  # check mode ran nothing
    assert runs["rebooted"].status.value == "changed" and runs["rebooted"].result["rebooted"] is True
    assert runs["booted"].result["stdout"] not in ("first-boot", "")
    never = runs["never back"].result
    assert never["failed"] and never["msg"].startswith("Timed out waiting for last boot time check (timeout=1)")
    assert runs["refused"].result["msg"] == "Reboot command failed. Error was: ', shutdown: Failed to reboot: " \
                                            "Access denied'"
    assert runs["not ready"].result["msg"].startswith("Timed out waiting for post-reboot test command")
    assert runs["the controller"].result["msg"] == "Running reboot with local connection would reboot the control node."
    assert result.exit_code == 0



def test_reboot_over_ssh_logs_in_again_until_the_new_boot(lab, tmp_path):
    boot_id = f"/tmp/{tmp_path.name}/boot_id"  # (the lab host's own /tmp: the stand-in is copied there, as the
    # checkout may be under a /tmp the host does not see)
    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: lab1
  gather_facts: false
  tasks:
    - shell: mkdir -p /tmp/{tmp_path.name} && echo first-boot > {boot_id}
    - copy: {{src: "{STANDIN}", dest: "/tmp/{tmp_path.name}/reboot", mode: "0755"}}
    - reboot: {{reboot_command: "/tmp/{tmp_path.name}/reboot {boot_id}", boot_time_command: "cat {boot_id}",
               reboot_timeout: 60}}
    - command: cat {boot_id}
    - file: {{path: "/tmp/{tmp_path.name}", state: absent}}
""")
    _, _, rebooted, booted, _ = titan_ops.run(play, lab.inventory_path).host_results("lab1")
    assert (rebooted.status.value, rebooted.result["rebooted"]) == ("changed", True), rebooted.result["msg"]
    assert booted.result["stdout"] not in ("first-boot", "")
