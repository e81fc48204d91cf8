"""Round 8 (the day's overheads: warning, daily record): the new formulations against the ones
they replaced, bit for bit, on small random case tables (edge cases included) and a short run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cases import BURIED, CHANNELS, CaseTable
from sim.warning.observe import ObservedHistory, observable_cases
from sim.warning.target import add_target_events, target_events


def _table(rng: np.random.Generator, n_old: int, n_new: int, n_grids: int, t0: float) -> CaseTable:
    """A case table of ``n_old`` rows from before the day ``[t0, t0 + 24)`` then ``n_new`` rows
    that emerged in it; detection times before, in and after the day, latent (inf) and buried
    (NaN) rows, a partial compaction between them."""
    tab = CaseTable(capacity=8)
    for count, lo, hi in ((n_old, 0.0, t0), (n_new, t0, t0 + 24.0)):
        if count == 0:
            continue
        sl = tab.append(count)
        tab["grid"][sl] = rng.integers(0, n_grids, count)
        tab["severity"][sl] = rng.integers(0, 4, count)
        tab["severity0"][sl] = rng.integers(0, 4, count)
        tab["channel"][sl] = rng.integers(-1, len(CHANNELS), count)
        tab["recurrence"][sl] = rng.integers(0, 3, count)
        te = rng.uniform(lo, hi, count) if hi > lo else np.full(count, lo)
        tab["t_emerge"][sl] = te
        td = te + rng.choice([0.0, 1.0, 30.0, 200.0, np.inf], count)
        td[rng.random(count) < 0.1] = t0  # on the day's edges
        td[rng.random(count) < 0.1] = t0 + 24.0
        tab["t_detect"][sl] = td
        if count > 2 and rng.random() < 0.5:  # some rows closed and buried (NaN times), some dropped
            rows = np.unique(rng.integers(0, tab.n, 2))
            tab.bury(rows)
    return tab


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_warning_day_reads_the_table_as_before(n_old, n_new, n_grids, seed):
    rng = np.random.default_rng(seed)
    t0 = 24.0 * int(rng.integers(1, 5))
    tab = _table(rng, n_old, n_new, n_grids, t0)
    # the day's reports: straight from the table as through observable_cases
    want, got = ObservedHistory(n_grids), ObservedHistory(n_grids)
    want.week[...] = got.week[...] = rng.integers(0, 5, want.week.shape)
    want.add_reports(observable_cases(tab, t0, t0 + 24.0), t0, t0 + 24.0)
    got.add_reports_of(tab, t0, t0 + 24.0)
    assert got.week.tobytes() == want.week.tobytes()
    # target events: only the rows appended since the day began (ids in row order)
    steps = rng.integers(0, 3, n_grids).astype(np.float64)
    first = int(np.searchsorted(tab["case_id"], n_old))
    seen = rng.integers(0, 50, n_grids)
    esc = seen + rng.integers(0, 3, n_grids)
    for kind in ("escalation", "collective", "escalation_or_collective"):
        a = target_events(tab, steps, t0, t0 + 24.0, kind)
        b = target_events(tab, steps, t0, t0 + 24.0, kind, first)
        assert a.tobytes() == b.tobytes()
        # the stage's in-place form: week += target_events(esc - seen), seen = esc
        week = rng.integers(0, 9, n_grids).astype(np.float64)
        want = week + target_events(tab, (esc - seen).astype(np.float64), t0, t0 + 24.0, kind)
        got_seen = seen.copy()
        add_target_events(week, tab, esc, got_seen, t0, t0 + 24.0, kind, first)
        assert week.tobytes() == want.tobytes() and got_seen.tobytes() == esc.tobytes()
    assert (tab["stage"] == BURIED).sum() == tab.buried


@pytest.mark.parametrize("name", ["warning", "contagion"])
def test_stage_scans_only_the_new_rows_it_may_count(name):
    # over a short run, the rows before the stage's first row (the rows appended since it last
    # ran, found from the table's next id then) never emerged on the day
    from sim.model import CityModel

    m = CityModel("town", rng=3)
    stage_obj = getattr(m, name)
    firsts = []
    orig = stage_obj.__call__

    class Spy:
        def __call__(self, s):
            tab = s.cases
            first = int(np.searchsorted(tab["case_id"], stage_obj._next_id))
            assert not (tab["t_emerge"][:first] >= s.clock.t0).any()
            firsts.append(first)
            orig(s)

    for i, stage in enumerate(m.plan):
        if stage.name == name:
            m.plan[i] = type(stage)(stage.name, Spy(), stage.reads, stage.writes, stage.doc)
    m.run(30)
    assert len(firsts) == 30 and max(firsts) > 0


def _survival_before(events, censored, n_total):
    """``km_quantiles``' survival curve as numpy computed it (the reference)."""
    removed_before = np.concatenate([[0], np.cumsum(events + censored)[:-1]])
    at_risk = n_total - removed_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / np.maximum(at_risk, 1), 0.0)
    return np.cumprod(1.0 - hazard)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.sampled_from([0, 1, 500, -3]),
       st.sampled_from([3000, 1, 7]), st.booleans())
def test_survival_curve_is_numpys(seed, density, extra, size, as_float):
    from sim.outcomes.accumulate import _survival

    rng = np.random.default_rng(seed)
    events = (rng.random(size) < density) * rng.integers(1, 50, size)
    censored = (rng.random(size) < density) * rng.integers(1, 20, size)
    # more removed than at risk (extra < 0) too: at_risk <= 0 gives no hazard
    n_total = max(int(events.sum() + censored.sum()) + extra, 1)
    if as_float:
        events, censored = events.astype(np.float64), censored.astype(np.float64)
    want = _survival_before(events, censored, n_total)
    assert _survival(events, censored, n_total).tobytes() == want.tobytes()


def test_bin_of_is_the_histograms_bin_at_every_edge():
    # unsigned indices in bin_of: every edge, its neighbouring floats and values beyond both ends
    from numba import njit

    from sim.outcomes.accumulate import _TOP, BIN_GUESS, EDGES, bin_of, hours_histogram

    @njit
    def bins(h, edges, top, key0, guess):
        out = np.empty(h.size, np.int64)
        for i in range(h.size):
            out[i] = bin_of(h[i], edges, top, key0, guess)
        return out

    h = np.concatenate([EDGES, np.nextafter(EDGES, -np.inf), np.nextafter(EDGES, np.inf),
                        [0.0, -5.0, 1e-300, 1e9, np.inf, -np.inf, _TOP],
                        np.random.default_rng(0).lognormal(3.0, 3.0, 5000)])
    got = bins(h, EDGES, _TOP, *BIN_GUESS)
    want = np.searchsorted(EDGES, np.clip(h, EDGES[0], _TOP), side="right") - 1
    assert np.array_equal(got, want)
    assert np.array_equal(np.bincount(got, minlength=EDGES.size - 1), hours_histogram(h))
