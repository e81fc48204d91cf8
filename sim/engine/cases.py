"""The case table: open cases as a struct of arrays, closed cases streamed out.

Only open cases live here. When a case closes, its record is handed to the KPI accumulator and,
if asked for, to a case sink (in memory or Parquet), then dropped — memory stays flat however
many cases a run produces. Dropping is deferred: closed rows are first *buried* in place (stage
``BURIED``, which every stage skips as it would skip an absent row) and compacted away every few
days, mostly from the newest rows only (``CaseTable.bury``); ``len(table)`` counts the open
cases, ``CityModel.cases`` compacts.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
from numba import njit

from .buffers import MAP_BYTES, mapping_of, new_column, release_rows, resized
from .case_kernels import bury_rows, compact_all, fill_rows, kept_rows, move_columns
from .levels import N_LEVELS
from .split import column_parts, in_parts

INF = np.inf


class Stage(IntEnum):
    """Where a case is at the end of a tick. Every open case is in exactly one open stage; a case
    leaves the system only through one of the documented exits (the closed stages)."""

    LATENT = 0  # emerged, not yet detected
    REPORTING = 1  # detected or referred, in transit to its next queue (latency, bounces)
    QUEUED = 2  # waiting for a handler (at a level with no staff it waits for the review)
    IN_SERVICE = 3  # being handled
    RESOLVED = 4  # exit: resolved (record leaves the table at the end of the tick)
    FADED = 5  # exit: an undetected grievance the parties dropped before anyone knew of it
    UNRESOLVED = 6  # exit: decided against the parties at the top level (court judgment); the
    #                 grievance stays with its residents and may come back as a new case
    LAPSED = 7  # exit: the parties gave up waiting for a detected case to be handled
    # exits of the residents' channel choice (sim/engine/choice.py)
    LUMPED = 8  # exit: the residents chose to lump it and nobody found it before it faded; the
    #             grievance stays with them (tension) and may come back
    SETTLED = 9  # exit: resolved bilaterally by the parties' own negotiation (not by the city)
    PETITIONED = 10  # exit: taken to the petition system (信访); counts as a petition
    WENT_PUBLIC = 11  # exit: taken public (online or street); counts as a public incident


OPEN_STAGES = (Stage.LATENT, Stage.REPORTING, Stage.QUEUED, Stage.IN_SERVICE)
CLOSED_STAGES = (Stage.RESOLVED, Stage.FADED, Stage.UNRESOLVED, Stage.LAPSED, Stage.LUMPED,
                 Stage.SETTLED, Stage.PETITIONED, Stage.WENT_PUBLIC)
RETURNING_EXITS = (Stage.LAPSED, Stage.UNRESOLVED, Stage.LUMPED, Stage.PETITIONED, Stage.WENT_PUBLIC)
"""Exits whose grievance stays with its residents and may come back (sim/engine/emergence.py)."""

CHANNELS = ("patrol", "screening", "video", "volunteer", "hotline", "grid_report", "mediation", "court")
"""Detection channels: the codes of the ``channel`` column. The first five are competing
detection clocks (``hotline`` is also where a resident report lands when channel choice is off);
``grid_report``, ``mediation`` and ``court`` are residents' own choices (sim/engine/choice.py)."""
OPTIONS = ("lump", "negotiate", "grid", "hotline", "mediation", "court", "petition", "public")
"""What residents can do with a grievance (sim/engine/choice.py): the codes of ``entry_channel``
and the bits of ``channels_tried``."""
CITY_OPTIONS = (2, 3, 4, 5)  # grid worker, hotline, mediation, court: the city's channels
N_DETECTION_CLOCKS = 5  # patrol, screening, video, volunteer, the resident's own clock
PROACTIVE_CHANNELS = (0, 1, 2)  # found by government staff or cameras, not reported by residents
HOTLINE = CHANNELS.index("hotline")  # resident reports; every other channel dispatches the grid worker
BURIED = -1
"""Stage code of a closed row left in place until the next compaction (:meth:`CaseTable.bury`):
not a :class:`Stage` (no open or closed stage test matches it, ``stage & 255`` is 255)."""
COMPACT_SHARE = 0.05
"""Buried rows are compacted away once they are more than this share of the table's rows (not
counting those a partial compaction left among the older rows)."""
TAIL_SHARE = 0.2
"""A partial compaction removes the buried rows among the newest fifth of the rows: most cases
close young, so most buried rows are there (at 5x on day 250, 81% of them), and moving the rows
after the first of them moves a fifth of the table instead of nearly all of it."""
OLD_SHARE = 0.03
"""... unless the buried rows left among the older rows would be more than this share of the rows:
then every buried row is removed (a full compaction)."""
SMALL_TABLE_ROWS = 1 << 18
SMALL_COMPACT_SHARE, SMALL_OLD_SHARE = 0.15, 0.10
"""The two shares for a table of fewer rows than ``SMALL_TABLE_ROWS``: there a day's closed rows
are a large part of the table (13 % at 1x in xian) and a compaction moves most of it, while the
passes over buried rows cost little: the 1x year 1-5 % faster, the 2x year 8 % (issue 16, round
10). A large table keeps the shares above (0.15 was slower at 5x in round 8, and would hold more
dead rows in memory at 10x)."""

