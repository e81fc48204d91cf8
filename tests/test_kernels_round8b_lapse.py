"""Round 8b (lapse, contagion): the new formulations against the ones they replaced, bit for bit,
on small random case tables (edge cases included) and a short run."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cases import CaseTable
from sim.engine.contagion import _tally_today
from sim.engine.lapse import _spend


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


def _fmax(a, b):
    return a if (a >= b or a != a) else b


def _spend_before(stage, acc_from, t_detect, severity, lapse_left, rate_of, t0, t1, level, category, t_arrive, entry, top,
           review_after, street_scoped, t_end):
    """``lapse._spend`` as it was: every row through the escalation pass's tests (the reference)."""
    n = stage.shape[0]
    out = np.empty(n, np.int64)
    when = np.empty(n, np.float64)
    acts = np.empty(n, np.int64)
    k = 0
    m = 0
    for i in range(n):
        st = stage[i]
        if st == 1 or st == 2:
            start = _fmax(_fmax(acc_from[i], t0), t_detect[i])
            span = _fmax(t1 - start, 0.0)
            rate = rate_of[severity[i]]
            left = lapse_left[i]
            if rate > 0 and left <= rate * span:
                out[k] = i
                when[k] = start + left / rate
                k += 1
            else:
                lapse_left[i] = left - rate * span
        # would escalation._end_of_day_rows act on the row (integrate its hazard, or list it)? Its
        # tests in its order, with the severity before its integration (a row it integrates is
        # acted on either way). Written out here: as a compiled function taking the arrays, each
        # call cost 70 ns (their reference counts), the pass 20 times as long.
        if st < 0 or st > 2:
            continue
        acted = False
        if acc_from[i] < t_end:
            acted = severity[i] < 3 or (
                (st == 1 or st == 2) and level[i] >= 0 and entry[category[i], severity[i]] > level[i])
        if not acted and st == 2:
            lv = level[i]
            acted = (lv < top and t_end - t_arrive[i] >= review_after) or (
                lv >= 0 and street_scoped[lv] and t_end - t_arrive[i] >= -np.inf)
        if acted:
            acts[m] = i
            m += 1
    return out[:k].copy(), when[:k].copy(), acts[:m].copy()


_TIMES = np.array([0.0, 10.0, 23.999, 24.0, 24.5, 40.0, 47.0, 48.0, 60.0, np.inf, -np.inf, np.nan])


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 60), st.integers(0, 2**32 - 1), st.integers(0, 6), st.floats(0.0, 200.0))
def test_spend_with_its_quiet_levels_is_the_full_test(n, seed, top, review_after):
    rng = np.random.default_rng(seed)
    n_cat = 3
    lv_hi = top + 1
    entry = rng.integers(-1, lv_hi + 2, (n_cat, 8)).astype(np.int8)
    if rng.random() < 0.5:  # no entry above some levels: those may be quiet
        entry = np.minimum(entry, rng.integers(-1, lv_hi + 1)).astype(np.int8)
    street_scoped = rng.random(lv_hi + 1) < 0.3
    stage = rng.integers(-1, 9, n).astype(np.int8)
    stage[rng.random(n) < 0.5] = 2
    level = rng.integers(-1, lv_hi + 1, n).astype(np.int8)
    level[rng.random(n) < 0.4] = top
    severity = rng.integers(-2, 6, n).astype(np.int8)
    severity[rng.random(n) < 0.4] = 3
    category = rng.integers(0, n_cat, n).astype(np.int16)
    acc_from, t_detect, t_arrive = (rng.choice(_TIMES, n) + rng.choice([0.0, 0.25], n) for _ in range(3))
    left = rng.choice([0.0, 1e-6, 0.01, 0.5, 3.0, np.inf], n)
    rate_of = np.abs(rng.normal(0.0, 0.05, 128)) * (rng.random(128) < 0.8)
    t0, t1 = 24.0, 48.0
    rules = (entry, top, float(review_after), street_scoped, t1)
    want_left, got_left = left.copy(), left.copy()
    args = (stage, acc_from, t_detect, severity)
    rest = (rate_of, t0, t1, level, category, t_arrive, *rules)
    want = _spend_before(*args, want_left, *rest)
    got = _spend(*args, got_left, *rest)
    assert np.array_equal(got_left, want_left, equal_nan=True)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert np.array_equal(g, w, equal_nan=True)


def _perceive_before(stage, t_close, t_detect, grid, resolved, lapsed, unresolved, fair, memory, r):
    """``choice._perceive`` as it was: every row's stage tested (the reference)."""
    n_grids = r.shape[0]
    n = np.zeros(n_grids, np.int64)
    total = np.zeros(n_grids)
    for i in range(stage.shape[0]):
        st = stage[i]
        if st == resolved or st == lapsed or st == unresolved:
            if st == resolved:
                hours = t_close[i] - t_detect[i]
                sat = fair / (hours if (hours >= fair or hours != hours) else fair)
            else:
                sat = 0.0
            g = grid[i]
            n[g] += 1
            total[g] += sat
    for g in range(n_grids):
        if n[g] > 0:
            k = np.float64(n[g])
            r[g] += k / (k + memory) * (total[g] / k - r[g])


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 70), st.integers(0, 20), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_perceive_passing_over_words_is_the_full_pass(n, base, seed, closed):
    from sim.engine.cases import Stage
    from sim.engine.choice import _perceive_words
    from sim.engine.intrinsics import repeat_byte

    rng = np.random.default_rng(seed)
    buf = rng.integers(-1, 12, base + n + int(rng.integers(0, 9))).astype(np.int8)  # every stage, buried
    buf[rng.random(buf.size) >= closed] = 2  # runs of open rows, words without an outcome
    stage = buf[base: base + n]
    words = buf[: buf.size // 8 * 8].view(np.uint64)
    t_detect = rng.choice([0.0, 10.0, np.nan, np.inf], n)
    t_close = t_detect + rng.choice([0.0, 5.0, 48.0, 100.0, np.nan], n)
    grid = rng.integers(0, 4, n).astype(np.int32)
    r0 = rng.random(4)
    outcomes = (int(Stage.RESOLVED), int(Stage.LAPSED), int(Stage.UNRESOLVED))
    want, got = r0.copy(), r0.copy()
    with np.errstate(invalid="ignore"):  # inf - inf
        _perceive_before(stage, t_close, t_detect, grid, *outcomes, 48.0, 20.0, want)
    _perceive_words(stage, words, base, *(repeat_byte(v) for v in outcomes), t_close, t_detect, grid, *outcomes,
                    48.0, 20.0, got)
    assert got.tobytes() == want.tobytes()
