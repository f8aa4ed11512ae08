"""``apt``, ``package`` and ``dnf`` on the local connection: packages as dpkg knows them, check mode
simulated by apt-get, and ansible-core's results for the same tasks.

Installing needs root and a package apt-get can install without the network: ``pv``, whose .deb
scripts/setup.sh leaves in apt's cache (``apt-get install --reinstall --download-only``)."""

from __future__ import annotations

import fcntl
import glob
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local_oracle import play_ansible, play_titan, project

KEYS = ("changed", "msg", "cache_updated", "ansible_facts")
TEST_PACKAGE = "pv"


@pytest.fixture(scope="module", autouse=True)
def apt_keeps_its_package_cache() -> Iterator[None]:
    """apt's binary package cache kept between this module's apt-get and apt-cache commands (and ansible's).

    Debian's container images turn it off (/etc/apt/apt.conf.d/docker-clean), so that every apt command builds
    it again from the package lists: half a second of CPU each. ``$APT_CONFIG`` is read before apt.conf.d,
    the main file it names after it: that file puts the cache in a folder of the module's own.
    """
    with tempfile.TemporaryDirectory(prefix="titan-ops-test-apt-") as folder:
        main = Path(folder, "main.conf")
        main.write_text("".join(f'Dir::Cache::{name} "{folder}/{name}.bin";\n' for name in ("pkgcache", "srcpkgcache"))
                        + ('#include "/etc/apt/apt.conf";\n' if Path("/etc/apt/apt.conf").exists() else ""))
        Path(folder, "apt.conf").write_text(f'Dir::Etc::main "{main}";\n')
        before = os.environ.get("APT_CONFIG")
        os.environ["APT_CONFIG"] = str(Path(folder, "apt.conf"))
        try:
            yield
        finally:
            if before is None:
                del os.environ["APT_CONFIG"]
            else:
                os.environ["APT_CONFIG"] = before


def _installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], capture_output=True, text=True)
    return done.stdout.startswith("ii")


READ_ONLY = r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: installed already, apt: {name: dpkg}}
    - {name: a list and a comma string, apt: {name: "dpkg,coreutils", cache_valid_time: 999999999}}
    - name: latest of what is the candidate
      apt: {name: [dpkg], state: latest, cache_valid_time: 999999999}
      check_mode: true  # (read-only: a dpkg newer than the installed one is simulated, never installed)
    - {name: no such package, apt: {name: titan-ops-no-such-package}, ignore_errors: true}
    - {name: absent already, apt: {name: titan-ops-no-such-package, state: absent}}
    - {name: lists updated in check mode, apt: {update_cache: true}, check_mode: true}
    - {name: package dispatches to apt, package: {name: dpkg}}
    - {name: a manager with no module, package: {name: dpkg, use: zypper}, ignore_errors: true}
    - {name: dnf on a host without dnf, dnf: {name: dpkg}, ignore_errors: true}
"""
READ_ONLY_OUTCOMES = [
    ("installed already", "ok", {"changed": False, "cache_updated": False}),
    ("a list and a comma string", "ok", {"changed": False, "cache_updated": False}),
    ("latest of what is the candidate", "ok", {"changed": False, "cache_updated": False}),
    ("no such package", "failed", {"changed": False,
                                   "msg": "No package matching 'titan-ops-no-such-package' is available"}),
    ("absent already", "ok", {"changed": False}),
    ("lists updated in check mode", "changed", {"changed": True, "cache_updated": True}),
    ("package dispatches to apt", "ok", {"changed": False, "cache_updated": False}),
    ("a manager with no module", "failed", {
        "changed": False, "msg": 'Could not find a matching action for the "zypper" package manager.'}),
    ("dnf on a host without dnf", "failed", {
        "changed": False, "ansible_facts": {"pkg_mgr": "apt"},
        "msg": ["Could not detect which major revision of dnf is in use, which is required to determine module "
                "backend.", "You should manually specify use_backend to tell the module whether to use the dnf4 "
                "or dnf5 backend})"]}),
]


def test_apt_reads_what_dpkg_has_installed(tmp_path):
    folder = tmp_path / "project"
    project(folder, READ_ONLY)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert side.tasks == READ_ONLY_OUTCOMES


@pytest.mark.oracle
def test_apt_answers_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, READ_ONLY)
    assert play_titan(folder, tmp_path / "titan", KEYS).tasks == play_ansible(folder, tmp_path / "ansible", KEYS).tasks


def test_apt_simulates_in_check_mode(tmp_path, package_lock):
    if _installed(TEST_PACKAGE):
        pytest.skip(f"{TEST_PACKAGE} is installed: nothing to simulate installing")
    policy = subprocess.run(["apt-cache", "policy", TEST_PACKAGE], capture_output=True, text=True).stdout
    if "Candidate:" not in policy or "Candidate: (none)" in policy:
        pytest.skip(f"apt's lists have no {TEST_PACKAGE} (scripts/setup.sh updates them)")
    folder = tmp_path / "project"
    project(folder, f"""
- hosts: all
  gather_facts: false
  tasks:
    - {{name: would install, apt: {{name: {TEST_PACKAGE}}}, check_mode: true, diff: true}}
""")
    side = play_titan(folder, tmp_path / "base", ("changed", "stdout", "diff"))
    [(name, status, result)] = side.tasks
    assert status == "changed" and f"Inst {TEST_PACKAGE} " in result["stdout"]
    assert "The following NEW packages will be installed:" in result["diff"][0]["prepared"]
    assert not _installed(TEST_PACKAGE)


@pytest.fixture
def package_lock() -> Iterator[None]:
    """One test run at a time installs and removes the test package (several runs share a machine)."""
    with open("/tmp/titan-ops-test-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.mark.slow  # dpkg installing and removing a package: a minute on a loaded machine
@pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: root only")
def test_apt_installs_and_removes_once(tmp_path, package_lock):
    if _installed(TEST_PACKAGE):
        pytest.skip(f"{TEST_PACKAGE} is installed already (this test leaves it as it found it)")
    if not glob.glob(f"/var/cache/apt/archives/{TEST_PACKAGE}_*.deb"):
        pytest.skip(f"{TEST_PACKAGE}'s .deb is not in apt's cache (scripts/setup.sh --test puts it there)")
    folder = tmp_path / "project"
    project(folder, f"""
- hosts: all
  gather_facts: false
  tasks:
    - {{name: install, apt: {{name: {TEST_PACKAGE}, install_recommends: false}}}}
    - {{name: install again, apt: {{name: {TEST_PACKAGE}}}}}
    - {{name: remove in check mode, apt: {{name: {TEST_PACKAGE}, state: absent}}, check_mode: true}}
    - {{name: remove, apt: {{name: {TEST_PACKAGE}, state: absent}}}}
    - {{name: remove again, apt: {{name: {TEST_PACKAGE}, state: absent}}}}
""")
    try:
        side = play_titan(folder, tmp_path / "base", ("changed", "cache_updated"))
    finally:
        if _installed(TEST_PACKAGE):
            subprocess.run(["apt-get", "-y", "-q", "remove", TEST_PACKAGE], capture_output=True)
    assert side.tasks == [("install", "changed", {"changed": True, "cache_updated": False}),
                          ("install again", "ok", {"changed": False, "cache_updated": False}),
                          ("remove in check mode", "changed", {"changed": True}),
                          ("remove", "changed", {"changed": True}),
                          ("remove again", "ok", {"changed": False})]
    assert not _installed(TEST_PACKAGE)