# name -> (dtype, fill value, trailing shape). One row per open case.
COLUMNS: dict[str, tuple[Any, Any, tuple[int, ...]]] = {
    "case_id": (np.int64, -1, ()),
    "category": (np.int16, 0, ()),
    "grid": (np.int32, 0, ()),
    "resident_a": (np.int64, -1, ()),
    "resident_b": (np.int64, -1, ()),
    "n_involved": (np.int32, 1, ()),
    "severity0": (np.int8, 0, ()),
    "severity": (np.int8, 0, ()),
    "stage": (np.int8, 0, ()),
    "level": (np.int8, -1, ()),  # level of the current/next queue
    "entry_level": (np.int8, -1, ()),
    "pool": (np.int32, -1, ()),
    "server": (np.int32, -1, ()),
    "channel": (np.int8, -1, ()),
    "visits": (np.int8, 0, ()),
    "bounces": (np.int16, 0, ()),
    "t_emerge": (np.float64, INF, ()),
    "t_detect": (np.float64, INF, ()),
    "t_arrive": (np.float64, INF, ()),  # arrival at the current queue
    "t_start": (np.float64, INF, ()),
    "t_end": (np.float64, INF, ()),
    "t_close": (np.float64, INF, ()),
    "t_severity2": (np.float64, INF, ()),
    "first_wait": (np.float64, INF, ()),  # queue wait at the first level visited (oracle)
    "wait_total": (np.float64, 0.0, ()),
    "esc_before_service": (np.int8, -1, ()),  # escalation steps before the first service start
    "detect_left": (np.float64, 0.0, ()),  # unit-exponential budget left on the detection clock
    "fade_left": (np.float64, 0.0, ()),  # ... on the fading clock
    "channel_u": (np.float32, 0.0, ()),
    "proactive_only": (np.bool_, False, ()),
    "hazard": (np.float64, 0.0, ()),  # today's escalation hazard, per hour
    "hazard_acc": (np.float64, 0.0, ()),  # integrated escalation hazard so far
    "acc_from": (np.float64, INF, ()),  # start of exposure not yet integrated (INF = in service)
    "lapse_left": (np.float64, 0.0, ()),  # unit-exponential budget left on the lapse clock
    "difficulty": (np.float32, 0.0, ()),  # latent difficulty (standard normal): the same at every level
    "levels_served": (np.uint8, 0, ()),  # bitmask of levels that handled the case
    "levels_routed": (np.uint8, 0, ()),  # bitmask of levels the case was sent to
    "recurrence": (np.int8, 0, ()),  # 0 = a new grievance; k = its k-th return after an unresolved exit
    "collective": (np.int8, 0, ()),  # 1 = a collective incident born of collective action; 2 = its
    #                                  parties joined one (docs/ODD.md §7.17); 0 = neither
    "return_u": (np.float32, 1.0, ()),  # uniform deciding whether an unresolved exit comes back
    "return_wait": (np.float32, 1.0, ()),  # unit exponential: how long until it comes back
    "esc_thresholds": (np.float32, 0.0, (3,)),  # cumulative unit-exponential thresholds
    "service_u": (np.float32, 1.0, (N_LEVELS,)),  # unit exponential work per level
    "outcome_u": (np.float32, 0.0, (N_LEVELS,)),  # uniform deciding success per level
    "route_u": (np.float32, 0.0, (N_LEVELS,)),  # uniform deciding misrouting/court per level
    # residents' channel choice (sim/engine/choice.py): U(0,1) first choice, U(0,1) negotiation
    # outcome, U(0,1) choice after a failed negotiation, Exp(1) detection budget after lumping
    "choice_u": (np.float32, 0.5, (4,)),
    "entry_channel": (np.int8, -1, ()),  # the residents' (final) choice, OPTIONS code; -1 = none yet
    "channels_tried": (np.uint8, 0, ()),  # bitmask of OPTIONS tried, carried across returns
}

