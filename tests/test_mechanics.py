"""Policy answers a referee would accept: no free exits, outcomes that cannot flatter a collapse.

Every comparison uses common random numbers: the same seeds under both settings, differences
per seed, and a tolerance of two paired standard errors.

A seeded run is a pure function of (parameters, seed, days), so each distinct run is made once
per module (:class:`Runs`) and shared by the tests that compare it — e.g. every staff lever's
test starts from the same four unchanged scenarios — and a test's runs are made up front on the
session's process pool (``run_pool``), then compared exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

import sim
from sim.engine.levels import LEVEL_TABLE
from sim.executors import Executor, run_ordered

STAFF_LEVERS = tuple(spec.lever for spec in LEVEL_TABLE)
SEEDS = (0, 1, 2)
DAYS = 150


def random_scenarios(n: int = 4) -> list[dict[str, float]]:
    """``n`` random variations of town: world uncertainties and levers drawn from plausible ranges."""
    rng = np.random.default_rng(2026)
    out = []
    for _ in range(n):
        out.append({
            "city.residents": 20_000,
            "world.emergence_multiplier": float(rng.uniform(0.5, 3.0)),
            "world.escalation_hazard_per_hour": float(rng.uniform(0.0002, 0.003)),
            "world.escalation_growth_per_day": float(rng.uniform(0.0, 0.2)),
            "world.lapse_per_day": float(rng.uniform(0.0, 0.05)),
            "levers.resource_integration": float(rng.uniform(0, 1)),
            "levers.latency_hours_per_hop": float(rng.uniform(0, 48)),
            "levers.mediators_per_street": int(rng.integers(1, 12)),
            "levers.centre_staff_per_street": int(rng.integers(1, 8)),
            "levers.department_staff": int(rng.integers(1, 10)),
            "levers.city_staff": int(rng.integers(1, 15)),
            "levers.legal_capacity": int(rng.integers(1, 60)),
            "levers.grid_workers_per_grid": int(rng.integers(1, 8)),
        })
    return out


class Runs:
    """KPIs of town runs of ``DAYS`` days by (parameters, seed), each run made once."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool
        self.done: dict[tuple, dict[str, float]] = {}

    @staticmethod
    def key(params: dict, seed: int) -> tuple:
        return tuple(sorted(params.items())), seed

    def need(self, param_sets: Iterable[dict], seeds: Iterable[int] = SEEDS) -> None:
        """Make the runs not yet made, on the pool (results in task order)."""
        todo: dict[tuple, tuple[dict, int]] = {}
        for p in param_sets:
            for s in seeds:
                if self.key(p, s) not in self.done:
                    todo[self.key(p, s)] = (p, s)
        tasks = [(sim.run, ("town", p, s, DAYS)) for p, s in todo.values()]
        self.done.update(zip(todo, run_ordered(self.pool, tasks, "mechanics"), strict=True))

    def kpis(self, params: dict, seed: int) -> dict[str, float]:
        """``sim.run("town", params, seed=seed, days=DAYS)``."""
        self.need([params], [seed])
        return self.done[self.key(params, seed)]

    def outcomes(self, params: dict, keys: tuple[str, ...]) -> np.ndarray:
        """[seed, key] outcomes of town with ``params`` (same seeds every call)."""
        self.need([params])
        return np.array([[self.done[self.key(params, s)][k] for k in keys] for s in SEEDS])


@pytest.fixture(scope="module")
def runs(run_pool: Executor) -> Runs:
    return Runs(run_pool)


def not_lower(worse: np.ndarray, better: np.ndarray) -> np.ndarray:
    """Per key: the paired mean of ``worse - better`` is not significantly below zero."""
    d = worse - better
    se = d.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
    return d.mean(axis=0) >= -2.0 * se - 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("lever", STAFF_LEVERS)
