"""``unarchive`` on the local connection, and against ansible-core."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: dest, file: {path: "{{ base }}/d", state: directory}}
    - {name: tgz, unarchive: {src: app.tgz, dest: "{{ base }}/d", list_files: true}}
    - {name: tgz again, unarchive: {src: app.tgz, dest: "{{ base }}/d"}}
    - {name: the same as a zip, unarchive: {src: app.zip, dest: "{{ base }}/d"}}
    - {name: edit, shell: "echo edited > {{ base }}/d/app/a.txt"}
    - {name: zip checked, unarchive: {src: app.zip, dest: "{{ base }}/d"}, check_mode: true}
    - {name: still edited, command: "cat {{ base }}/d/app/a.txt"}
    - {name: bz2 restores, unarchive: {src: app.tar.bz2, dest: "{{ base }}/d"}}
    - {name: xz on the host, unarchive: {src: "{{ playbook_dir }}/files/app.tar.xz", remote_src: true,
                                         dest: "{{ base }}/d"}}
    - {name: other dest, file: {path: "{{ base }}/z", state: directory}}
    - {name: zip, unarchive: {src: app.zip, dest: "{{ base }}/z", list_files: true, exclude: [app/conf/*]}}
    - {name: zip again, unarchive: {src: app.zip, dest: "{{ base }}/z", exclude: [app/conf/*]}}
    - {name: creates, unarchive: {src: app.tgz, dest: "{{ base }}/z", creates: "{{ base }}/z/app"}}
    - {name: included only, unarchive: {src: app.tgz, dest: "{{ base }}/z", include: [app/conf/b.conf]}}
    - {name: mode, unarchive: {src: app.tgz, dest: "{{ base }}/z", mode: "u=rwX,go="}}
    - {name: no such dest, unarchive: {src: app.tgz, dest: "{{ base }}/nope"}, ignore_errors: true}
    - {name: no such archive, unarchive: {src: "{{ base }}/no.tgz", dest: "{{ base }}/z", remote_src: true},
       ignore_errors: true}
    - {name: empty archive, unarchive: {src: empty.tgz, dest: "{{ base }}/z"}, ignore_errors: true}
    - {name: not an archive, unarchive: {src: plain.txt, dest: "{{ base }}/z"}, ignore_errors: true}
"""
KEYS = ("changed", "files", "handler", "stdout", "mode", "state")


def _archives(folder: Path) -> None:
    tree = folder / "tree"
    (tree / "app" / "conf").mkdir(parents=True)
    (tree / "app" / "a.txt").write_text("one\n")
    (tree / "app" / "conf" / "b.conf").write_text("two\n")
    (tree / "app" / "conf" / "b.conf").chmod(0o640)
    os.symlink("a.txt", tree / "app" / "link")
    for path in (tree / "app" / "a.txt", tree / "app" / "conf" / "b.conf"):
        os.utime(path, (1767225600, 1767225600))
    files = folder / "files"
    files.mkdir()
    for name, mode in (("app.tgz", "w:gz"), ("app.tar.bz2", "w:bz2"), ("app.tar.xz", "w:xz")):
        with tarfile.open(files / name, mode) as archive:
            archive.add(tree / "app", "app")
    subprocess.run(["zip", "-qry", str(files / "app.zip"), "app"], cwd=tree, check=True)
    (files / "empty.tgz").write_bytes(b"")
    (files / "plain.txt").write_text("not an archive\n")
    shutil.rmtree(tree)


def _results(side):
    return {name: (status, result) for name, status, result in side.tasks}


@pytest.mark.skipif(shutil.which("zip") is None or shutil.which("unzip") is None, reason="zip/unzip missing")
def test_unarchive_is_idempotent_and_checks_without_writing(tmp_path, monkeypatch):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # (the host's temporary folders: the local connection's)
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    _archives(folder)
    side = play_titan(folder, tmp_path / "base", KEYS + ("msg",))
    results = _results(side)
    assert results["tgz"] == ("changed", {"changed": True, "handler": "TgzArchive", "files": [
        "app/", "app/a.txt", "app/conf/", "app/conf/b.conf", "app/link"], "mode": "0755", "state": "directory"})
    assert results["tgz again"][0] == results["the same as a zip"][0] == "ok"
    assert results["zip checked"][0] == "changed" and results["still edited"][1]["stdout"] == "edited"
    assert results["bz2 restores"][0] == "changed" and results["xz on the host"][0] == "ok"
    assert side.files["d/app/a.txt"] == ("file", "0o644", b"one\n")
    assert side.files["d/app/link"] == ("link", "a.txt")
    assert results["zip"][1]["files"] == ["app/", "app/link", "app/a.txt"] and results["zip again"][0] == "ok"
    assert results["included only"][0] == "changed"
    assert results["creates"] == ("skipped", {"changed": False, "msg": f"skipped, since {tmp_path}/base/z/app exists"
                                              .replace(str(tmp_path / "base"), "BASE")})
    assert side.files["z/app/conf/b.conf"][1] == "0o600" and side.files["z/app"][1] == "0o700"
    assert results["no such dest"][1]["msg"] == "dest 'BASE/nope' must be an existing dir"
    assert results["no such archive"][1]["msg"] == "Source 'BASE/no.tgz' does not exist"
    assert results["empty archive"][1]["msg"].startswith("Invalid archive")
    assert results["not an archive"][1]["msg"].startswith("Failed to find handler for")
    assert not [name for name in side.files if "titan-unarchive" in name]
    assert not list((tmp_path / "tmp").iterdir())


def test_an_entry_replaces_a_link_in_dest_and_never_writes_through_it(tmp_path):
    """A file of the archive where ``dest`` has a link to a folder replaces the link: it lands in ``dest``, not in
    the folder the link names."""
    folder = tmp_path / "project"
    project(folder, """
- hosts: all
  gather_facts: false
  tasks:
    - {name: links, shell: "mkdir {{ base }}/d {{ base }}/outside && ln -s ../outside {{ base }}/d/data"}
    - {name: unpacked, unarchive: {src: data.tar, dest: "{{ base }}/d"}}
    - {name: again, unarchive: {src: data.tar, dest: "{{ base }}/d"}}
""")
    (folder / "files").mkdir()
    (tmp_path / "data").write_text("payload\n")
    with tarfile.open(folder / "files" / "data.tar", "w") as archive:
        archive.add(tmp_path / "data", "data")
    side = play_titan(folder, tmp_path / "base", ("changed",))
    assert [status for _, status, _ in side.tasks] == ["changed", "changed", "ok"]
    assert side.files["d/data"][0::2] == ("file", b"payload\n") and side.files["outside"][0] == "directory"
    assert [name for name in side.files if name.startswith("outside/")] == []


@pytest.mark.oracle
def test_unarchive_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    _archives(folder)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.files == theirs.files
    assert ours.rc == theirs.rc
