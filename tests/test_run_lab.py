"""Playbook runs against the real SSH lab: recap, exit codes, final state."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

import titan_ops
from tests.forked_cli import Finished, run_cli
from tests.interrupt_support import interrupt_run
from titan_ops.engine.results import Status
from titan_ops.output.console import recap_line


def write(tmp_path: Path, text: str, name: str = "play.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def edited_inventory(lab, tmp_path: Path, edit) -> Path:
    """A copy of the lab inventory after ``edit(hosts, document)``, written to tmp_path."""
    document = yaml.safe_load(Path(lab.inventory_path).read_text())
    edit(document["all"]["children"]["lab"]["hosts"], document)
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def cli(*args: str) -> Finished:
    return run_cli(args)


FIRST_PLAYBOOK = """
- name: first run
  hosts: lab
  gather_facts: false
  vars:
    greeting: "hello {{ inventory_hostname }}"
  tasks:
    - name: say hello
      command: echo "{{ greeting }}"
      register: hello
    - name: remember it
      set_fact:
        heard: "{{ hello.stdout | upper }}"
    - name: show it
      debug:
        msg: "{{ heard }}"
    - name: only on lab2
      shell: echo second; exit 3
      when: inventory_hostname == 'lab2'
      ignore_errors: true
    - name: skipped everywhere
      command: /bin/false
      when: heard == 'nobody'
"""


def test_three_hosts_run_with_ansible_recap(lab, tmp_path):
    playbook = write(tmp_path, FIRST_PLAYBOOK)
    done = cli("run", str(playbook), "-i", str(lab.inventory_path))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "PLAY [first run] ***" in out
    assert "TASK [say hello] ***" in out
    assert 'changed: [lab1]' in out
    assert '"msg": "HELLO LAB3"' in out
    assert "...ignoring" in out
    assert "skipping: [lab1]" in out
    recap = out.split("PLAY RECAP")[1]
    # say hello: changed; set_fact, debug: ok; lab2's ignored failure counts ok+changed+ignored.
    assert "lab1                       : ok=3    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0   " in recap
    assert "lab2                       : ok=4    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=1   " in recap


def test_api_returns_results_and_prints_nothing(lab, tmp_path, capsys):
    playbook = write(tmp_path, FIRST_PLAYBOOK)
    result = titan_ops.run(playbook, lab.inventory_path)
    assert capsys.readouterr().out == ""
    assert result.ok and result.exit_code == 0
    assert result.failed_hosts == [] and result.unreachable_hosts == []
    hello = result.host_results("lab1")[0]
    assert hello.status is Status.CHANGED
    assert hello.stdout == "hello lab1" and hello.rc == 0
    assert hello.start <= hello.end
    assert result.stats["lab2"].ignored == 1
    assert [r.status for r in result.host_results("lab3")] == [
        Status.CHANGED, Status.OK, Status.OK, Status.SKIPPED, Status.SKIPPED]
    assert result.to_dict()["stats"]["lab1"]["ok"] == 3


def test_failed_host_stops_but_others_finish(lab, tmp_path):
    playbook = write(tmp_path, """
    - hosts: lab
      gather_facts: false
      tasks:
        - command: /bin/false
          when: inventory_hostname == 'lab1'
        - name: after
          command: touch /tmp/after-failure
    """)
    result = titan_ops.run(playbook, lab.inventory_path)
    assert result.exit_code == 2
    assert result.failed_hosts == ["lab1"]
    assert [r.task for r in result.host_results("lab1")] == ["command"]
    assert result.host_results("lab2")[-1].status is Status.CHANGED
    assert not lab.host_path("lab1", "/tmp/after-failure").exists()
    assert lab.host_path("lab2", "/tmp/after-failure").exists()


def test_shell_metacharacters_in_variables_stay_data(lab, tmp_path):
    evil = "a b; touch /tmp/pwned; echo $(id) `id` 'q' \"dq\" \\n"
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      tasks:
        - name: argv
          command:
            argv: [printf, "%s", "{{ evil }}"]
          register: argv_out
        - name: cmd words
          command: printf %s {{ evil | quote }}
          register: cmd_out
    """)
    result = titan_ops.run(playbook, lab.inventory_path, extra_vars={"evil": evil})
    assert result.ok, result.to_dict()
    outs = [r.stdout for r in result.host_results("lab1")]
    assert outs == [evil, evil]
    assert not lab.host_path("lab1", "/tmp/pwned").exists()


def test_undefined_variable_fails_only_that_host_and_names_it(lab, tmp_path):
    playbook = write(tmp_path, """
    - hosts: lab
      gather_facts: false
      tasks:
        - debug:
            msg: "{{ only_on_lab3 }}"
    """)
    inventory_path = edited_inventory(lab, tmp_path, lambda hosts, _: hosts["lab3"].update(only_on_lab3="here"))
    result = titan_ops.run(playbook, inventory_path)
    assert sorted(result.failed_hosts) == ["lab1", "lab2"]
    failure = result.host_results("lab1")[0]
    assert "only_on_lab3" in failure.msg and "is undefined" in failure.msg
    assert f"{playbook}:5:" in failure.msg
    assert result.host_results("lab3")[0].result["msg"] == "here"


def test_unreachable_host_does_not_block_others(lab, tmp_path):
    inventory_path = edited_inventory(lab, tmp_path,
                                      lambda hosts, _: hosts.update(down=dict(hosts["lab1"], ansible_port=1)))
    playbook = write(tmp_path, """
    - hosts: lab
      gather_facts: false
      tasks:
        - command: echo up
        - command: echo still up
    """)
    done = cli("run", str(playbook), "-i", str(inventory_path), "-f", "4")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "fatal: [down]: UNREACHABLE!" in done.stdout
    assert recap_line("down", titan_ops.HostStats(unreachable=1)) in done.stdout
    assert recap_line("lab1", titan_ops.HostStats(ok=2, changed=2)) in done.stdout


