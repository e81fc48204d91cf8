"""Shared fixtures: small cities so the fast suite stays fast."""

from __future__ import annotations

import pytest

SMALL = {"city.residents": 20_000}


@pytest.fixture
def small_overrides() -> dict:
    """Overrides that shrink any scenario to a 20,000-resident city."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def run_pool():
    """The project's process pool (``sim.executors``), one per test session, for slow tests that
    make many independent seeded runs and check their results, never their timing: a run is a
    pure function of (scenario, parameters, seed, days), so where it executes does not change
    what it returns. Two workers at most (the CI machine has two cores); on one core a serial
    executor. Use with :func:`sim.executors.run_ordered`."""
    import os

    from sim.executors import make_executor

    ex = make_executor("processes", min(2, os.cpu_count() or 1))
    yield ex
    ex.close()