RECORD_COLUMNS = ("case_id", "category", "grid", "n_involved", "severity0", "severity", "stage",
                  "entry_level", "level", "channel", "visits", "bounces", "t_emerge", "t_detect",
                  "t_close", "t_severity2", "first_wait", "wait_total", "esc_before_service",
                  "levels_served", "levels_routed", "recurrence", "resident_a", "resident_b",
                  "collective", "entry_channel", "channels_tried")
"""Columns of a closed-case record (what sinks receive)."""


class CaseTable:
    """Growable struct-of-arrays of open cases."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.base = 0  # rows live at base:base+n of the column buffers
        # large columns each in a mapping of their own (sim/engine/buffers.py): they grow in
        # place and give the pages of dead rows back
        self.cols: dict[str, np.ndarray] = {}
        for name, (dt, fill, shape) in COLUMNS.items():
            self.cols[name] = new_column(capacity, dt, shape)
            self.cols[name][...] = fill
        self.next_id = 0
        self.buried = 0  # closed rows still in place (stage BURIED), see :meth:`bury`
        self.old_buried = 0  # ... of which left among the older rows by a partial compaction
        self._flats: tuple[np.ndarray, ...] | None = None  # see :meth:`_bytes`
        self._closed: tuple[tuple, np.ndarray] | None = None  # :meth:`closed_rows`

    def _bytes(self) -> tuple[np.ndarray, ...]:
        """Every column's whole buffer as bytes, in ``COLUMNS`` order (for the compiled passes over
        all columns), made once per set of buffers: :meth:`append` forgets them before it moves
        or resizes a column (a buffer is resized in place only when no view of it is left)."""
        if self._flats is None:
            self._flats = tuple(self.cols[name].reshape(-1).view(np.uint8) for name in COLUMNS)
        return self._flats

    def __getstate__(self) -> dict[str, Any]:
        # the live rows only: a large table's dead rows before ``base`` (:meth:`_make_room`) and
        # its spare rows hold no memory here, but would in the pickle; the byte views are made
        # again after loading
        cols = {k: c[self.base: self.base + self.n] for k, c in self.cols.items()}
        return {**self.__dict__, "cols": cols, "base": 0, "_flats": None, "_closed": None}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name][self.base: self.base + self.n]

    def words(self, name: str) -> tuple[np.ndarray, int]:
        """A one-byte column's whole buffer as 8-byte words, and the offset of row 0 in it (so that
        a compiled scan for a rare value can skip eight rows at a time: ``intrinsics.no_byte``)."""
        col = self.cols[name]
        assert col.dtype.itemsize == 1 and col.ndim == 1
        return col[: col.shape[0] // 8 * 8].view(np.uint64), self.base

    def closed_rows(self, t: float) -> np.ndarray:
        """Rows of closed cases, ascending, on the day ending at hour ``t``: one list for the last
        stages of the day (``grievance_memory``, ``stories``, ``close``, one after another in the
        plan: they vouch that no stage is written between them), made again after an append, bury
        or compaction or when ``t`` moves on."""
        key = (self.n, self.base, self.next_id, self.buried, float(t))
        if self._closed is None or self._closed[0] != key:
            self._closed = (key, stage_rows(self["stage"], CLOSED_STAGES))
        return self._closed[1]

    def __len__(self) -> int:
        """Open cases: the rows of the columns less the buried ones (:meth:`bury`)."""
        return self.n - self.buried

    def append(self, count: int) -> slice:
        """Reserve ``count`` new rows (filled with defaults, ids assigned); return their slice."""
        if self.base + self.n + count > self.cols["case_id"].shape[0]:
            self._make_room(count)
        lo, need = self.base + self.n, self.n + count
        # every column's defaults and the ids in one compiled call (a call per column cost more)
        fill_rows(self._bytes(), _ROW_BYTES, _FILL_BYTES, lo, self.base + need, self.cols["case_id"], self.next_id)
        self.next_id += count
        self.n = need
        return slice(need - count, need)

    def _make_room(self, count: int) -> None:
        """Room for ``count`` more rows after the last one. A large table (its columns in mappings
        of their own, sim/engine/buffers.py) grows at its end, in place, its rows left where they
        are: its dead rows before ``base`` hold no memory (:meth:`drop` gave their pages back), and
        moving the live rows to the front instead copied the whole table (at 5x 300 MB, 0.2 s, a
        dozen times a year) and first compacted it. A small table, or one with more dead rows
        before ``base`` than live ones, drops its buried rows and moves its rows to the front,
        growing by half when that is not enough room."""
        cap = self.cols["case_id"].shape[0]
        if self.base < self.n and mapping_of(self.cols["case_id"]) is not None:
            self._flats = None
            new_cap = max(self.base + self.n + count, cap + cap // 2)
            for name in COLUMNS:
                self.cols[name] = _grown(self.cols, name, self.base, self.base + self.n, new_cap)
            return
        self.compact()  # the rows are about to be copied: drop the buried ones first
        need = self.n + count
        if self.base + need > cap:
            new_cap = cap if need <= 0.75 * cap else max(need, cap + cap // 2)
            self._flats = None
            for name in COLUMNS:
                self.cols[name] = _moved_front(self.cols, name, self.base, self.n, need, new_cap)
            self.base = 0

    def take(self, rows: np.ndarray, names: tuple[str, ...] = RECORD_COLUMNS) -> dict[str, np.ndarray]:
        """Copy of the columns ``names`` (default: the record columns) of ``rows`` (a boolean mask
        or row indices)."""
        return {name: self[name][rows] for name in names}  # fancy indexing copies

    def drop(self, rows: np.ndarray) -> None:
        """Remove ``rows`` (a boolean mask, or sorted row indices); the order of the rest is kept.

        Compacts in place from both ends: rows before a split point move towards the end, rows
        after it towards the front, the split chosen so that the fewest rows move (closed cases
        cluster among the oldest and the newest rows, so the bulk of a backlog stays put).
        """
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows[: self.n])
        holes = np.asarray(rows, dtype=np.int64)
        n_holes = holes.size
        if n_holes == 0:
            return
        k = np.arange(n_holes + 1)
        # moving cost of putting holes[:j] on the left side: kept rows before holes[j-1], and
        # of holes[j:] on the right side: kept rows after holes[j]
        left = np.zeros(n_holes + 1, dtype=np.int64)
        left[1:] = holes - k[:-1]
        right = np.zeros(n_holes + 1, dtype=np.int64)
        right[:-1] = (self.n - 1 - holes) - (n_holes - 1 - k[:-1])
        j = int(np.argmin(left + right))
        lo, hi = self.base, self.base + self.n
        self.base += j
        self.n -= n_holes
        cols = [self.cols[name] for name in COLUMNS]
        # every column moved as raw words in one compiled call (case_kernels.py: a call per column
        # cost more than a day's moves), or a large table's in column groups, one per thread (split.py)
        if len(groups := column_parts(hi - lo, _ROW_BYTES.tolist())) == 1:
            compact_all(self._bytes(), _ROW_BYTES, lo, hi - lo, holes, j)
        else:
            (right, left), flats = kept_rows(hi - lo, holes, j), self._bytes()
            in_parts(lambda a, b: move_columns(flats, _ROW_BYTES, lo, holes, j, right, left, a, b), groups)
        for col in cols:
            if col.nbytes >= MAP_BYTES:  # smaller columns are never in a mapping of their own
                # the rows left at either end are dead: their pages go back to the system
                release_rows(col, lo, self.base, self.base, self.base + self.n)
                release_rows(col, self.base + self.n, hi, self.base, self.base + self.n)

    def bury(self, rows: np.ndarray) -> None:
        """Remove ``rows`` (sorted row indices of closed cases) from the open cases without moving
        any row: they are marked so that every reader of the table skips them as it skipped absent
        rows, and compacted away (:meth:`drop`, the same order-preserving move) once they exceed
        ``COMPACT_SHARE`` of the rows — one compaction every few days instead of one a day.

        The marks: stage ``BURIED`` (no stage test matches it), ``collective`` -1 (the tallies of
        collective action take rows with 0), no residents (-1), and NaN emergence, detection and
        severity-2 times (every time window and the warm-up test are false for NaN). Most
        compactions are partial (:meth:`_tidy`)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self._closed = None  # the rows change stage
        bury_rows(rows, BURIED, self["stage"], self["collective"], self["resident_a"], self["resident_b"], self["t_emerge"],
              self["t_detect"], self["t_severity2"])
        self.buried += rows.size
        if self.buried - self.old_buried > (COMPACT_SHARE if self.n >= SMALL_TABLE_ROWS else SMALL_COMPACT_SHARE) * self.n:
            self._tidy()

    def _tidy(self) -> None:
        """Drop the buried rows among the newest ``TAIL_SHARE`` of the rows (a partial compaction),
        or every buried row if those left would exceed ``OLD_SHARE`` of the rows. The rows left
        keep their order either way, buried ones included."""
        holes = stage_rows(self["stage"], (BURIED,))
        old = int(np.searchsorted(holes, int(self.n * (1.0 - TAIL_SHARE))))  # holes among the older rows
        if old > (OLD_SHARE if self.n >= SMALL_TABLE_ROWS else SMALL_OLD_SHARE) * self.n:
            old = 0
        self.drop(holes[old:])
        self.buried = self.old_buried = old

    def compact(self) -> None:
        """Drop the buried rows now (the table is then dense: ``len(tab)`` rows in every column)."""
        if self.buried:
            self.drop(stage_rows(self["stage"], (BURIED,)))
            self.buried = self.old_buried = 0

    def stage_counts(self) -> dict[str, int]:
        """Open cases per stage."""
        self.compact()
        counts = np.bincount(self["stage"], minlength=len(Stage))
        return {s.name.lower(): int(counts[s]) for s in Stage}


