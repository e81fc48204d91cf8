"""Memory of large runs (issue 16, round 6): case-table columns in mappings of their own
(sim/engine/buffers.py) hold the same rows as heap arrays would, through every append, move,
growth and compaction; the open cases folded into the KPIs in slices give the same totals."""

from __future__ import annotations

import mmap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli import dumps
from sim.engine import buffers
from sim.engine.buffers import mapping_of, new_column, release_rows, resized
from sim.engine.cases import BURIED, COLUMNS, CaseTable
from sim.engine.residents import _scale_clipped
from sim.outcomes import compute
from tests.test_case_bury import (  # _Sink hashes every closed record it is handed
    _Sink,
    compaction_shares,
)

_PAGE = mmap.PAGESIZE


def test_new_column_maps_large_buffers_only():
    small = new_column(10, np.float64)
    assert mapping_of(small) is None and small.shape == (10,)
    big = new_column(buffers.MAP_BYTES, np.float32, (4,))
    assert mapping_of(big) is not None and big.shape == (buffers.MAP_BYTES, 4) and big.dtype == np.float32
    assert big.flags.writeable and big.flags.c_contiguous and not big.any()  # fresh pages are zeros
    assert mapping_of(big[3:]) is mapping_of(big)  # views lead to the same mapping


def test_release_rows_zeroes_only_whole_dead_pages(monkeypatch):
    monkeypatch.setattr(buffers, "MAP_BYTES", 1)
    rows = 10 * _PAGE // 8
    col = new_column(rows, np.int64)
    col[:] = np.arange(rows) + 1
    live = slice(700, 5000)  # neither end on a page boundary
    release_rows(col, 0, live.start, live.start, live.stop)
    release_rows(col, live.stop, rows, live.start, live.stop)
    np.testing.assert_array_equal(col[live], np.arange(live.start, live.stop) + 1)  # live rows kept
    per_page = _PAGE // 8
    assert not col[: live.start // per_page * per_page].any()  # whole dead pages below: released
    assert not col[-(-live.stop // per_page) * per_page:].any()  # ... and above
    assert col[live.start - 1] != 0 and col[live.stop] != 0  # pages shared with live rows: kept
    with pytest.raises(AssertionError):
        release_rows(col, 600, 800, live.start, live.stop)
    heap = np.arange(5)
    release_rows(heap, 0, 5, 0, 0)  # not a mapping: nothing happens
    np.testing.assert_array_equal(heap, np.arange(5))


def test_resized_keeps_contents_and_refuses_with_a_live_view():
    col = new_column(buffers.MAP_BYTES // 8, np.float64, (2,))
    col[:] = np.random.default_rng(0).random(col.shape)
    want, buf, view = col.copy(), mapping_of(col), col[5:]
    del col
    assert resized(buf, want.shape[0] * 3, np.float64, (2,)) is None  # ``view`` is alive
    del view
    grown = resized(buf, want.shape[0] * 3, np.float64, (2,))
    assert grown is not None and grown.shape == (want.shape[0] * 3, 2)
    np.testing.assert_array_equal(grown[: want.shape[0]], want)
    assert not grown[want.shape[0]:].any()


def _table_ops(seed: int, map_bytes: int, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bytes]]:
    """A random sequence of appends, writes, burials and drops; the live rows after each step."""
    monkeypatch.setattr(buffers, "MAP_BYTES", map_bytes)
    rng = np.random.default_rng(seed)
    tab, states = CaseTable(capacity=64), []
    for _ in range(60):
        op = rng.integers(4)
        if op <= 1 or tab.n == 0:
            sl = tab.append(int(rng.integers(1, 3_000)))
            for name in ("t_emerge", "severity", "choice_u", "service_u"):
                col = tab[name][sl]
                col[...] = rng.random(col.shape) * 100
            tab["stage"][sl] = rng.integers(0, 4, sl.stop - sl.start)
        elif op == 2:
            open_rows = np.flatnonzero(tab["stage"] != BURIED)
            tab.bury(np.sort(rng.choice(open_rows, size=open_rows.size // 4, replace=False)))
        else:
            tab.drop(np.flatnonzero(rng.random(tab.n) < rng.random() * 0.5))
        states.append({k: tab[k].tobytes() for k in COLUMNS} | {"n": bytes(str(tab.n), "ascii")})
    return states


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mapped_table_holds_the_same_rows(monkeypatch, seed):
    mapped = _table_ops(seed, 1, monkeypatch)  # every column in a mapping of its own
    heap = _table_ops(seed, 1 << 62, monkeypatch)  # none
    assert mapped == heap


def _run(map_bytes: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    monkeypatch.setattr(buffers, "MAP_BYTES", map_bytes)
    sink = _Sink()
    m = sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 3}), rng=5, case_sink=sink).run(60)
    assert (mapping_of(m.state.cases.cols["case_id"]) is not None) == (map_bytes == 1)
    kpis = m.kpis()
    kpis.pop("provenance", None)
    return dumps(kpis), m.timeseries().to_csv(index=False), sink.h.hexdigest()


def test_mapped_columns_change_no_output(monkeypatch):
    assert _run(1, monkeypatch) == _run(1 << 62, monkeypatch)




def test_growth_copies_when_a_view_is_alive(monkeypatch):
    """A column some caller still holds a view of cannot be resized in place: it is copied, and
    the view keeps reading the old rows."""
    monkeypatch.setattr(buffers, "MAP_BYTES", 1)
    tab = CaseTable(capacity=16)
    tab.append(16)
    tab["t_emerge"][:] = np.arange(16.0)
    held = tab["t_emerge"]
    old = mapping_of(tab.cols["t_emerge"])
    tab.append(100)  # grows every column
    assert mapping_of(tab.cols["t_emerge"]) is not old and mapping_of(tab.cols["case_id"]) is not None
    np.testing.assert_array_equal(tab["t_emerge"][:16], np.arange(16.0))
    np.testing.assert_array_equal(held, np.arange(16.0))
    np.testing.assert_array_equal(tab["case_id"], np.arange(116))


@pytest.mark.parametrize("fold_rows", [1, 97, 1 << 40])
def test_kpis_the_same_in_any_slicing(monkeypatch, fold_rows):
    """The open cases folded into the KPIs a slice of rows at a time give the totals of one fold
    over all of them, to the bit (the detection delays are summed once, in row order)."""
    m = sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 3}), rng=2).run(40)
    tab = m.state.cases
    compaction_shares(monkeypatch, 10.0)  # kept buried, not compacted away
    tab.bury(np.flatnonzero(tab["stage"] != BURIED)[::7])  # buried rows are skipped in any slice
    assert tab.buried
    whole = dumps(compute.compute_kpis(m.state, m.accounts))
    monkeypatch.setattr(compute, "FOLD_ROWS", fold_rows)
    assert dumps(compute.compute_kpis(m.state, m.accounts)) == whole


@given(st.lists(st.integers(0, 40), min_size=1, max_size=30), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_scale_clipped_matches_numpy(sizes, seed):
    rng = np.random.default_rng(seed)
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = rng.random(start[-1]).astype(np.float32)
    values[rng.random(values.size) < 0.05] = np.nan
    factor = np.exp(rng.normal(0, 0.6, len(sizes))).astype(np.float32)
    want = np.minimum(values * np.repeat(factor, sizes), np.float32(1.0))
    got = values.copy()
    _scale_clipped(got, start, factor)
    assert got.tobytes() == want.tobytes()