def test_fewer_staff_never_fewer_escalations_or_smaller_backlog(lever, runs):
    keys = ("caused_escalation_share", "backlog")

    def steps(scn: dict) -> list[int]:
        full = scn[f"levers.{lever}"]
        return sorted({full, max(full // 2, 1), 1, 0}, reverse=True)

    runs.need([{**scn, f"levers.{lever}": n} for scn in random_scenarios() for n in steps(scn)])
    for scn in random_scenarios():
        prev = runs.outcomes(scn, keys)
        for n in steps(scn)[1:]:
            cur = runs.outcomes({**scn, f"levers.{lever}": n}, keys)
            assert not_lower(cur, prev).all(), (lever, n, scn, (cur - prev).mean(axis=0))
            prev = cur


@pytest.mark.slow
def test_a_lower_budget_cap_never_fewer_escalations_or_smaller_backlog(runs):
    keys = ("caused_escalation_share", "backlog")
    shares = (0.75, 0.5, 0.25, 1e-6)
    costs = []
    for scn in random_scenarios():
        staffing = sim.CityModel(sim.load_scenario("town", scn), rng=0).staffing
        costs.append(staffing.annual_cost(staffing.desired()) / 1e6)
    runs.need([scn for scn in random_scenarios()] + [
        {**scn, "levers.budget_million_yuan": cost * share}
        for scn, cost in zip(random_scenarios(), costs, strict=True) for share in shares])
    for scn, cost in zip(random_scenarios(), costs, strict=True):
        prev = runs.outcomes(scn, keys)  # no cap
        for share in shares:
            cur = runs.outcomes({**scn, "levers.budget_million_yuan": cost * share}, keys)
            assert not_lower(cur, prev).all(), (share, scn, (cur - prev).mean(axis=0))
            prev = cur


@pytest.mark.slow
def test_a_city_with_no_staff_has_the_worst_safety_index(runs):
    scn = random_scenarios(1)[0]
    others = [scn] + [{**scn, f"levers.{lv}": 0} for lv in STAFF_LEVERS] + [
        {**scn, **{f"levers.{lv}": 1 for lv in STAFF_LEVERS}}]
    runs.need([{**scn, **{f"levers.{lv}": 0 for lv in STAFF_LEVERS}}, *others])
    none = runs.outcomes({**scn, **{f"levers.{lv}": 0 for lv in STAFF_LEVERS}},
                         ("safety_index",))[:, 0]
    for params in others:
        other = runs.outcomes(params, ("safety_index",))[:, 0]
        assert np.all(none < other), (params, none, other)
    k = runs.kpis({**scn, **{f"levers.{lv}": 0 for lv in STAFF_LEVERS}}, seed=0)
    assert k["resolved_share"] == 0 and k["median_hours_to_resolution"] == pytest.approx(DAYS * 24)


@pytest.mark.slow
def test_no_outcome_improves_when_emergence_rises_tenfold(runs):
    better_when = {  # direction in which each headline outcome is better
        "resolved_share": +1, "escalated_share": -1, "caused_escalation_share": -1, "lapsed_share": -1,
        "median_hours_to_resolution": -1, "p90_hours_to_resolution": -1, "grassroots_resolution_share": +1,
        "mean_trust": +1, "safety_index": +1, "mediation_success": +1}
    keys = tuple(better_when)
    tenfold = [{**scn, "world.emergence_multiplier": 10 * scn["world.emergence_multiplier"]}
               for scn in random_scenarios(2)]
    runs.need(random_scenarios(2) + tenfold)
    for scn, ten in zip(random_scenarios(2), tenfold, strict=True):
        base = runs.outcomes(scn, keys)
        more = runs.outcomes(ten, keys)
        sign = np.array([better_when[k] for k in keys])
        # "better" = sign × value higher; tenfold emergence must not be significantly better
        assert not_lower(sign * base, sign * more).all(), dict(zip(keys, (more - base).mean(axis=0),
                                                                   strict=True))


def test_utilisation_never_exceeds_one_and_work_past_the_end_does_not_count():
    m = sim.CityModel(sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 30,
                                                  "levers.legal_capacity": 1, "levers.city_staff": 1}), rng=3)
    m.run(40)
    util = m.accounts.utilisation_by_level()
    assert all(0 <= u <= 1 + 1e-12 for u in util.values()), util
    assert max(util.values()) > 0.9  # the test city is overloaded: it is the bound that holds
    m.levers.mediators_per_street = 1  # staff leave mid-run: still bounded
    m.run(10)
    assert all(u <= 1 + 1e-12 for u in m.accounts.utilisation_by_level().values())


def test_warm_up_is_excluded_from_the_outcomes():
    base = {"city.residents": 20_000}
    k = sim.run("town", {**base, "run.warmup_days": 30}, seed=4, days=60)
    full = sim.run("town", base, seed=4, days=60)
    assert 0 < k["cases_total"] < full["cases_total"]
    assert k["staff_cost"] == pytest.approx(full["staff_cost"] / 2, rel=0.02)


def test_collapse_does_not_flatter_time_to_resolution():
    """A city that resolves nothing reports the run's length as a lower bound, not NaN or a
    fast median over the few cases it did resolve."""
    k = sim.run("town", {"city.residents": 20_000, "world.emergence_multiplier": 50}, seed=1, days=60)
    ok = sim.run("town", {"city.residents": 20_000}, seed=1, days=60)
    assert k["median_hours_to_resolution"] > ok["median_hours_to_resolution"]
    assert k["grassroots_resolution_share"] < ok["grassroots_resolution_share"]
