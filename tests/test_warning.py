"""Early warning (预测预警): the forecaster sees only what a city can see, its scores are
computed right, visits to flagged grids lower caused escalations at a cost (common random
numbers), and the capacity index follows its formula."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

import sim
from sim.engine.cases import Stage
from sim.warning.capacity import WEIGHTS, capacity_components, capacity_index
from sim.warning.observe import FEATURES, backlog_snapshot, features, observable_cases
from sim.warning.scoring import at_budget, auc, calibration_curve, flagged, lead_weeks, ranks


@pytest.fixture(scope="module")
def town30() -> sim.CityModel:
    m = sim.CityModel("town", rng=5)
    m.run(30)
    return m


def _features(m: sim.CityModel) -> np.ndarray:
    """The forecaster's features of ``m`` now (the week's tallies as kept, the current backlog,
    the survey answers of the last issue held fixed: the survey is its own, sampled input)."""
    s, w = m.state, m.warning
    snap = backlog_snapshot(observable_cases(s.cases), s.clock.t1, s.layout.n_grids)
    trust = np.full(s.layout.n_grids, 0.5)
    return features(w.hist, snap, trust, s.layout)


def test_forecaster_cannot_read_hidden_state(town30) -> None:
    """Perturb everything a city cannot see — latent cases (add more, change their severity,
    clocks and difficulty), every case's escalation clock, residents' tension — in a copy of the
    run: the features do not move, and the day's observed tallies neither."""
    m = town30
    twin = copy.deepcopy(m)
    s, tab = twin.state, twin.state.cases
    latent = np.flatnonzero(tab["stage"] == Stage.LATENT)
    assert latent.size > 0
    tab["severity"][latent] = 3
    tab["difficulty"][latent] += 5.0
    tab["hazard"][:] *= 10.0
    tab["hazard_acc"][:] += 1.0
    tab["esc_thresholds"][:] *= 0.1
    extra = tab.append(50)  # fifty more undetected grievances
    tab["stage"][extra] = Stage.LATENT
    tab["grid"][extra] = np.arange(50) % s.layout.n_grids
    tab["t_emerge"][extra] = s.clock.t0
    s.residents.tension[:] = 1.0
    s.residents.tension_t[:] = s.clock.t1
    assert np.array_equal(_features(m), _features(twin))
    a, b = observable_cases(m.state.cases), observable_cases(tab)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_observation_layer_reads_only_detected_rows_and_listed_columns(town30) -> None:
    obs = observable_cases(town30.state.cases)
    assert set(obs) <= {"grid", "category", "stage", "t_detect", "channel", "severity", "bounces",
                        "recurrence"}
    assert np.isfinite(obs["t_detect"]).all()
    assert (obs["stage"] != Stage.LATENT).all()
    x = _features(town30)
    assert x.shape == (town30.layout.n_grids, len(FEATURES)) and np.isfinite(x).all()


def test_weekly_issues_and_outcomes(town30) -> None:
    w = town30.warning
    assert [i.day for i in w.issues] == [6, 13, 20, 27]
    k = town30.kpis()
    for key in ("warning_auc", "naive_warning_auc", "warning_precision_at_budget"):
        assert 0 <= k[key] <= 1, key
    assert k["warning_visits"] == 0 and k["warning_visit_cost"] == 0
    assert 0 < k["capacity_index"] < 100
    assert town30.grid_layer("warning").shape == (town30.layout.rows, town30.layout.cols)


def test_scores_against_hand_computed_values() -> None:
    assert auc(np.array([0.9, 0.8, 0.1, 0.4]), np.array([1, 0, 0, 1])) == pytest.approx(0.75)
    assert auc(np.array([1.0, 1.0]), np.array([1, 0])) == pytest.approx(0.5)  # ties count a half
    assert np.isnan(auc(np.array([1.0, 2.0]), np.array([0, 0])))
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    labels = np.array([[1, 0, 0, 1], [0, 0, 0, 1]])
    assert flagged(scores, 0.5).sum() == 4
    p, r = at_budget(scores, labels, 0.5)
    assert (p, r) == (pytest.approx(2 / 4), pytest.approx(2 / 3))
    caught, lead = lead_weeks(scores, np.array([[0, 0, 0, 0], [1, 0, 0, 1]]), 0.25, 2)
    # grid 0 was flagged two issues ahead of its event, grid 3 one issue ahead
    assert caught == pytest.approx(1.0) and lead == pytest.approx(1.5)
    curve = calibration_curve(np.array([0.05, 0.05, 0.95]), np.array([0, 1, 1]), bins=10)
    assert curve == [(pytest.approx(0.05), pytest.approx(0.5), 2), (pytest.approx(0.95), 1.0, 1)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, 1e-300, np.inf, -np.inf, 7.0]), max_size=40),
       st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=40), st.booleans())
