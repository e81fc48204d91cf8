"""Closed rows buried in place (``CaseTable.bury``) are invisible: a run that compacts the case
table every day, one that compacts it at the default share and one that never compacts during
the run give the same outputs to the bit (issue 16, round 4)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import sim
from sim.cli import dumps
from sim.engine import cases
from sim.engine.cases import BURIED, COLUMNS, CaseTable, Stage


class _Sink:
    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def write(self, records: dict[str, np.ndarray]) -> None:
        for k in sorted(records):
            self.h.update(np.ascontiguousarray(records[k]).tobytes())

    def close(self) -> None:
        pass


def compaction_shares(monkeypatch: pytest.MonkeyPatch, share: float, old: float | None = None) -> None:
    """The compaction shares of every table size set to ``share`` (and ``old``)."""
    for name in ("COMPACT_SHARE", "SMALL_COMPACT_SHARE"):
        monkeypatch.setattr(cases, name, share)
    if old is not None:
        for name in ("OLD_SHARE", "SMALL_OLD_SHARE"):
            monkeypatch.setattr(cases, name, old)


def _run(shares: tuple[float, float] | None, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str, int]:
    if shares is not None:  # None: the defaults (town's table is small: SMALL_COMPACT_SHARE)
        compaction_shares(monkeypatch, *shares)
    sink = _Sink()
    scn = sim.load_scenario("town", {"world.emergence_multiplier": 3})
    m = sim.CityModel(scn, rng=5, case_sink=sink).run(60)
    buried = m.state.cases.buried
    kpis = m.kpis()
    kpis.pop("provenance", None)
    return dumps(kpis), m.timeseries().to_csv(index=False), sink.h.hexdigest(), buried


def test_burying_changes_no_output(monkeypatch):
    daily = _run((0.0, 0.0), monkeypatch)  # compacts at every close, as before burying
    never = _run((10.0, 10.0), monkeypatch)  # never compacts until the model's table is read
    default = _run(None, monkeypatch)
    large = _run((cases.COMPACT_SHARE, cases.OLD_SHARE), monkeypatch)  # a large table's shares on town's
    assert daily[3] == 0 and never[3] > 0  # the runs did differ in what the table held
    assert never[:3] == daily[:3]
    assert default[:3] == daily[:3] and large[:3] == daily[:3]


def test_bury_marks_counts_and_compacts(monkeypatch):
    compaction_shares(monkeypatch, 0.5)
    tab = CaseTable(capacity=4)
    tab.append(10)
    tab["stage"][:] = Stage.QUEUED
    tab["t_emerge"][:] = np.arange(10.0)
    tab.bury(np.array([2, 5]))
    assert len(tab) == 8 and tab.n == 10 and tab.buried == 2
    assert list(tab["stage"][[2, 5]]) == [BURIED, BURIED]
    assert np.isnan(tab["t_emerge"][[2, 5]]).all() and (tab["resident_a"][[2, 5]] == -1).all()
    assert tab.stage_counts()["queued"] == 8  # reading the counts compacts
    assert tab.n == 8 and tab.buried == 0
    np.testing.assert_array_equal(tab["t_emerge"], [0, 1, 3, 4, 6, 7, 8, 9])
    tab.bury(np.arange(5))  # more than half: compacted at once
    assert tab.n == len(tab) == 3 and tab.buried == 0
    np.testing.assert_array_equal(tab["case_id"], [7, 8, 9])
    assert set(COLUMNS) == set(tab.cols)


@pytest.mark.parametrize(("capacity", "grows"), [(4, True), (64, False)])
def test_append_leaves_buried_rows_behind(monkeypatch, capacity, grows):
    """When the rows must move to the front of the columns, or the columns grow, the buried rows
    are compacted away first: the copy carries only open rows, in their order."""
    compaction_shares(monkeypatch, 10.0)  # no compaction by bury itself
    tab = CaseTable(capacity=capacity)
    tab.append(40)
    tab["t_emerge"][:] = np.arange(40.0)
    tab.drop(np.arange(30))  # the rows now start 30 rows into the columns
    assert tab.base == 30
    tab.bury(np.array([0, 3]))
    cap = tab.cols["case_id"].shape[0]
    sl = tab.append(30)  # 30 + 10 + 30 rows do not fit
    assert (tab.cols["case_id"].shape[0] > cap) == grows
    assert tab.buried == 0 and tab.base == 0 and len(tab) == tab.n == 8 + 30
    tab["t_emerge"][sl] = -1.0
    kept = [30 + k for k in range(10) if k not in (0, 3)]
    np.testing.assert_array_equal(tab["t_emerge"], kept + [-1.0] * 30)
    np.testing.assert_array_equal(tab["case_id"], kept + list(range(40, 70)))
