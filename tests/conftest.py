"""Shared fixtures: small cities so the fast suite stays fast."""

from __future__ import annotations

import pytest

SMALL = {"city.residents": 20_000}


@pytest.fixture
def small_overrides() -> dict:
    """Overrides that shrink any scenario to a 20,000-resident city."""
    return dict(SMALL)
