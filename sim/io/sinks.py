"""Case sinks: where closed-case records go when they leave the case table.

The engine hands each day's closed cases to a sink (anything with ``write(records)`` and
``close()``, :class:`CaseSink`): in memory for small runs and tests, or streamed to Parquet in row
groups so memory stays flat however many cases a run produces.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..engine.cases import COLUMNS, RECORD_COLUMNS


class CaseSink(Protocol):
    """Receives closed-case records (column name -> array, :data:`RECORD_COLUMNS`)."""

    def write(self, records: dict[str, np.ndarray]) -> None:
        """Take one chunk of records."""

    def close(self) -> None:
        """Flush and release."""


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
