"""Case sinks: where closed-case records go when they leave the case table.

The engine hands each day's closed cases to a sink (anything with ``write(records)`` and
``close()``, :class:`CaseSink`): in memory for small runs and tests, or streamed to Parquet in row
groups so memory stays flat however many cases a run produces.

The Parquet file describes itself (docs/codebook.md): each coded column (``category``, ``stage``,
``level``, ``entry_level``, ``channel`` — whichever the records hold) keeps its integer code and
gains a ``<column>_label`` dictionary column whose dictionary is the full label list in code
order (pandas reads it as a ``Categorical``; a code of -1 has a null label). The schema metadata
holds ``cityrisk.codebook`` (column -> labels, JSON) and ``cityrisk.provenance``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ..engine.cases import CHANNELS, COLUMNS, OPTIONS, RECORD_COLUMNS, Stage
from ..engine.levels import LEVELS

#: Parquet schema metadata key of the codebook (column -> labels in code order).
CODEBOOK_KEY = b"cityrisk.codebook"
#: Suffix of a label column (``category`` -> ``category_label``).
LABEL_SUFFIX = "_label"


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


def codebook(categories: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Labels of every coded record column, in code order (``category`` only if names given)."""
    book: dict[str, list[str]] = {
        "stage": [s.name.lower() for s in Stage],
        "level": list(LEVELS),
        "entry_level": list(LEVELS),
        "channel": list(CHANNELS),
        "entry_channel": list(OPTIONS),
    }
    if categories is not None:
        book["category"] = [str(c) for c in categories]
    return {k: book[k] for k in RECORD_COLUMNS if k in book}


def labelled_table(cols: Mapping[str, np.ndarray], book: Mapping[str, Sequence[str]],
                   metadata: Mapping[bytes, bytes] | None = None) -> Any:
    """A pyarrow table of ``cols`` (codes unchanged) plus a ``<col>_label`` dictionary column
    for each column in ``book``; the codebook and ``metadata`` go in the schema metadata."""
    import pyarrow as pa

    arrays: dict[str, Any] = {k: pa.array(v) for k, v in cols.items()}
    for name, labels in book.items():
        if name not in cols:
            continue
        codes = np.asarray(cols[name]).astype(np.int32)
        bad = (codes < 0) | (codes >= len(labels))
        indices = pa.array(np.where(bad, 0, codes), mask=bad, type=pa.int32())
        arrays[name + LABEL_SUFFIX] = pa.DictionaryArray.from_arrays(
            indices, pa.array(list(labels), type=pa.string()))
    table = pa.table(arrays)
    meta = {**(metadata or {}), CODEBOOK_KEY: json.dumps(dict(book), ensure_ascii=False).encode()}
    return table.replace_schema_metadata(meta)


#: Calendar columns derived from model hours when the scenario has ``run.start_date``.
CALENDAR_COLUMNS = {"t_emerge": "emerged_at", "t_detect": "opened_at", "t_close": "closed_at"}


def derived_columns(cols: Mapping[str, np.ndarray], departments: Sequence[str] | None,
                    start_date: str) -> dict[str, Any]:
    """Extra case-table columns (pyarrow arrays): ``department`` (the responsible department
    or agency of the case's category, dictionary-encoded) when ``departments`` (one per
    category code) is given; ``emerged_at``, ``opened_at`` (detection = when the request was
    logged), ``closed_at`` (null while open) as timestamps when ``start_date`` is set."""
    import pyarrow as pa

    out: dict[str, Any] = {}
    if departments is not None:
        names = sorted(set(departments))
        code = np.array([names.index(d) for d in departments], dtype=np.int32)
        cat = np.asarray(cols["category"]).astype(np.int64)
        out["department"] = pa.DictionaryArray.from_arrays(
            pa.array(code[cat] if cat.size else np.zeros(0, np.int32), type=pa.int32()),
            pa.array(names, type=pa.string()))
    if start_date:
        import datetime as dt

        from ..engine.calendar import Calendar

        cal = Calendar(dt.date.fromisoformat(start_date))
        for src, name in CALENDAR_COLUMNS.items():
            out[name] = pa.array(cal.hours_to_timestamps(cols[src]), type=pa.timestamp("s"))
    return out


class ParquetSink:
    """Streams closed-case records to one Parquet file in row groups (memory stays flat).

    ``categories`` (category names in code order) labels the ``category`` column; ``metadata``
    (default :func:`sim.io.provenance.parquet_metadata`: version, commit, library versions) is
    stored in the file's schema metadata.
    Both may be set as attributes until the first row group is written.
    """

    def __init__(self, path: str, rows_per_group: int = 200_000, *,
                 categories: Sequence[str] | None = None,
                 metadata: Mapping[bytes, bytes] | None = None,
                 departments: Sequence[str] | None = None, start_date: str = "") -> None:
        import pyarrow as pa  # noqa: F401 - fail early if missing
        import pyarrow.parquet as pq

        self.path = path
        self.rows_per_group = rows_per_group
        self.categories = list(categories) if categories is not None else None
        # derived columns (calendar timestamps, each case's department): see derived_columns
        self.departments = list(departments) if departments is not None else None
        self.start_date = start_date
        if metadata is None:  # every file says what wrote it, even without a scenario
            from .provenance import parquet_metadata

            metadata = parquet_metadata()
        self.metadata = dict(metadata)
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

    def _table(self, cols: Mapping[str, np.ndarray]) -> Any:
        table = labelled_table(cols, codebook(self.categories), self.metadata)
        for name, arr in derived_columns(cols, self.departments, self.start_date).items():
            table = table.append_column(name, arr)
        return table

    def _flush(self) -> None:
        import pyarrow.parquet as pq

        if not self.buffer:
            return
        cols = {k: np.concatenate([c[k] for c in self.buffer]) for k in RECORD_COLUMNS}
        table = self._table(cols)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)
        self.buffer, self.buffered = [], 0

    def close(self) -> None:
        """Write what is buffered and close the file (an empty run writes an empty file)."""
        import pyarrow.parquet as pq

        self._flush()
        if self.writer is None:
            empty = {k: np.array([], dtype=COLUMNS[k][0]) for k in RECORD_COLUMNS}
            pq.write_table(self._table(empty), self.path)
        else:
            self.writer.close()
            self.writer = None


def read_codebook(path: str) -> dict[str, list[str]]:
    """The codebook stored in a cases.parquet file ({} for files without one)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(CODEBOOK_KEY)
    return json.loads(raw) if raw else {}