def test_unknown_host_key_is_unreachable_unless_checking_is_off(lab, tmp_path):
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    inventory_path = edited_inventory(
        lab, tmp_path, lambda hosts, _: hosts["lab1"].update(ansible_ssh_known_hosts_file=str(empty_known_hosts)))
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      tasks:
        - command: echo hi
    """)
    result = titan_ops.run(playbook, inventory_path)
    assert result.unreachable_hosts == ["lab1"] and result.exit_code == 4
    assert "host key" in result.host_results("lab1")[0].msg.lower()
    relaxed = titan_ops.run(playbook, inventory_path, host_key_checking=False)
    assert relaxed.ok


def test_command_timeout_fails_the_task(lab, tmp_path):
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      tasks:
        - command: sleep 30
    """)
    result = titan_ops.run(playbook, lab.inventory_path, command_timeout=1)
    assert result.failed_hosts == ["lab1"]
    assert "timed out" in result.host_results("lab1")[0].msg.lower()


def test_ctrl_c_ends_what_runs_on_the_hosts(lab, tmp_path):
    """An interrupted run ends its remote commands (whole process groups, on every host) and prints
    the recap, instead of waiting for them."""
    marker = "97.31"  # an unusual duration, to find these processes and no others
    playbook = write(tmp_path, f"""
    - hosts: lab
      gather_facts: false
      tasks:
        - shell: sleep {marker} & sleep {marker}
        - command: echo never reached
    """)

    # the command and the one it left in the background, on every host
    interrupt_run(["run", str(playbook), "-i", str(lab.inventory_path)], marker, 2 * len(lab.hosts))


def test_extra_vars_forms_and_precedence(lab, tmp_path):
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text("from_file: 7\nlevel: file\n")
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      vars:
        level: play
      tasks:
        - debug:
            msg: "{{ level }} {{ from_file }} {{ pair }} {{ obj.k }}"
    """)
    done = cli("run", str(playbook), "-i", str(lab.inventory_path), "-e", f"@{vars_file}",
               "-e", "pair='a b'", "-e", '{"obj": {"k": 1}, "level": "json"}')
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"msg": "json 7 a b 1"' in done.stdout


def test_limit_restricts_hosts(lab, tmp_path):
    playbook = write(tmp_path, """
    - hosts: all
      gather_facts: false
      tasks:
        - command: echo hi
    """)
    result = titan_ops.run(playbook, lab.inventory_path, limit="lab1:lab3")
    assert sorted(result.stats) == ["lab1", "lab3"]


def test_bad_inventory_and_playbook_exit_5(tmp_path):
    playbook = write(tmp_path, "- hosts: all\n  tasks:\n    - nosuchmodule: {}\n")
    done = cli("run", str(playbook))
    assert done.returncode == 5
    assert "nosuchmodule" in done.stderr and "Traceback" not in done.stderr
    bad_inventory = tmp_path / "bad.ini"
    bad_inventory.write_text("[web\nhost1\n")
    good = write(tmp_path, "- hosts: all\n  tasks: []\n", "good.yml")
    done = cli("run", str(good), "-i", str(bad_inventory))
    assert done.returncode == 5
    assert str(bad_inventory) in done.stderr and "Traceback" not in done.stderr


def test_secrets_never_reach_any_output(lab, tmp_path):
    inventory_path = edited_inventory(
        lab, tmp_path, lambda _, document: document["all"].update(vars={"titan_api_password": "hunter2-very-secret"}))
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      tasks:
        - name: echo the secret by accident
          command: echo "token={{ titan_api_password }}"
        - name: hidden
          shell: echo "{{ titan_api_password }}"
          no_log: true
          register: hidden
        - name: url with a password
          debug:
            msg: "https://ops:{{ titan_api_password }}@exchange.invalid/v5/market/time and Authorization: Basic dXNlcjpwYXNz"
        - name: secret-named key
          set_fact:
            db_password: "{{ hidden.stdout }}"
    """)
    report = tmp_path / "result.json"
    junit = tmp_path / "junit.xml"
    done = cli("run", str(playbook), "-i", str(inventory_path), "-vv", "--output-json", str(report),
               "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr
    for text in (done.stdout, done.stderr, report.read_text(), junit.read_text()):
        assert "hunter2" not in text
        assert "dXNlcjpwYXNz" not in text
    assert "********" in done.stdout
    assert "no_log: true" in done.stdout


def test_runtime_input_errors_name_file_line_and_key(lab, tmp_path):
    playbook = write(tmp_path, """
    - hosts: lab1
      gather_facts: false
      vars:
        not_a_list: "just text"
      tasks:
        - name: loop over a string
          command: echo {{ item }}
          loop: "{{ not_a_list }}"
          ignore_errors: true
        - name: a number where a boolean belongs
          command:
            cmd: echo hi
            stdin_add_newline: "{{ 'not a boolean' }}"
          ignore_errors: true
        - name: an undefined variable in an argument
          command: echo {{ nowhere_defined }}
    """)
    result = titan_ops.run(playbook, lab.inventory_path)
    loop, typed, undefined = result.host_results("lab1")
    assert loop.msg.startswith(f"{playbook}:8:") and "'loop'" in loop.msg and "needs a list" in loop.msg
    assert f"{playbook}:12:" in typed.msg and "'stdin_add_newline'" in typed.msg and "boolean" in typed.msg
    assert f"{playbook}:17:" in undefined.msg and "'nowhere_defined' is undefined" in undefined.msg
    assert result.exit_code == 2
