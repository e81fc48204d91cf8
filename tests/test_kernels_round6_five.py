"""Round 6 of issue 16 (the daily record and the outcome totals at 5x): the compiled passes
against the numpy formulations they replaced, bit for bit, on small random inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine.cases import CITY_OPTIONS, OPTIONS, Stage
from sim.engine.levels import LEVELS
from sim.outcomes.accumulate import (
    _COURT_BIT,
    _MEDIATION_BIT,
    DEPARTMENT_WINDOWS,
    EDGES,
    KpiAccumulator,
    hours_histogram,
)
from sim.outcomes.compute import daily_kpis, daily_record, open_tallies

N_CAT, N_DEPT = 5, 3


def _reference_add(self: KpiAccumulator, r: dict[str, np.ndarray], dept_of_category: np.ndarray,
                   now: float) -> None:
    """The numpy formulation ``KpiAccumulator.add`` replaced."""
    c, n_cat = r["category"].astype(np.int64), self.cases.size
    stage = r["stage"]
    res = stage == Stage.RESOLVED
    det = np.isfinite(r["t_detect"])
    is_open = stage <= Stage.IN_SERVICE

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(c[mask], minlength=n_cat)

    self.cases += np.bincount(c, minlength=n_cat)
    self.resolved += count(res)
    self.escalated += count(r["severity"] >= 2)
    self.caused += count(r["severity"] > r["severity0"])
    self.major += count(r["severity"] >= 3)
    self.detected += count(det)
    self.faded += count(stage == Stage.FADED)
    self.lapsed += count(stage == Stage.LAPSED)
    self.unresolved += count(stage == Stage.UNRESOLVED)
    self.returned += count(r["recurrence"] > 0)
    if "collective" in r:
        self.collective_actions += count(r["collective"] == 1)
    self.by_level += np.bincount(r["level"][res], minlength=len(LEVELS))
    with np.errstate(invalid="ignore"):
        hours = r["t_close"] - r["t_detect"]
    for k in np.unique(c[res]):
        self.events[k] += hours_histogram(hours[res & (c == k)])
    censor = det & is_open
    for k in np.unique(c[censor]):
        self.censored[k] += hours_histogram(now - r["t_detect"][censor & (c == k)])
    self.detect_delay_sum += float(np.sum(r["t_detect"][det] - r["t_emerge"][det]))
    self.misrouted += int(np.count_nonzero(r["bounces"][det] > 0))
    mediated = (r["levels_served"] & _MEDIATION_BIT) > 0
    self.mediated += int(np.count_nonzero(mediated))
    self.mediated_to_court += int(np.count_nonzero(mediated & ((r["levels_routed"] & _COURT_BIT) > 0)))
    dept = dept_of_category[c[det]]
    d = self.dept_cases.size
    self.dept_cases += np.bincount(dept, minlength=d)
    for j, win in enumerate(DEPARTMENT_WINDOWS):
        ok = res[det] & (hours[det] <= win)
        self.dept_within[:, j] += np.bincount(dept[ok], minlength=d)
    entry = r["entry_channel"]
    self.new_grievances += int(np.count_nonzero(r["recurrence"] == 0))
    self.reported += int(np.count_nonzero(np.isin(entry, CITY_OPTIONS)))
    self.choices += np.bincount(entry[entry >= 0], minlength=len(OPTIONS))
    self.settled += int(np.count_nonzero(stage == Stage.SETTLED))
    self.petitions += int(np.count_nonzero(stage == Stage.PETITIONED))
    self.public += int(np.count_nonzero(stage == Stage.WENT_PUBLIC))


def _records(rng: np.random.Generator, n: int, collective: bool) -> dict[str, np.ndarray]:
    t_emerge = rng.uniform(0, 2000, n)
    # detection delays from sub-hour to beyond the last bin; a share never detected
    t_detect = np.where(rng.random(n) < 0.8, t_emerge + 10.0 ** rng.uniform(-3, 6, n), np.inf)
    stage = rng.integers(0, len(Stage), n).astype(np.int8)
    t_close = np.where(stage == Stage.RESOLVED, t_detect + 10.0 ** rng.uniform(-3, 6, n), np.inf)
    t_close[(stage == Stage.RESOLVED) & ~np.isfinite(t_detect)] = 5.0  # resolved, never detected
    sev0 = rng.integers(0, 4, n).astype(np.int8)
    r = {
        "category": rng.integers(0, N_CAT, n).astype(np.int16), "stage": stage,
        "severity0": sev0, "severity": np.minimum(sev0 + rng.integers(0, 3, n), 3).astype(np.int8),
        "recurrence": rng.integers(0, 3, n).astype(np.int8), "level": rng.integers(0, len(LEVELS), n).astype(np.int8),
        "bounces": rng.integers(0, 3, n).astype(np.int16),
        "levels_served": rng.integers(0, 256, n).astype(np.uint8),
        "levels_routed": rng.integers(0, 256, n).astype(np.uint8),
        "entry_channel": rng.integers(-1, len(OPTIONS), n).astype(np.int8),
        "t_emerge": t_emerge, "t_detect": t_detect, "t_close": t_close,
    }
    if collective:
        r["collective"] = rng.integers(0, 3, n).astype(np.int8)
    return r


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 400), collective=st.booleans())
def test_add_matches_numpy(seed, n, collective):
    rng = np.random.default_rng(seed)
    dept = rng.integers(0, N_DEPT, N_CAT)
    a, b = KpiAccumulator(N_CAT, N_DEPT), KpiAccumulator(N_CAT, N_DEPT)
    for _ in range(2):  # onto totals already holding counts
        r = _records(rng, n, collective)
        now = float(rng.uniform(2000, 1e6))
        a.add(r, dept, now)
        _reference_add(b, r, dept, now)
    for key, val in vars(b).items():
        got = getattr(a, key)
        if isinstance(val, np.ndarray):
            np.testing.assert_array_equal(got, val, err_msg=key)
        else:
            assert got == val, key
    assert a.events.sum() == b.events.sum() and a.events.shape == (N_CAT, EDGES.size - 1)


def test_daily_record_equals_its_three_calls():
    scn = sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 4,
                                     "run.warmup_days": 3})
    m = sim.CityModel(scn, rng=5).run(5)
    for _ in range(12):
        m.step()
        tallies, trust, kp = daily_record(m.state, m.accounts)
        ref = open_tallies(m.state)
        for key in ("per_stage", "per_severity"):
            np.testing.assert_array_equal(tallies[key], ref[key], err_msg=key)
        assert trust == m.state.residents.mean_trust()
        full = daily_kpis(m.state, m.accounts, trust)
        for key, val in full.items():
            assert kp[key] == val or (np.isnan(val) and np.isnan(kp[key])), key
