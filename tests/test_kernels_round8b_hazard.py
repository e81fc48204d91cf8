"""Round 8b (escalation hazard): the uncapped-rows mode (``Escalation.capped_hazard = False``)
against the full pass, on random inputs and in a model."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.escalation import _per_1000
from sim.engine.escalation_kernels import (
    _gather_residents,
    _gather_rows,
    _hazard,
    _hazard_rows,
    _uncapped_rows,
)

N_GRIDS = 7
NB = np.array([[(g + d) % N_GRIDS if (g + d) % 3 else -1 for d in range(-4, 5)] for g in range(N_GRIDS)],
              dtype=np.int64)


def _inputs(rng: np.random.Generator, n: int, buried: float, n_res: int = 50) -> dict[str, np.ndarray]:
    res = rng.integers(0, n_res, n).astype(np.int64)
    dead = rng.random(n) < buried
    res[dead] = -1
    t_emerge = rng.uniform(-500.0, 900.0, n)  # some after t0 (a negative wait)
    t_emerge[dead] = np.nan
    return {
        "res": res, "grid": rng.integers(0, N_GRIDS, n).astype(np.int32),
        "severity": rng.integers(0, 4, n).astype(np.int8), "t_emerge": t_emerge,
        "category": rng.integers(0, 3, n).astype(np.int16), "bounces": rng.integers(0, 5, n).astype(np.int16),
        "tension_t": rng.uniform(0.0, 1_000.0, n_res).astype(np.float32),  # some after now
        "tension": rng.random(n_res).astype(np.float32), "trust": rng.random(n_res).astype(np.float32),
        "shift": rng.uniform(-0.6, 0.6, N_GRIDS),  # trust clipped at both ends
    }


def _args(d: dict[str, np.ndarray], decay: np.ndarray, tension: np.ndarray, trust: np.ndarray,
          per_1000: np.ndarray) -> tuple:
    return (d["grid"], d["t_emerge"], decay, tension, trust, d["shift"], per_1000, 800.0, 0.0006, 0.05, 4.0,
            np.float32(0.8), 0.7, 0.013, np.array([1.0, 1.7, 0.4]), d["category"], d["bounces"], 0.25)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), buried=st.sampled_from([0.0, 0.1, 1.0]))
def test_uncapped_rows_mode_matches_the_full_pass(seed, n, buried):
    """The neighbour term's counts are the full pass's; the uncapped open rows get the full pass's
    hazards bit for bit; no other row is written."""
    rng = np.random.default_rng(seed)
    d = _inputs(rng, n, buried)
    now, relax = np.float32(800.0), np.float32(168.0)
    floor = np.maximum(rng.uniform(0.0, 3_000.0, N_GRIDS), 1.0)

    counts = np.zeros(N_GRIDS)
    x, ten, tru = (np.empty(n, np.float32) for _ in range(3))
    _gather_residents(d["res"], d["grid"], counts, d["tension_t"], d["tension"], d["trust"], now, relax, x, ten, tru)
    p = _per_1000(counts, NB, floor)
    want = np.full(n, -1.0)
    _hazard(want, *_args(d, np.exp(x), ten, tru, p))

    counts2 = np.zeros(N_GRIDS)
    rows = np.empty(n, np.int64)
    rows = rows[:_uncapped_rows(d["res"], d["grid"], d["severity"], counts2, rows)]
    assert counts2.tobytes() == counts.tobytes()
    assert np.array_equal(rows, np.flatnonzero((d["res"] >= 0) & (d["severity"] < 3)))
    m = rows.shape[0]
    x2, ten2, tru2 = (np.empty(m, np.float32) for _ in range(3))
    _gather_rows(rows, d["res"], d["tension_t"], d["tension"], d["trust"], now, relax, x2, ten2, tru2)
    assert x2.tobytes() == x[rows].tobytes() and ten2.tobytes() == ten[rows].tobytes()
    assert tru2.tobytes() == tru[rows].tobytes()
    got = np.full(n, -1.0)
    _hazard_rows(rows, got, *_args(d, np.exp(x2), ten2, tru2, _per_1000(counts2, NB, floor)))
    assert got[rows].tobytes() == want[rows].tobytes()
    others = np.ones(n, dtype=bool)
    others[rows] = False
    assert np.all(got[others] == -1.0)


def test_model_run_skips_capped_hazards_until_its_last_day_and_ends_the_same():
    """CityModel.run skips the capped cases' hazard on every day but its last (the flag is for
    that): it ends with the same time series, hazard column and risk layer as a model stepped day
    by day, which never skips (only hazard_acc of capped cases, read by nothing, may differ)."""
    import dataclasses

    import sim

    scn = sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 6,
                                     "world.escalation_hazard_per_hour": 0.01})
    full = sim.CityModel(scn, rng=4)
    for _ in range(30):
        full.step()
    part = sim.CityModel(scn, rng=4)
    skipped = []
    hazard = part.escalation.hazard

    def spy(s):  # what each day of the run asked for
        skipped.append(not part.escalation.capped_hazard)
        hazard(s)

    part.plan = [dataclasses.replace(st, run=spy) if st.name == "escalation_hazard" else st for st in part.plan]
    part.run(30)
    assert skipped == [True] * 29 + [False] and part.escalation.capped_hazard
    capped = part.cases["severity"] == 3
    assert capped.sum() > 100
    assert full.timeseries().equals(part.timeseries())
    a, b = full.cases, part.cases
    for name in ("case_id", "severity", "acc_from", "t_severity2", "hazard"):
        assert a[name].tobytes() == b[name].tobytes(), name
    uncapped = a["severity"] < 3
    assert a["hazard_acc"][uncapped].tobytes() == b["hazard_acc"][uncapped].tobytes()
    assert np.array_equal(full.grid_layer("escalation_risk"), part.grid_layer("escalation_risk"), equal_nan=True)
    assert full.escalation.open_nearby_per_1000.tobytes() == part.escalation.open_nearby_per_1000.tobytes()
