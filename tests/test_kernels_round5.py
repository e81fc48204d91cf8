"""Round 5 of issue 16 (the 5x year): the compiled passes against the formulations they replaced.

As in tests/test_kernels_round3.py, each new pass keeps its plain formulation here as the
reference, and they agree bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np

import sim
from sim.engine import service
from sim.engine.cases import CaseTable, Stage
from sim.engine.escalation import _STREET_SCOPED, _end_of_day
from sim.engine.intrinsics import no_byte, repeat_byte
from sim.engine.levels import TOP, Level
from tests.test_case_bury import _Sink  # hashes every closed record it is handed
from tests.test_engine_kernels import reference_accrue


def model(days: int = 25, **over) -> sim.CityModel:
    scn = sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 5, **over})
    return sim.CityModel(scn, rng=3).run(days)


def test_no_byte_matches_numpy():
    rng = np.random.default_rng(0)
    col = rng.choice(np.array([-1, 0, 1, 2, 3, 5, 127, -128], dtype=np.int8), 4_096, p=[.1, .1, .1, .1, .1, .3, .1, .1])
    col[rng.random(col.size) < 0.9] = 5  # long runs with no other value, as a court backlog
    words = col.view(np.uint64)
    for value in (-128, -1, 0, 1, 2, 3, 4, 5, 127):
        want = ~(col.reshape(-1, 8) == value).any(axis=1)
        got = np.array([no_byte(words, pos, repeat_byte(value)) for pos in range(0, col.size, 8)])
        np.testing.assert_array_equal(got, want, err_msg=str(value))


def test_rows_at_matches_flatnonzero():
    rng = np.random.default_rng(1)
    tab = CaseTable(capacity=3_000)
    tab.append(2_500)
    for base in (0, 1, 3, 8, 13):  # rows start anywhere in the column's words
        tab.base, tab.n = base, 2_500 - base
        lv = tab["level"]
        lv[:] = rng.choice(6, lv.size, p=[.02, .02, .02, .02, .02, .9])
        for level in range(7):
            want = np.flatnonzero(lv == level)
            got = service._rows_at(lv, *tab.words("level"), repeat_byte(level), level)
            np.testing.assert_array_equal(got, want)


def test_sparse_and_dense_queue_scans_give_the_same_run(monkeypatch):
    """Service._heads scans a level's queue over copies of its rows (sparse) or over the whole
    table (dense); forcing either everywhere gives the same run."""
    runs = []
    for dense in (True, False):
        init = service.Service.__init__

        def forced(self, *a, _init=init, _dense=dense, **k):
            _init(self, *a, **k)
            self._dense = _Always(_dense)

        monkeypatch.setattr(service.Service, "__init__", forced)
        sink = _Sink()
        m = sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 5}), rng=4, case_sink=sink).run(40)
        runs.append((m.timeseries().to_csv(), sink.h.hexdigest()))
    assert runs[0] == runs[1]


class _Always(list):
    """A list whose every item reads ``value`` and ignores writes (forces one scan)."""

    def __init__(self, value: bool) -> None:
        super().__init__([value] * len(Level))
        self.value = value

    def __getitem__(self, i):  # type: ignore[override]
        return self.value

    def __setitem__(self, i, v) -> None:  # type: ignore[override]
        pass


def test_end_of_day_pass_matches_numpy():
    """The escalation stage's one pass: the accrual of every unserved case (capped ones skipped)
    as the numpy formulation of ``accrue`` does it, and the router's three lists as the masks
    the separate passes took (each after the moves before it)."""
    m = model(days=40, **{"world.escalation_hazard_per_hour": 0.004})
    _ = m.cases  # compacted: the reference reads the compacted table (``model.cases``)
    s = m.state
    s.clock.start_day()
    m.escalation.hazard(s)
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    for mm in (a, b):
        mm.state.today = {"escalations": 0}
    tab, t0, t1 = a.state.cases, s.clock.t0, s.clock.t1
    after = float(a.router.handling["review_after_hours"])
    assert (tab["severity"] == 3).any()
    steps, up, due, bal = _end_of_day(
        tab["stage"], tab["level"], tab["severity0"], tab["severity"], tab["category"], tab["grid"],
        tab["t_arrive"], tab["acc_from"], tab["hazard"], tab["hazard_acc"], tab["esc_thresholds"],
        tab["t_severity2"], a.state.categories.entry_level, int(TOP), after, _STREET_SCOPED, float(t0), float(t1),
        a.escalation.escalations_by_grid, a.escalation.steps_by_grid_category)
    a.state.today["escalations"] += steps
    rt = b.state.cases
    stage = rt["stage"]
    unserved = np.flatnonzero((stage >= 0) & (stage <= 2) & (rt["acc_from"] < t1))
    reference_accrue(b, unserved, t1)
    assert a.state.today == b.state.today and steps > 0
    np.testing.assert_array_equal(a.escalation.escalations_by_grid, b.escalation.escalations_by_grid)
    for col in ("severity", "t_severity2"):
        assert tab[col].tobytes() == rt[col].tobytes(), col
    live = rt["severity"][unserved] < 3  # capped cases keep their integral: nothing reads it
    for col in ("hazard_acc", "acc_from"):
        assert tab[col][unserved[live]].tobytes() == rt[col][unserved[live]].tobytes(), col
    level, sev, cat = rt["level"], rt["severity"], rt["category"]
    in_unserved = np.zeros(stage.size, bool)
    in_unserved[unserved] = True
    outgrown = in_unserved & ((stage == 1) | (stage == 2)) & (level >= 0) & (
        a.state.categories.entry_level[cat, sev] > level)
    review = ~outgrown & (stage == Stage.QUEUED) & (level < TOP) & (t1 - rt["t_arrive"] >= after)
    street = ~outgrown & ~review & (stage == Stage.QUEUED) & np.isin(level, [Level.COMMUNITY, Level.STREET])
    for got, want in ((up, outgrown), (due, review), (bal, street)):
        np.testing.assert_array_equal(got, np.flatnonzero(want))
    assert due.size > 0 and bal.size > 0
