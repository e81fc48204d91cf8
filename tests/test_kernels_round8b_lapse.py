"""Round 8b (lapse, contagion): the new formulations against the ones they replaced, bit for bit,
on small random case tables (edge cases included) and a short run."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cases import CaseTable
from sim.engine.contagion import _tally_today


def _tally_before(t_emerge, severity0, t_severity2, grid, category, t0, t1, new):
    """``_tally_today`` as it was: one pass over every row (the reference)."""
    n_sev2 = 0
    for i in range(t_emerge.size):
        today = t_emerge[i] >= t0
        if today:
            new[grid[i], category[i]] += 1
        if (today and severity0[i] >= 2) or (t_severity2[i] >= t0 and t_severity2[i] < t1):
            n_sev2 += 1
    return n_sev2


def _table(rng: np.random.Generator, n_old: int, n_new: int, n_grids: int, t0: float) -> CaseTable:
    """``n_old`` rows from before the day ``[t0, t0 + 24)`` then ``n_new`` that emerged in it;
    severity-2 times before, on the edges of, in and after the day, never (inf) and buried (NaN)."""
    tab = CaseTable(capacity=8)
    for count, lo, hi in ((n_old, 0.0, t0), (n_new, t0, t0 + 24.0)):
        if count == 0:
            continue
        sl = tab.append(count)
        tab["grid"][sl] = rng.integers(0, n_grids, count)
        tab["category"][sl] = rng.integers(0, 5, count)
        tab["severity0"][sl] = rng.integers(0, 4, count)
        te = rng.uniform(lo, hi, count)
        te[rng.random(count) < 0.2] = lo if lo == t0 else np.nextafter(t0, -np.inf)  # the day's edge
        tab["t_emerge"][sl] = te
        ts = te + rng.choice([0.0, 1.0, 30.0, 200.0, np.inf], count)
        ts[rng.random(count) < 0.1] = t0
        ts[rng.random(count) < 0.1] = t0 + 24.0
        ts[rng.random(count) < 0.1] = -0.0
        tab["t_severity2"][sl] = ts
        if count > 2 and rng.random() < 0.5:  # some rows closed and buried (NaN times)
            tab.bury(np.unique(rng.integers(0, tab.n, 2)))
    return tab


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(1, 6), st.integers(0, 2**32 - 1),
       st.sampled_from([24.0, 240.0]))
def test_tally_today_from_the_new_rows_is_the_full_pass(n_old, n_new, n_grids, seed, t0):
    rng = np.random.default_rng(seed)
    tab = _table(rng, n_old, n_new, n_grids, t0)
    cols = [tab[c] for c in ("t_emerge", "severity0", "t_severity2", "grid", "category")]
    base = rng.integers(0, 3, (n_grids, 5))
    want_new = base.copy()
    want = _tally_before(*cols, t0, t0 + 24.0, want_new)
    first = int(np.searchsorted(tab["case_id"], n_old))
    for start in (first, 0):  # from row 0 (the first day) too
        got_new = base.copy()
        assert _tally_today(*cols, t0, t0 + 24.0, got_new, start) == want
        assert np.array_equal(got_new, want_new)


def test_contagion_scans_only_the_new_rows_it_may_count():
    # over a short run, the rows before the stage's first row never emerged on the day
    from sim.model import CityModel

    m = CityModel("town", rng=3)
    c = m.contagion
    firsts = []
    orig = c.__call__

    class Spy:
        def __call__(self, s):
            tab = s.cases
            first = int(np.searchsorted(tab["case_id"], c._next_id))
            assert not (tab["t_emerge"][:first] >= s.clock.t0).any()
            firsts.append(first)
            orig(s)

    for i, stage in enumerate(m.plan):
        if stage.name == "contagion":
            m.plan[i] = type(stage)(stage.name, Spy(), stage.reads, stage.writes, stage.doc)
    m.run(30)
    assert max(firsts) > 0
