"""Shared fixtures: the SSH lab (real sshd on loopback), one for the session and spares on demand.

The suite runs in two pytest-xdist worker processes (setup.cfg: ``-n 2 --dist loadfile``): a module's tests
run in one worker, so its module fixtures are set up once; each worker that needs them has a ``lab`` and
a Titan fleet of its own (session fixtures; their ports and folders never meet). The modules that run
for minutes are handed out first, so that none of them starts last. ``-n 0`` runs in this process alone.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from titan_ops import lab as lab_api
from titan_ops.commands.run import SESSION_ENV
from titan_ops.config import boolean
from titan_ops.connection import base as connection_base
from titan_ops.lab import Lab


pytest_plugins = ["tests.conftest_titan"]

_NO_DNS_SITE = Path(__file__).parent / "no_dns_site"
sys.path.insert(0, str(_NO_DNS_SITE))
import titan_ops_no_dns  # noqa: E402 - from the folder just put on the path


SESSION_SEED_VARIABLE = "TITAN_OPS_TEST_SEED"
# The modules that take minutes, longest first (measured in one process on main, 2026-12-06): each starts
# while the other worker runs the many short ones, rather than last with the other worker idle.
LONGEST_MODULES = (
    "tests/test_integration_targets.py",
    "tests/test_cluster.py",
    "tests/test_runbooks.py",
    "tests/test_runbooks_drills.py",
    "tests/test_differential.py",
    "tests/test_inventory_oracle.py",
    "tests/test_runbooks_db.py",
    "tests/test_differential_random.py",
)
FAST_SUBSET_LONGEST = (
    "tests/test_incident_process.py",
    "tests/test_async_jobs.py",
    "tests/test_incident_watch.py",
    "tests/test_connection_local.py",
    "tests/test_bad_input.py",
    "tests/test_broken_hosts.py",
    "tests/test_startup_imports.py",
    "tests/test_fuzz_inputs.py",
)
"""Then the modules of the fast subset (no lab, no oracle) that take seconds, longest first (measured on main,
2026-12-06), so that the fast subset too ends with short modules in both workers."""
_MEASUREMENT = "measurement"
_measured: list[str] = []  # the measurements of every test, in the process that prints the summary
_LAB_FIXTURES = frozenset({"lab", "lab_factory", "spare_lab"})
_TITAN_FIXTURES = frozenset({"titan_lab"})


_XDIST = importlib.util.find_spec("xdist") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    """Without pytest-xdist (a venv from before it was a test tool), setup.cfg's options are accepted and the
    suite runs in one process."""
    if not _XDIST:
        group = parser.getgroup("xdist-missing")
        group._addoption("-n", dest="numprocesses")  # a lowercase short option, as pytest-xdist declares it
        group.addoption("--dist")
        group.addoption("--no-loadscope-reorder", action="store_true")


def pytest_report_header() -> list[str]:
    return [] if _XDIST else ["pytest-xdist is missing: one process (pip install -e '.[test]' brings it)"]


def pytest_configure(config: pytest.Config) -> None:
    """What every process of the session shares (the xdist workers inherit it from the controller): the
    suite's own memory of passed schema checks (not the user's ~/.cache), and the seed of the tests drawn
    at random, so that every worker collects the same tests (``TITAN_OPS_TEST_SEED=N`` replays a session)."""
    os.environ.setdefault("TITAN_OPS_CACHE_DIR", tempfile.mkdtemp(prefix="titan-ops-test-cache-"))
    os.environ.setdefault(SESSION_SEED_VARIABLE, str(random.SystemRandom().randrange(2**32)))


def session_random() -> random.Random:
    """A random generator seeded for the session: the same draws in every worker (for parametrizations)."""
    return random.Random(int(os.environ[SESSION_SEED_VARIABLE]))


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need: ``lab`` (sshd hosts), ``titan`` (the Titan fleet); ``oracle`` is marked by hand.

    ``pytest -m "not lab and not titan and not oracle and not slow"`` is the fast subset: no sshd, no ansible.
    The modules of LONGEST_MODULES, then of FAST_SUBSET_LONGEST, go first, in that order (xdist hands modules out
    in collection order).
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _TITAN_FIXTURES:
            item.add_marker(pytest.mark.titan)
            item.add_marker(pytest.mark.lab)
        elif fixtures & _LAB_FIXTURES:
            item.add_marker(pytest.mark.lab)
    rank = {module: position for position, module in enumerate(LONGEST_MODULES + FAST_SUBSET_LONGEST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def measurements(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines a test appends to be printed at the end of the run (CI's log), passed or failed."""
    lines: list[str] = []
    yield lines
    request.node.user_properties.extend((_MEASUREMENT, line) for line in lines)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the measurements in the process that prints the summary (xdist's controller, or the only one)."""
    if report.when == "teardown":
        _measured.extend(value for name, value in report.user_properties if name == _MEASUREMENT)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _measured:
        terminalreporter.section("measurements")
        for line in _measured:
            terminalreporter.write_line(line)


def pytest_sessionstart(session: pytest.Session) -> None:
    """No test looks a name up outside this machine, in this process or in those it starts. With
    ``TITAN_OPS_SESSION`` set, SSH hosts run their commands through a shell session by default in this
    process too (the CLI processes the tests start read it themselves)."""
    if os.environ.get(SESSION_ENV):
        connection_base.SESSION_DEFAULT = boolean(os.environ[SESSION_ENV])
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
