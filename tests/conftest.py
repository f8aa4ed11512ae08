"""Shared fixtures: the SSH lab (real sshd on loopback), one for the session and spares on demand."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from titan_ops import lab as lab_api
from titan_ops.lab import Lab


pytest_plugins = ["tests.conftest_titan"]

_NO_DNS_SITE = Path(__file__).parent / "no_dns_site"
sys.path.insert(0, str(_NO_DNS_SITE))
import titan_ops_no_dns  # noqa: E402 - from the folder just put on the path


_MEASUREMENTS = pytest.StashKey[list[str]]()
_LAB_FIXTURES = frozenset({"lab", "lab_factory", "spare_lab"})
_TITAN_FIXTURES = frozenset({"titan_lab"})


def pytest_configure(config: pytest.Config) -> None:
    """The suite's own memory of passed schema checks (not the user's ~/.cache), for every process it starts."""
    os.environ.setdefault("TITAN_OPS_CACHE_DIR", tempfile.mkdtemp(prefix="titan-ops-test-cache-"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need: ``lab`` (sshd hosts), ``titan`` (the Titan fleet); ``oracle`` is marked by hand.

    ``pytest -m "not lab and not titan and not oracle"`` is the fast subset: seconds, no sshd, no ansible.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _TITAN_FIXTURES:
            item.add_marker(pytest.mark.titan)
            item.add_marker(pytest.mark.lab)
        elif fixtures & _LAB_FIXTURES:
            item.add_marker(pytest.mark.lab)


@pytest.fixture
def measurements(request: pytest.FixtureRequest) -> list[str]:
    """Lines a test appends to be printed at the end of the run (CI's log), passed or failed."""
    return request.config.stash.setdefault(_MEASUREMENTS, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(_MEASUREMENTS, [])
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_sessionstart(session: pytest.Session) -> None:
    """No test looks a name up outside this machine, in this process or in those it starts."""
    titan_ops_no_dns.install()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_NO_DNS_SITE), os.environ.get("PYTHONPATH")]))
    os.environ[titan_ops_no_dns.LOG_VARIABLE] = tempfile.mkstemp(prefix="titan-ops-test-dns-")[1]


@pytest.fixture(autouse=True)
def _no_dns_outside() -> Iterator[None]:
    """Fail the test that made a lookup of a non-local name (the lookup itself was refused)."""
    log = Path(os.environ[titan_ops_no_dns.LOG_VARIABLE])
    start = log.stat().st_size
    titan_ops_no_dns.refused.clear()
    yield
    with log.open() as record:
        record.seek(start)
        names = sorted(set(titan_ops_no_dns.refused) | set(record.read().split()))
    if names:
        pytest.fail(f"the test looked up non-local names: {', '.join(names)} (use 127.0.0.1 or a name in "
                    "/etc/hosts)")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A 3-host lab (lab1..lab3) for the whole session: ``.inventory_path``, ``.hosts``, ``.host_path()``.

    Shared by every test: do not stop its hosts or break its keys (use ``lab_factory``).
    """
    directory = tmp_path_factory.mktemp("lab")
    try:
        yield lab_api.up(hosts=3, directory=directory)
    finally:
        lab_api.down(directory)


@pytest.fixture
def lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[int], Lab]]:
    """``lab_factory(n)`` brings up a separate n-host lab for a destructive test; stopped after the test."""
    started = []

    def make(hosts: int = 1) -> Lab:
        directory = tmp_path_factory.mktemp("spare-lab")
        started.append(directory)
        return lab_api.up(hosts=hosts, directory=directory)

    try:
        yield make
    finally:
        for directory in started:
            lab_api.down(directory)


@pytest.fixture
def spare_lab(lab_factory: Callable[[int], Lab]) -> Lab:
    """A single-host lab of this test's own (its host is ``lab1``)."""
    return lab_factory(1)
