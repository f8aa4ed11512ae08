"""``assemble`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && mkdir frag frag/sub && printf 'a\n' > frag/01 && printf 'b' > frag/02
        printf 'x\n' > frag/10 && printf 'hidden\n' > frag/.h && printf 'old\n' > out && chmod 600 out
        printf '' > frag/03 && touch notafolder
    - {name: assembled, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", delimiter: '### X'}}
    - {name: again, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", delimiter: '### X'}}
    - {name: mode only, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", delimiter: '### X', mode: '0640'}}
    - name: in check mode
      assemble: {src: "{{ base }}/frag", dest: "{{ base }}/never", regexp: '^[0-9]', ignore_hidden: true}
      check_mode: true
    - {name: chosen, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/chosen", regexp: '^[0-9]', ignore_hidden: true}}
    - {name: escaped delimiter, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/esc", delimiter: '--\n'}}
    - {name: from the controller, assemble: {src: ctl, dest: "{{ base }}/ctl", remote_src: false,
                                                delimiter: '--\n'}}
    - {name: no source, assemble: {src: "{{ base }}/nothing", dest: "{{ base }}/x"}, ignore_errors: true}
    - {name: no folder, assemble: {src: "{{ base }}/notafolder", dest: "{{ base }}/x"}, ignore_errors: true}
    - name: refused
      assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", validate: 'grep -q nothing %s'}
      ignore_errors: true
"""
FILES = {"files/ctl/one": "L1\n", "files/ctl/two": "L2"}
KEYS = ("changed", "msg", "checksum", "md5sum", "mode", "size")


def test_assemble_concatenates_fragments_in_name_order(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK, FILES)
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: (status, result) for name, status, result in side.tasks}
    assert results["assembled"][0] == "changed"
    assert results["again"] == ("ok", {**results["assembled"][1], "changed": False})
    assert results["mode only"][0] == "changed"
    assert results["in check mode"][0] == "changed"
    assert results["no source"] == ("failed", {"changed": False, "msg": "Source (BASE/nothing) does not exist"})
    assert results["no folder"][1]["msg"] == "Source (BASE/notafolder) is not a directory"
    assert results["refused"] == ("failed", {"changed": False, "msg": "failed to validate: rc:1 error:"})
    # hidden first ('.' sorts before digits); a newline after a fragment without one, delimiter and newline between
    content = b"hidden\n### X\na\n### X\nb\n### X\n\n### X\nx\n"
    assert side.files["out"] == ("file", "0o640", content)
    assert side.files["chosen"][2] == b"a\nb\n\nx\n"
    assert side.files["esc"][2].startswith(b"hidden\n--\na\n")
    assert side.files["ctl"] == ("file", "0o644", b"L1\n--\n\nL2")  # (ansible-core's controller side: \n after it)
    assert "never" not in side.files and "x" not in side.files
    assert sorted(side.files) == ["chosen", "ctl", "esc", "frag", "frag/.h", "frag/01", "frag/02", "frag/03",
                                  "frag/10", "frag/sub", "notafolder", "out"]  # no temp file left


def test_a_delimiter_that_does_not_decode_fails_the_task_in_one_line(tmp_path):
    folder = tmp_path / "project"
    project(folder, r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: seed, shell: "mkdir {{ base }}/frag && echo a > {{ base }}/frag/01"}
    - {name: bad escape, assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", delimiter: '\x'}}
""")
    side = play_titan(folder, tmp_path / "base", ("msg",))
    assert side.tasks[-1] == ("bad escape", "failed", {"msg": "Invalid delimiter (invalid \\x escape at position 0)"})
    assert "out" not in side.files


def test_assemble_shows_a_diff_and_keeps_a_backup(tmp_path):
    import titan_ops

    folder = tmp_path / "project"
    project(folder, """
- hosts: all
  gather_facts: false
  tasks:
    - shell: mkdir {{ base }}/frag && echo new > {{ base }}/frag/a && echo old > {{ base }}/out
    - assemble: {src: "{{ base }}/frag", dest: "{{ base }}/out", backup: true}
""")
    base = tmp_path / "base"
    base.mkdir()
    result = titan_ops.run(folder / "play.yml", folder / "inventory.yml", extra_vars={"base": str(base)}, diff=True)
    done = result.host_results("h")[1].result
    assert done["diff"][0]["before"] == "old\n" and done["diff"][0]["after"] == "new\n"
    assert open(done["backup_file"]).read() == "old\n"
    assert (base / "out").read_text() == "new\n"


@pytest.mark.oracle
def test_assemble_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK, FILES)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    assert ours.files == theirs.files
    assert ours.rc == theirs.rc
