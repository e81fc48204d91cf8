"""Analytic oracles (DESIGN §5) through the full model: |z| <= 3 with batch-means standard errors."""

from __future__ import annotations

import math

import pytest

from sim.validation import DEFAULT_CASES, analytic, erlang_c, mmc_limit, validation_rows


def test_erlang_c_known_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook value
    a = analytic(1, 0.5, 1.0, escalation_rate=0.3)
    # P(>= k escalations) = C (θ/(θ+r))^k with no latency
    assert a["share_escalated_before_service"] == pytest.approx(0.5 * 0.3 / 0.8, rel=1e-6)
    assert a["share_escalated_twice_before_service"] == pytest.approx(0.5 * (0.3 / 0.8) ** 2, rel=1e-6)
    # a pure delay D multiplies the chance of escaping escalation by exp(−θD)
    b = analytic(1, 0.5, 1.0, escalation_rate=0.3, latency_hours=2.0)
    assert 1 - b["share_escalated_before_service"] == pytest.approx(
        math.exp(-0.6) * (1 - a["share_escalated_before_service"]), rel=1e-6)


def _check(res):
    rows = validation_rows([res])
    bad = [r for r in rows if not abs(r["z"]) <= 3]
    assert not bad, bad
    assert res["unserved"] == 0


def test_mm1_with_escalation_fast():
    _check(mmc_limit(1, 0.5, 1.0, escalation_rate=0.3, hours=20_000, seed=1))


def test_mm20_heavy_load_fast():
    _check(mmc_limit(20, 17.0, 1.0, escalation_rate=0.5, hours=3_000, seed=5))


@pytest.mark.slow
@pytest.mark.parametrize("case", DEFAULT_CASES, ids=lambda c: f"c{c.servers}-rho{c.arrival_rate / c.servers:g}")
def test_validation_table(case):
    _check(mmc_limit(case.servers, case.arrival_rate, case.service_rate, case.escalation_rate,
                     case.latency_hours))