def test_ranks_are_scipys_rankdata(ties: list[float], spread: list[float], nan: bool) -> None:
    """The warning layer's own ranks (it does not import scipy.stats: 0.45 s a run) are
    rankdata's to the bit, ties (±0 among them), infinities and a NaN included."""
    a = np.array(ties + spread + ([np.nan] if nan else []), dtype=np.float64)
    for method in ("average", "min"):
        expected = rankdata(a, method=method).astype(np.float64)
        got = ranks(a, method)
        assert got.dtype == np.float64 and np.array_equal(got, expected, equal_nan=True), (a, method)
    with pytest.raises(ValueError, match="'average' or 'min'"):
        ranks(a, "dense")


def test_capacity_index_formula() -> None:
    levers = sim.CityModel("town", rng=0).levers
    handling = {"hops_to_platform": 1}
    c = capacity_components(levers, handling, 100, 100_000, 0.75)
    assert c["warning"] == pytest.approx(0.5) and 0 < c["staff"] <= 1
    assert capacity_index(levers, handling, 100, 100_000, 0.75) == pytest.approx(
        100 * sum(WEIGHTS[k] * c[k] for k in WEIGHTS))
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert capacity_index(levers, handling, 100, 100_000, float("nan")) < \
        capacity_index(levers, handling, 100, 100_000, 0.75)


def test_warning_visits_lower_caused_escalations_at_a_cost() -> None:
    """Common random numbers: the same seeds with and without visits on a small town (40 grids,
    150 days). The visits' effects are set strong here (all tension relieved, 80% of latent
    grievances found) so that the direction shows on a small city; on ``town`` with the default
    effects, tests/test_levers.py checks it between the lever's probe values."""
    over = {"city.residents": 40_000, "world.warning_visit_tension_relief": 1.0,
            "world.warning_visit_detection": 0.8}
    d, cost = [], []
    for seed in range(3):
        a = sim.run("town", over, seed=seed, days=150)
        b = sim.run("town", {**over, "levers.warning_response_visits_per_week": 20}, seed=seed, days=150)
        d.append(b["caused_escalation_share"] - a["caused_escalation_share"])
        cost.append(b["staff_cost"] - a["staff_cost"])
        assert b["warning_visits"] == 20 * (150 // 7) and a["warning_visits"] == 0
        assert b["warning_visit_cost"] == pytest.approx(cost[-1])  # the visits are the only extra cost
    d_arr = np.array(d)
    assert (d_arr < 0).all() and -d_arr.mean() > 2 * d_arr.std(ddof=1) / np.sqrt(d_arr.size), d
    assert (np.array(cost) > 0).all(), cost


def test_learned_forecaster_trains_on_histories_and_scores_in_the_model() -> None:
    """Train on a short history (seed apart from the evaluation one), attach, and it scores every
    grid each week with chances in [0, 1]; the model's warning_auc is then the learned one's."""
    pytest.importorskip("sklearn")
    from sim.warning import learn

    over = {"city.residents": 20_000}
    x, y = learn.history("town", 1001, 70, over)
    assert x.shape == (y.size, len(FEATURES)) and set(np.unique(y)) <= {0, 1}
    for method in learn.LEARNERS:
        f = learn.fit(x, y, method)
        p = f.score(x)
        assert p.shape == y.shape and ((p >= 0) & (p <= 1)).all()
    m = sim.CityModel("town", rng=1, overrides=over)
    m.warning.learned = learn.fit(x, y)
    m.run(35)
    issues, labels = m.warning.scored(m.state)
    learned = m.warning.scores_of(issues, "learned")
    assert learned.shape == labels.shape
    assert m.kpis()["warning_auc"] == pytest.approx(auc(learned, labels))
    with pytest.raises(ValueError, match="learner"):
        learn.fit(x, y, "magic")


def test_survey_is_the_numpy_formula() -> None:
    """The compiled survey gives numpy's answers to the bit: the same draws, np.clip twice and
    np.mean(axis=1)'s pairwise sum, for short, 8-multiple and long rows (numpy's own code above
    128)."""
    from types import SimpleNamespace

    from sim.warning.observe import survey

    pick = np.random.default_rng(0)
    sizes = pick.integers(1, 900, 300)
    start = np.concatenate([[0], np.cumsum(sizes)])
    res = SimpleNamespace(start=start, trust=pick.random(int(start[-1])).astype(np.float32),
                          trust_shift=pick.normal(0.0, 0.3, 300))
    res.trust_of = lambda idx, g: np.clip(res.trust[idx] + res.trust_shift[g], 0.0, 1.0)
    for per_grid in (1, 7, 8, 20, 37, 128, 130):
        rng = np.random.default_rng(per_grid)
        n = start.size - 1
        idx = start[:-1, None] + np.floor(rng.random((n, per_grid)) * np.diff(start)[:, None]).astype(np.int64)
        answers = res.trust_of(idx.ravel(), np.repeat(np.arange(n), per_grid)) + rng.normal(0.0, 0.1, idx.size)
        want = np.clip(answers, 0.0, 1.0).reshape(n, per_grid).mean(axis=1)
        got = survey(res, per_grid, np.random.default_rng(per_grid))  # type: ignore[arg-type]
        assert np.array_equal(got.view(np.int64), want.view(np.int64))
