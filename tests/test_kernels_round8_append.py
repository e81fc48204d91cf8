"""Appending to a large case table (round 8): columns in mappings of their own grow at their end,
in place, instead of having their rows compacted and moved to the front; the open rows, their
order and their contents are those the old way (still that of heap columns) gives."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import buffers
from sim.engine.buffers import mapping_of
from sim.engine.cases import BURIED, COLUMNS, CaseTable
from tests.test_case_bury import compaction_shares

_WRITTEN = ("t_emerge", "severity", "choice_u", "service_u", "grid", "proactive_only")


def _write(tab: CaseTable, sl: slice, rng: np.random.Generator) -> None:
    """Random contents in a few columns of the rows ``sl`` (open stages)."""
    for name in _WRITTEN:
        col = tab[name][sl]
        col[...] = rng.random(col.shape) * 100
    tab["stage"][sl] = rng.integers(0, 4, sl.stop - sl.start)


def _open_rows(tab: CaseTable) -> dict[str, bytes]:
    """What readers see: the open rows (buried ones skipped) of every column, in order."""
    keep = tab["stage"] != BURIED
    return {k: tab[k][keep].tobytes() for k in COLUMNS} | {"len": str(len(tab)).encode(),
                                                          "next_id": str(tab.next_id).encode()}


def _ops(seed: int, map_bytes: int, share: float, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bytes]]:
    """A random sequence of appends, burials, drops and compactions; the open rows after each."""
    monkeypatch.setattr(buffers, "MAP_BYTES", map_bytes)
    compaction_shares(monkeypatch, share)
    rng = np.random.default_rng(seed)
    tab, states = CaseTable(capacity=int(rng.integers(1, 200))), []
    for _ in range(50):
        op = rng.integers(6)
        if op <= 2 or tab.n == 0:
            sl = tab.append(int(rng.integers(0, 2_000)))
            _write(tab, sl, rng)
        elif op == 3:
            open_rows = np.flatnonzero(tab["stage"] != BURIED)
            tab.bury(np.sort(rng.choice(open_rows, size=int(open_rows.size * rng.random() * 0.3), replace=False)))
        elif op == 4:  # closes among the oldest rows move ``base`` forward
            open_rows = np.flatnonzero(tab["stage"] != BURIED)
            old = open_rows[: int(open_rows.size * rng.random() * 0.6)]
            tab.bury(old[rng.random(old.size) < 0.9])
            tab.drop(np.flatnonzero(tab["stage"] == BURIED))
            tab.buried = tab.old_buried = 0
        else:
            tab.compact()
        assert tab.buried == int(np.count_nonzero(tab["stage"] == BURIED))
        states.append(_open_rows(tab))
    return states


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.05, 0.3, 10.0]))
@settings(max_examples=40, deadline=None)
def test_growing_in_place_keeps_the_open_rows(seed, share):
    mp = pytest.MonkeyPatch()
    try:
        grown = _ops(seed, 1, share, mp)  # every column mapped: the table grows in place
        moved = _ops(seed, 1 << 62, share, mp)  # heap columns: compacted and moved, as before
    finally:
        mp.undo()
    assert grown == moved


def _large_table(monkeypatch: pytest.MonkeyPatch) -> tuple[CaseTable, dict[str, np.ndarray]]:
    """A mapped table whose rows start 300 rows into its columns, with buried rows, and a copy of
    its live rows."""
    monkeypatch.setattr(buffers, "MAP_BYTES", 1)
    compaction_shares(monkeypatch, 10.0)  # no compaction by bury itself
    tab = CaseTable(capacity=1000)
    _write(tab, tab.append(1000), np.random.default_rng(3))
    tab.drop(np.arange(300))
    tab.bury(np.array([0, 5, 699]))
    assert tab.base == 300 and tab.n == 700 and tab.buried == 3
    return tab, {k: tab[k].copy() for k in COLUMNS}


def test_large_table_grows_at_its_end_without_moving(monkeypatch):
    tab, before = _large_table(monkeypatch)
    maps = {k: mapping_of(tab.cols[k]) for k in COLUMNS}
    sl = tab.append(200)  # 300 + 700 + 200 rows do not fit
    assert tab.cols["case_id"].shape[0] == 1500  # by half
    assert tab.base == 300 and tab.n == 900 and tab.buried == 3  # nothing moved, nothing compacted
    assert all(mapping_of(tab.cols[k]) is maps[k] for k in COLUMNS)  # each resized in place
    for k in COLUMNS:
        np.testing.assert_array_equal(tab[k][:700], before[k])
        fill = np.full(COLUMNS[k][2] or (1,), COLUMNS[k][1], COLUMNS[k][0])
        assert (tab[k][sl] == fill).all() if k != "case_id" else (tab[k][sl] == np.arange(1000, 1200)).all()
    big = tab.append(2000)  # more than half again: exactly enough
    assert tab.cols["case_id"].shape[0] == 300 + 900 + 2000 and tab.base == 300
    np.testing.assert_array_equal(tab["case_id"][big], np.arange(1200, 3200))


def test_growth_copies_the_live_rows_when_a_view_is_alive(monkeypatch):
    tab, before = _large_table(monkeypatch)
    held = tab["t_emerge"]
    old = mapping_of(tab.cols["t_emerge"])
    tab.append(200)
    assert mapping_of(tab.cols["t_emerge"]) is not old and tab.base == 300
    np.testing.assert_array_equal(tab["t_emerge"][:700], before["t_emerge"])
    np.testing.assert_array_equal(held, before["t_emerge"])  # the view reads the old buffer


def test_mostly_dead_table_moves_to_the_front(monkeypatch):
    """With more dead rows before ``base`` than live ones, the rows move to the front (buried
    ones dropped first), as heap columns always do."""
    tab, before = _large_table(monkeypatch)
    tab.drop(np.arange(6, 401))  # rows 0-5 move up next to 401-699: 305 rows left, 695 dead before
    assert tab.base == 695 and tab.n == 305
    keep = [k for k in (*range(6), *range(401, 700)) if k not in (0, 5, 699)]
    sl = tab.append(700)
    assert tab.base == 0 and tab.buried == 0 and tab.n == 302 + 700
    assert tab.cols["case_id"].shape[0] == 1500
    for k in COLUMNS:
        np.testing.assert_array_equal(tab[k][: sl.start], before[k][keep])


def test_pickle_holds_the_live_rows_only(monkeypatch):
    tab, before = _large_table(monkeypatch)
    tab.append(200)  # grown in place: 300 dead rows before ``base``, 300 spare after the rows
    again = pickle.loads(pickle.dumps(tab))
    assert again.base == 0 and again.n == tab.n and again.cols["case_id"].shape[0] == tab.n
    assert (again.buried, again.old_buried, again.next_id) == (tab.buried, tab.old_buried, tab.next_id)
    for t in (tab, again):
        t.append(1000)
        t.compact()
    assert _open_rows(again) == _open_rows(tab)
    np.testing.assert_array_equal(again["t_emerge"][:697], np.delete(before["t_emerge"], [0, 5, 699]))
