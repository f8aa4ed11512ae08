"""``stat``'s MIME type and character set (``get_mime``, true by default as in Ansible), on the local
connection and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && printf 'plain\\n' > 'text:colon.txt' && printf '\\000\\001\\377' > binary
        printf 'caf\\303\\251\\n' > utf8 && mkdir folder && ln -s utf8 link
    - {name: text, stat: {path: "{{ base }}/text:colon.txt"}, register: text}
    - {name: binary, stat: {path: "{{ base }}/binary"}}
    - {name: utf-8, stat: {path: "{{ base }}/utf8", follow: true}}
    - {name: folder, stat: {path: "{{ base }}/folder"}}
    - {name: link, stat: {path: "{{ base }}/link"}}
    - {name: link followed, stat: {path: "{{ base }}/link", follow: true}}
    - {name: not asked, stat: {path: "{{ base }}/binary", get_mime: false}}
    - {name: missing, stat: {path: "{{ base }}/missing"}}
"""


def _mime(side) -> list[tuple[str, str | None, str | None]]:
    return [(name, result["stat"].get("mimetype"), result["stat"].get("charset"))
            for name, _, result in side.tasks[1:]]


def test_stat_reports_the_mime_type_and_charset(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", ("stat",))
    assert _mime(side) == [("text", "text/plain", "us-ascii"), ("binary", "application/octet-stream", "binary"),
                           ("utf-8", "text/plain", "utf-8"), ("folder", "inode/directory", "binary"),
                           ("link", "inode/symlink", "binary"), ("link followed", "inode/symlink", "binary"),
                           ("not asked", None, None), ("missing", None, None)]


@pytest.mark.oracle
def test_stat_mime_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", ("stat",))
    ours = play_titan(folder, tmp_path / "titan", ("stat",))
    assert _mime(ours) == _mime(theirs)
