"""Heterogeneous residents, contagion and collective action (issue 11; docs/ODD.md §7.15–7.17).

* the branching-ratio validation refuses an explosive kernel (property test) with exit 2;
* with common random numbers, contagion makes emerged cases and collective incidents burstier
  (weekly variance/mean) and more clustered on the map (per-grid weekly variance/mean), beyond
  two paired standard errors;
* the Granovetter cascade reaches the mean-field equilibrium; repeat disputants concentrate cases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.config.params import ScenarioError
from sim.config.scenario import branching_ratio
from sim.engine.collective import cascade
from sim.executors import run_ordered
from sim.io.sinks import MemorySink
from sim.outcomes.clustering import (
    clustering_summary,
    detrended_dispersion_index,
    dispersion_index,
    morans_i,
)

OFF = {"world.contagion_magnitude": 0.0, "world.contagion_escalation_magnitude": 0.0}


@settings(max_examples=40, deadline=None)
@given(m=st.floats(0, 0.99), m_esc=st.floats(0, 0.33), r=st.floats(0, 1))
def test_the_branching_ratio_validation_refuses_exactly_the_explosive_kernels(m, m_esc, r):
    over = {"world.contagion_magnitude": m, "world.contagion_escalation_magnitude": m_esc,
            "world.recurrence_share": r}
    stable = (m == 0 and m_esc == 0) or m + 3 * m_esc + r < 1
    if stable:
        spec = sim.load_scenario("town", over)
        assert branching_ratio(spec.data["world"]) < 1
    else:
        with pytest.raises(ScenarioError, match="branching ratio"):
            sim.load_scenario("town", over)


def test_an_explosive_kernel_exits_2_naming_the_fields(capsys):
    argv = ["run", "town", "--days", "1", "--set", "world.contagion_magnitude=0.9"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "world.contagion_magnitude = 0.9" in err and "must be < 1" in err and "Traceback" not in err


def test_cascade_reaches_the_granovetter_equilibrium():
    rng = np.random.default_rng(0)
    # uniform-like spread of thresholds around 5 among 200: the whole crowd tips
    assert cascade(np.full(50, 200), np.float64(5.0), 3.0, rng).min() > 150
    # thresholds far above the crowd: almost nobody acts
    assert cascade(np.full(50, 20), np.float64(100.0), 5.0, rng).max() == 0
    # mean-field check: r = n Φ((r − μ)/σ) has its lowest fixed point near 0 for n = 20, μ = 12, σ = 6
    assert np.mean(cascade(np.full(2000, 20), np.float64(12.0), 6.0, rng)) < 3


def test_repeat_disputants_file_most_cases_and_deprived_grids_report_less():
    m = sim.CityModel("town", rng=0, overrides={"city.residents": 20_000}).run(60)
    res = m.residents
    w = res.dispute_weight(np.arange(len(res)))
    assert w.mean() == pytest.approx(1.0, rel=0.05)
    top = np.sort(w)[::-1]
    assert top[: len(w) // 10].sum() / w.sum() > 0.8  # the top tenth carries most of the weight
    # uniform when the dispersion is 0
    m0 = sim.CityModel("town", rng=0, overrides={"city.residents": 20_000,
                                                  "world.repeat_disputant_dispersion": 0})
    u = np.linspace(0, 0.999, 11)
    g = np.zeros(11, dtype=np.int64)
    np.testing.assert_array_equal(m0.residents.pick(u, g), (u * m0.layout.residents_per_grid[0]).astype(np.int64))
    # the reporting factor falls with deprivation; the need factor rises
    order = np.argsort(res.deprivation)
    assert np.all(np.diff(res.report_factor[order]) <= 0) and np.all(np.diff(res.need_factor[order]) >= 0)


def test_statistics_on_known_patterns():
    rng = np.random.default_rng(1)
    assert dispersion_index(rng.poisson(5.0, 7 * 400)) == pytest.approx(1.0, abs=0.2)
    lay = sim.CityModel("town", rng=0).layout
    smooth = (lay.cell_of_grid // lay.cols).astype(float)  # a gradient across the map
    assert morans_i(lay, smooth) > 0.8
    assert abs(morans_i(lay, rng.random(lay.n_grids))) < 0.15


def test_a_steady_rise_is_not_counted_as_bursts_once_detrended():
    # Poisson days whose rate climbs from 2 to 10 (a filling queue): over 400 weeks the weekly
    # variance/mean estimate has s.e. about sqrt(2 / 399) = 0.07; 0.25 is 3.5 s.e.
    rng = np.random.default_rng(2)
    daily = rng.poisson(np.linspace(2.0, 10.0, 7 * 400))
    assert dispersion_index(daily) > 5
    assert detrended_dispersion_index(daily) == pytest.approx(1.0, abs=0.25)


def _summary(over: dict, seed: int, days: int = 365) -> dict[str, float]:
    sink = MemorySink()
    m = sim.CityModel("town", rng=seed, case_sink=sink, overrides=over).run(days)
    rec, opened = sink.table(), m.cases.take(np.ones(len(m.cases), dtype=bool))
    rec = {k: np.concatenate([rec[k], opened[k]]) for k in rec}
    return clustering_summary(m.layout, rec, days, warmup_days=28)


@pytest.mark.slow
def test_contagion_makes_cases_and_collective_incidents_burstier_and_more_clustered(run_pool):
    # no annual cycle (weekly counts are stationary); three times the cases, so that collective
    # incidents are not too thin a sample of the clustered cases to show it
    flat = {"world.seasonality_amplitude": 0.0, "world.emergence_multiplier": 3.0}
    keys = ("emerged_weekly_var_mean", "emerged_grid_weekly_var_mean", "collective_weekly_var_mean",
            "collective_grid_weekly_var_mean")
    # the eight seeded runs are independent: made on the session's process pool
    summaries = run_ordered(run_pool, [(_summary, (over, s)) for over in (flat, {**flat, **OFF})
                                       for s in range(4)], "contagion")
    on = np.array([[summaries[s][k] for k in keys] for s in range(4)])
    off = np.array([[summaries[4 + s][k] for k in keys] for s in range(4)])
    d = on - off
    se = d.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
    assert (d.mean(axis=0) > 2 * se).all(), dict(zip(keys, d.mean(axis=0), strict=True))
