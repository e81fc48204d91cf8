"""The case table: open cases as a struct of arrays, closed cases streamed out.

Only open cases live here. When a case closes, its record is handed to the KPI accumulator and,
if asked for, to a case sink (in memory or Parquet), then dropped — memory stays flat however
many cases a run produces.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np

from .params import N_LEVELS

INF = np.inf


class Stage(IntEnum):
    """Where a case is at the end of a tick. Every open case is in exactly one stage."""

    LATENT = 0  # emerged, not yet detected
    REPORTING = 1  # detected or escalated, in transit to its next queue (latency, bounces)
    QUEUED = 2  # waiting for a handler
    IN_SERVICE = 3  # being handled
    RESOLVED = 4  # closed: resolved (record leaves the table at the end of the tick)
    FADED = 5  # closed: faded away undetected
    FAILED = 6  # closed: failed at the last level


CLOSED_STAGES = (Stage.RESOLVED, Stage.FADED, Stage.FAILED)

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
    "esc_thresholds": (np.float32, 0.0, (3,)),  # cumulative unit-exponential thresholds
    "service_u": (np.float32, 1.0, (N_LEVELS,)),  # unit exponential work per level
    "outcome_u": (np.float32, 0.0, (N_LEVELS,)),  # uniform deciding success per level
    "route_u": (np.float32, 0.0, (N_LEVELS,)),  # uniform deciding misrouting/court per level
}

RECORD_COLUMNS = ("case_id", "category", "grid", "n_involved", "severity0", "severity", "stage",
                  "entry_level", "level", "channel", "visits", "bounces", "t_emerge", "t_detect",
                  "t_close", "t_severity2", "first_wait", "wait_total", "esc_before_service")
"""Columns of a closed-case record (what sinks receive)."""


class CaseTable:
    """Growable struct-of-arrays of open cases."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {
            name: np.full((capacity, *shape), fill, dtype=dt) for name, (dt, fill, shape) in COLUMNS.items()
        }
        self.next_id = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]

    def __len__(self) -> int:
        return self.n

    def append(self, count: int) -> slice:
        """Reserve ``count`` new rows (filled with defaults, ids assigned); return their slice."""
        need = self.n + count
        cap = self.cols["case_id"].shape[0]
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, (dt, fill, shape) in COLUMNS.items():
                arr = np.full((new_cap, *shape), fill, dtype=dt)
                arr[: self.n] = self.cols[name][: self.n]
                self.cols[name] = arr
        sl = slice(self.n, need)
        for name, (_dt, fill, _shape) in COLUMNS.items():
            self.cols[name][sl] = fill
        self.cols["case_id"][sl] = np.arange(self.next_id, self.next_id + count)
        self.next_id += count
        self.n = need
        return sl

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Copy of the record columns of the rows in ``mask``."""
        return {name: self[name][mask].copy() for name in RECORD_COLUMNS}

    def drop(self, mask: np.ndarray) -> None:
        """Remove the rows in ``mask`` (order of the rest is kept)."""
        keep = ~mask
        m = int(keep.sum())
        if m == self.n:
            return
        for name in COLUMNS:
            col = self.cols[name]
            col[:m] = col[: self.n][keep]
        self.n = m

    def stage_counts(self) -> dict[str, int]:
        """Open cases per stage."""
        counts = np.bincount(self["stage"], minlength=len(Stage))
        return {s.name.lower(): int(counts[s]) for s in Stage}


class MemorySink:
    """Keeps closed-case records in memory (small runs, tests, validation)."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, np.ndarray]] = []

    def write(self, records: dict[str, np.ndarray]) -> None:
        """Store one chunk of records."""
        if len(records["case_id"]):
            self.chunks.append(records)

    def close(self) -> None:
        """Nothing to flush."""

    def table(self) -> dict[str, np.ndarray]:
        """All records, concatenated, sorted by case id."""
        if not self.chunks:
            return {name: np.array([], dtype=COLUMNS[name][0]) for name in RECORD_COLUMNS}
        out = {k: np.concatenate([c[k] for c in self.chunks]) for k in RECORD_COLUMNS}
        order = np.argsort(out["case_id"], kind="stable")
        return {k: v[order] for k, v in out.items()}


class ParquetSink:
    """Streams closed-case records to one Parquet file in row groups (memory stays flat)."""

    def __init__(self, path: str, rows_per_group: int = 200_000) -> None:
        import pyarrow as pa  # noqa: F401 - fail early if missing
        import pyarrow.parquet as pq

        self.path = path
        self.rows_per_group = rows_per_group
        self.buffer: list[dict[str, np.ndarray]] = []
        self.buffered = 0
        self.writer: pq.ParquetWriter | None = None

    def write(self, records: dict[str, np.ndarray]) -> None:
        """Buffer records; write a row group when enough are buffered."""
        n = len(records["case_id"])
        if n:
            self.buffer.append(records)
            self.buffered += n
        if self.buffered >= self.rows_per_group:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.buffer:
            return
        cols = {k: np.concatenate([c[k] for c in self.buffer]) for k in RECORD_COLUMNS}
        table = pa.table(cols)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)
        self.buffer, self.buffered = [], 0

    def close(self) -> None:
        """Write what is buffered and close the file (an empty run writes an empty file)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._flush()
        if self.writer is None:
            empty = {k: np.array([], dtype=COLUMNS[k][0]) for k in RECORD_COLUMNS}
            pq.write_table(pa.table(empty), self.path)
        else:
            self.writer.close()
            self.writer = None
