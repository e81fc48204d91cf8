"""Residents' stories: a bounded log of recent closed grievances, read per resident or per grid.

A city of millions cannot keep a history per resident. The stage ``stories`` copies a few columns
of each case closed today (after trust feedback, so the parties' trust *after* the outcome is in
it) into a ring buffer of the last :data:`CAPACITY` closures — memory fixed whatever the city's
size. :meth:`StoryLog.of_resident` joins it with the resident's open cases: their grievances,
the channels they tried, the outcomes and their trust after each one. Older closures fall out of
the ring; a full history is in the case sink (``cases.parquet``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .cases import OPTIONS, Stage
from .levels import LEVELS
from .state import CityState

_TRIED_ORDER = (1, 0, *range(2, len(OPTIONS)))  # negotiation, when tried, always came first
CAPACITY = 20_000
"""Closures kept (about 1.6 MB)."""

_FIELDS = {"case_id": np.int64, "grid": np.int32, "category": np.int16, "resident_a": np.int64,
           "resident_b": np.int64, "entry_channel": np.int8, "channels_tried": np.uint8,
           "stage": np.int8, "level": np.int8, "recurrence": np.int8, "t_emerge": np.float64,
           "t_close": np.float64, "trust_a": np.float32, "trust_b": np.float32}


@dataclass(frozen=True)
class StoryEntry:
    """One grievance of a resident: what it was, where they took it, how it ended."""

    case_id: int
    category: str
    day_emerged: int
    day_closed: int | None  # None while open
    channels_tried: tuple[str, ...]  # options tried, in OPTIONS order (negotiation first)
    choice: str | None  # where they finally took it (None: the city found it before they acted)
    outcome: str  # the stage name: resolved, lapsed, petitioned ... or an open stage
    level: str | None  # level where it was last handled or queued
    trust_after: float | None  # the resident's trust after the outcome (None while open)
    recurrence: int  # 0 = a new grievance; k = its k-th return


class StoryLog:
    """Ring buffer of the last :data:`CAPACITY` closed cases (stage ``stories``)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.cols = {k: np.zeros(capacity, dt) for k, dt in _FIELDS.items()}
        self.size = 0
        self.head = 0  # next slot to write

    def __call__(self, s: CityState) -> None:
        """Stage ``stories``: log today's closed cases with their parties' trust after the outcome."""
        tab = s.cases
        # the day's closed rows (every stage from RESOLVED on), listed once for the stages at the end of the day
        rows = tab.closed_rows(s.clock.t1)[-self.capacity:]
        n = rows.size
        if n == 0:
            return
        # the ring's slots for today's rows: one or two runs (where the ring wraps), written as
        # slices; the table's columns are taken straight into them (the same dtypes)
        h = self.head
        first = min(n, self.capacity - h)
        runs = [(slice(h, h + first), rows[:first])]
        if n > first:
            runs.append((slice(0, n - first), rows[first:]))
        for k in _FIELDS:
            if k not in ("trust_a", "trust_b"):
                for dst, src in runs:
                    np.take(tab[k], src, out=self.cols[k][dst], mode="clip")  # rows are in range
        c = self.cols
        for dst, _src in runs:
            a, b, g = c["resident_a"][dst], c["resident_b"][dst], c["grid"][dst]
            c["trust_a"][dst] = s.residents.trust_of(a, g)
            c["trust_b"][dst] = np.where(b >= 0, s.residents.trust_of(np.maximum(b, 0), g), np.nan)
        self.head = int((self.head + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def _recent(self) -> np.ndarray:
        """Slots holding records, oldest first."""
        if self.size < self.capacity:
            return np.arange(self.size)
        return (self.head + np.arange(self.capacity)) % self.capacity

    def of_resident(self, s: CityState, index: int) -> tuple[StoryEntry, ...]:
        """The resident's logged closed grievances and open cases, oldest first."""
        slots = self._recent()
        c = self.cols
        mine = slots[(c["resident_a"][slots] == index) | (c["resident_b"][slots] == index)]
        names = s.categories.names
        out = [_entry(names, {k: c[k][j] for k in _FIELDS}, index, closed=True) for j in mine]
        tab = s.cases
        for r in np.flatnonzero((tab["resident_a"] == index) | (tab["resident_b"] == index)):
            out.append(_entry(names, {k: tab[k][r] for k in _FIELDS if k in tab.cols}, index, closed=False))
        return tuple(out)

    def of_grid(self, s: CityState, grid: int, limit: int = 5) -> list[tuple[int, StoryEntry]]:
        """The ``limit`` most recent closures in ``grid``, newest first, as (resident, entry)."""
        slots = self._recent()[::-1]
        c = self.cols
        mine = slots[c["grid"][slots] == grid][:limit]
        names = s.categories.names
        return [(int(c["resident_a"][j]), _entry(names, {k: c[k][j] for k in _FIELDS}, int(c["resident_a"][j]),
                                                 closed=True)) for j in mine]


def _entry(names: list[str], r: dict, index: int, closed: bool) -> StoryEntry:
    tried = int(r["channels_tried"])
    level = int(r["level"])
    trust = None
    if closed:
        trust = float(r["trust_a"] if int(r["resident_a"]) == index else r["trust_b"])
    return StoryEntry(
        case_id=int(r["case_id"]), category=str(names[int(r["category"])]),
        day_emerged=int(r["t_emerge"] // 24), day_closed=int(r["t_close"] // 24) if closed else None,
        channels_tried=tuple(OPTIONS[i] for i in _TRIED_ORDER if tried >> i & 1),
        choice=OPTIONS[int(r["entry_channel"])] if int(r["entry_channel"]) >= 0 else None,
        outcome=Stage(int(r["stage"])).name.lower(), level=LEVELS[level] if level >= 0 else None,
        trust_after=trust, recurrence=int(r["recurrence"]))



@njit(cache=True)
def _closed_rows(stage, first_closed):  # pragma: no cover - compiled
    # np.flatnonzero(stage >= first_closed): the stage's list before CaseTable.closed_rows (the
    # numpy reference of tests/test_kernels_round6_back.py reads it)
    n = 0
    for i in range(stage.size):
        if stage[i] >= first_closed:
            n += 1
    rows = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(stage.size):
        if stage[i] >= first_closed:
            rows[j] = i
            j += 1
    return rows
