"""``blockinfile`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && printf 'a\nb\nc\nb\nlast' > f && printf 'x\n' > g && chmod 640 f g && mkdir folder
        printf 'one\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ntwo\n' > managed
    - {name: at the end, blockinfile: {path: "{{ base }}/f", block: "x=1\ny=2"}}
    - {name: again, blockinfile: {path: "{{ base }}/f", block: "x=1\ny=2"}}
    - {name: updated in place, blockinfile: {path: "{{ base }}/managed", block: new}}
    - {name: after a line, blockinfile: {path: "{{ base }}/f", block: z, marker: "## {mark} z", insertafter: '^b'}}
    - {name: before a line, blockinfile: {path: "{{ base }}/f", content: w, marker: "<{mark}>", insertbefore: '^b',
       marker_begin: open, marker_end: close, prepend_newline: true, append_newline: true}}
    - {name: at the start, blockinfile: {path: "{{ base }}/g", block: top, insertbefore: BOF, mode: '0600'}}
    - {name: multiline anchor, blockinfile: {path: "{{ base }}/g", block: mid, marker: "; {mark}",
       insertafter: '(?m)^top$'}}
    - {name: removed, blockinfile: {path: "{{ base }}/managed", state: absent}}
    - {name: in check mode, blockinfile: {path: "{{ base }}/g", block: never, marker: "% {mark}"}, check_mode: true}
    - {name: created, blockinfile: {path: "{{ base }}/new/h", block: fresh, create: true}}
    - {name: not there, blockinfile: {path: "{{ base }}/nothing", block: x}, ignore_errors: true}
    - {name: not there to remove, blockinfile: {path: "{{ base }}/nothing", state: absent}, ignore_errors: true}
    - {name: nor to create, blockinfile: {path: "{{ base }}/nothing", state: absent, create: true}}
    - {name: a folder, blockinfile: {path: "{{ base }}/folder", block: x}, ignore_errors: true}
"""
KEYS = ("changed", "msg", "rc")


def test_blockinfile_keeps_a_block_between_markers(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: (status, result.get("msg")) for name, status, result in side.tasks}
    assert results["at the end"] == ("changed", "Block inserted")
    assert results["again"] == ("ok", "")
    assert results["removed"] == ("changed", "Block removed")
    assert results["in check mode"][0] == "changed"
    assert results["created"] == ("changed", "File created")
    assert results["not there"] == ("failed", "Path BASE/nothing does not exist !")
    assert results["not there to remove"] == ("failed", "Path BASE/nothing does not exist !")
    assert results["nor to create"] == ("ok", "File BASE/nothing not present")
    assert results["a folder"] == ("failed", "Path BASE/folder is a directory !")
    # the last line matching an anchor; the last line gets its newline before a block after it
    assert side.files["f"][2] == (b"a\nb\nc\n\n<open>\nw\n<close>\n\nb\n## BEGIN z\nz\n## END z\nlast\n"
                                  b"# BEGIN ANSIBLE MANAGED BLOCK\nx=1\ny=2\n# END ANSIBLE MANAGED BLOCK\n")
    assert side.files["g"] == ("file", "0o600", b"# BEGIN ANSIBLE MANAGED BLOCK\ntop\n; BEGIN\nmid\n; END\n"
                                                b"# END ANSIBLE MANAGED BLOCK\nx\n")
    assert side.files["managed"][2] == b"one\ntwo\n"
    assert side.files["new/h"][2] == b"# BEGIN ANSIBLE MANAGED BLOCK\nfresh\n# END ANSIBLE MANAGED BLOCK\n"


@pytest.mark.oracle
def test_blockinfile_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    assert ours.files == theirs.files
    assert ours.rc == theirs.rc