_ROW_BYTES = np.array([(int(np.prod(shape)) if shape else 1) * np.dtype(dt).itemsize
                       for dt, _fill, shape in COLUMNS.values()], dtype=np.int64)
"""Bytes per row of each column, in ``COLUMNS`` order."""
_FILL_BYTES = np.concatenate([np.full(shape or (1,), fill, dt).reshape(-1).view(np.uint8)
                              for dt, fill, shape in COLUMNS.values()])
"""One row of every column's fill value, as bytes, the columns one after another."""


def _moved_front(cols: dict[str, np.ndarray], name: str, base: int, n: int, need: int, cap: int) -> np.ndarray:
    """Column ``name``'s rows ``base:base+n`` moved to the front of a buffer of ``cap`` rows
    (:func:`_grown`). The pages of the rows from ``need`` on are given back (dead until appended to)."""
    col = cols[name]
    if base:
        col[:n] = col[base: base + n]  # numpy copies overlapping ranges safely
    release_rows(col, need, base + n, 0, n)
    del col  # the table's reference must be the last for the buffer to be resized in place
    return _grown(cols, name, 0, n, cap)


def _grown(cols: dict[str, np.ndarray], name: str, lo: int, hi: int, cap: int) -> np.ndarray:
    """Column ``name`` with a buffer of ``cap`` rows, its rows ``lo:hi`` (the live ones) in place:
    the column itself when it has that many, else resized in place when it can be (no copy, and the
    old and the new buffer are never both resident), else a copy."""
    dt, _fill, shape = COLUMNS[name]
    col = cols.pop(name)  # the table's reference: the mapping is resized only if it was the last
    if cap == col.shape[0]:
        return col
    buf, rows = mapping_of(col), col.shape[0]
    if buf is not None:
        del col
        grown = resized(buf, cap, dt, shape)
        if grown is not None:
            return grown
        col = np.frombuffer(buf, dtype=dt, count=len(buf) // np.dtype(dt).itemsize).reshape(rows, *shape)
    arr = new_column(cap, dt, shape)  # pages of the spare capacity are only touched when used
    arr[lo:hi] = col[lo:hi]
    return arr


def stage_rows(stage: np.ndarray, stages: tuple[int, ...]) -> np.ndarray:
    """Rows whose stage is one of ``stages``, ascending: ``np.flatnonzero(np.isin(stage, stages))``
    in one compiled pass (np.isin makes a pass and a temporary per stage code)."""
    want = np.zeros(256, dtype=np.bool_)
    want[np.asarray(stages, dtype=np.int64)] = True
    return _stage_rows(stage, want)


@njit(cache=True)
def _stage_rows(stage, want):  # pragma: no cover - compiled
    out = np.empty(stage.shape[0], np.int64)
    k = 0
    for i in range(stage.shape[0]):
        if want[stage[i] & 255]:
            out[k] = i
            k += 1
    return out[:k]
