"""``find`` on the local connection, and against ansible-core."""

from __future__ import annotations

import hashlib

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && mkdir -p top/a/b/c top/.hid empty && printf 'x\n' > top/one.log && printf 'yy\n' > top/two.txt
        printf 'z\n' > top/a/three.log && printf 'w\n' > top/a/b/four.log && touch top/a/b/c/five.log
        touch top/.hidden.log top/.hid/six.log && ln -s a top/link && chmod 600 top/two.txt
        touch -d '2 days ago' top/one.log && touch not-a-folder
    - {name: the files of a folder, find: {paths: "{{ base }}/top"}, register: r1}
    - {name: globs, find: {paths: "{{ base }}/top", patterns: "*.log", recurse: true}, register: r2}
    - {name: regular expressions, find: {paths: ["{{ base }}/top"], patterns: ['^t', 'o'], use_regex: true,
       excludes: ['.*txt$'], recurse: true}, register: r3}
    - {name: hidden too, find: {paths: "{{ base }}/top", patterns: "*.log", hidden: true, recurse: true},
       register: r4}
    - {name: two levels, find: {paths: "{{ base }}/top", file_type: any, recurse: true, depth: 2}, register: r5}
    - {name: folders, find: {paths: "{{ base }}/top", file_type: directory, recurse: true}, register: r6}
    - {name: links, find: {paths: "{{ base }}/top", file_type: link}, register: r7}
    - {name: older than a day, find: {paths: "{{ base }}/top", age: 1d}, register: r8}
    - {name: newer than a day, find: {paths: "{{ base }}/top", age: -1d}, register: r9}
    - {name: at least 3 bytes, find: {paths: "{{ base }}/top", size: 3b}, register: r10}
    - {name: by mode, find: {paths: "{{ base }}/top", mode: '0600'}, register: r11}
    - {name: with checksums, find: {paths: "{{ base }}/top", get_checksum: true}, register: r12}
    - {name: not folders, find: {paths: "{{ base }}/not-a-folder,{{ base }}/empty"}, register: r13}
    - {name: in check mode, find: {paths: "{{ base }}/top"}, check_mode: true, register: r14}
"""
KEYS = ("changed", "msg", "matched", "examined", "skipped_paths", "files")
COMPARED = ("path", "mode", "isdir", "isreg", "islnk", "size", "uid", "gid", "pw_name", "gr_name", "nlink", "wusr",
            "xoth", "isuid", "checksum")  # (the two sides' files differ in inode and times)


def _summary(side) -> list[tuple[str, str, dict]]:
    """Per task: its name, status and result, with the files' paths sorted (both walk in the folder's
    order, which only the file system knows) and their compared fields."""
    summary = []
    for name, status, result in side.tasks[1:]:
        result = dict(result)
        files = result.pop("files", [])
        result["files"] = sorted(({key: item[key] for key in COMPARED if key in item} for item in files),
                                 key=lambda item: item["path"])
        summary.append((name, status, result))
    return summary


def test_find_walks_and_filters_as_ansible_does(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: result for name, _, result in _summary(side)}

    def paths(name):
        return [item["path"].replace("BASE/top/", "") for item in results[name]["files"]]

    assert paths("the files of a folder") == ["one.log", "two.txt"]
    assert results["the files of a folder"]["examined"] == 6
    # sorted by path; a hidden folder is searched, only hidden names are left out
    assert paths("globs") == [".hid/six.log", "a/b/c/five.log", "a/b/four.log", "a/three.log", "one.log"]
    assert paths("regular expressions") == ["a/three.log", "one.log"]
    assert ".hidden.log" in paths("hidden too")
    assert paths("two levels") == [".hid/six.log", "a", "a/b", "a/three.log", "link", "one.log", "two.txt"]
    assert paths("links") == ["link"]
    assert paths("older than a day") == ["one.log"] and "one.log" not in paths("newer than a day")
    assert paths("at least 3 bytes") == ["two.txt"] and paths("by mode") == ["two.txt"]
    assert [item["checksum"] for item in results["with checksums"]["files"]] == [
        hashlib.sha1(b"x\n").hexdigest(), hashlib.sha1(b"yy\n").hexdigest()]
    assert results["not folders"]["msg"] == "Not all paths examined, check warnings for details"
    assert results["not folders"]["skipped_paths"] == {"BASE/not-a-folder": "'BASE/not-a-folder' is not a directory"}
    assert results["in check mode"] == results["the files of a folder"]


@pytest.mark.oracle
def test_find_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert _summary(ours) == _summary(theirs)
    assert ours.rc == theirs.rc
