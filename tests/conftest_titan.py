"""The full Titan lab for tests: ``titan_lab``, brought up once per session (registered in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from titan_ops import lab as lab_api
from titan_ops.lab import titan
from titan_ops.lab.titan import Fleet


@pytest.fixture(scope="session")
def titan_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A 3-host lab with the Titan fleet: PostgreSQL and Redis on lab1 (databases), pm2 with Brain,
    Execution, Scavenger and AI Quant on lab2 (core, trading), nginx, Console, Prometheus, Alertmanager,
    node-exporter, the Grafana stand-in and the exchange stand-in on lab3 (interface, monitoring).
    ``.inventory_path``, ``.url(service)``, ``.public_url`` (nginx), ``.lab``, ``.config``.

    Shared by every test: put back what you change (``POST /_standin/reset`` resets a stand-in's state)
    and leave titan_brain's rows as they are (use a database of your own for destructive tests).
    """
    directory = tmp_path_factory.mktemp("titan-lab")
    try:
        yield titan.up(hosts=3, directory=directory)
    finally:
        titan.down(directory)
        lab_api.down(directory)


@pytest.fixture
def fleet(titan_lab: Fleet) -> Iterator[Fleet]:
    """The shared Titan lab with the stand-ins (Brain, Execution, exchanges) at their seeded state before and
    after the test."""
    from tests.runbooks_support import reset_standins

    reset_standins(titan_lab)
    yield titan_lab
    reset_standins(titan_lab)
