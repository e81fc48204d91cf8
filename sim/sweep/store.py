"""The result store: a directory holding a Parquet dataset of runs plus a manifest.

Layout of ``DIR``::

    manifest.json        spec (text and parsed), spec hash, version, git commit, totals
    points.parquet       the design: point_id + one column per varied parameter
    runs/part-*.parquet  chunks of rows, one row per finished run

Every Parquet file carries ``cityrisk.provenance`` (version, commit, library versions) in its
metadata (:func:`sim.io.provenance.parquet_metadata`).

Every file is written to a hidden temporary name in the same folder, flushed, fsync'ed and moved
into place with :func:`os.replace`, so a crash leaves either the whole chunk or nothing (a stale
``.*.tmp`` at worst, which readers ignore). A run is "done" once its row is in a chunk; resuming
skips those run ids. Concurrent shards write disjoint runs to the same store.

Every row and every chunk (Parquet metadata ``cityrisk.spec_hash``) carries the spec hash, so a
store that lost its manifest cannot take rows of another spec for its own. A writer holds
``.lock`` (``flock``): exclusive for a whole-sweep run or resume, shared for shards (which write
disjoint runs), so two resumes of one store cannot run the same runs twice. A chunk that cannot
be read (truncated by a full disk, say) is moved to ``quarantine/`` with a warning and its runs
count as not done, so ``--resume`` redoes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["Store", "StoreError"]

MANIFEST = "manifest.json"
POINTS = "points.parquet"
RUNS = "runs"
QUARANTINE = "quarantine"
LOCK = ".lock"
HASH_KEY = b"cityrisk.spec_hash"
FORMAT_VERSION = 1


class StoreError(RuntimeError):
    """A store that cannot be used as asked (exists already, different spec, ...)."""


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, write: Any, *, exclusive: bool = False) -> bool:
    """Write via ``write(fileobj)`` to a hidden temp file, fsync, then move to ``path``.

    With ``exclusive`` the move fails (returns False) if ``path`` exists already.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def _provenance() -> dict[bytes, bytes]:
    """Parquet metadata ``cityrisk.provenance``: version, commit, library versions."""
    from sim.io.provenance import parquet_metadata

    return parquet_metadata()


class Store:
    """A sweep's result directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / RUNS
        self.manifest_path = self.root / MANIFEST
        self.points_path = self.root / POINTS
        self.spec_hash: str | None = None  # set by open(); stamped on every row and chunk
        self._lock: Any = None  # the open .lock file while this process writes

    def lock(self, shared: bool = False) -> None:
        """Take the writer lock (kept until :meth:`close` or the end of the process).

        StoreError at once if another process holds it in a conflicting mode.
        """
        import fcntl

        if self._lock is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / LOCK, "a+")  # noqa: SIM115 - held open on purpose
        try:
            fcntl.flock(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise StoreError(f"{self.root}: another cityrisk sweep is writing to this store; "
                             "wait for it to finish (shards may share a store, whole-sweep runs "
                             "may not)") from None
        self._lock = fh

    def close(self) -> None:
        """Release the writer lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- manifest ---------------------------------------------------------------------------
    def exists(self) -> bool:
        """True if the directory already holds a sweep manifest."""
        return self.manifest_path.exists()

    def read_manifest(self) -> dict[str, Any]:
        """The manifest as a dict (StoreError if missing or unreadable)."""
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"{self.root}: no sweep here ({MANIFEST} missing)") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.manifest_path}: unreadable ({exc})") from None

    def open(self, manifest: Mapping[str, Any], points: pd.DataFrame, *,
             resume: bool = False, join: bool = False) -> dict[str, Any]:
        """Create the store, or check an existing one against ``manifest``.

        An existing store is accepted only with ``resume`` (or ``join``, used by shards that
        share a store) and only if its spec hash (and scenario hash, when both are known) match.
        Returns the manifest in effect.
        """
        self.lock(shared=join)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.spec_hash = str(manifest.get("spec_hash") or "") or None
        if not self.exists():
            self._check_orphans()
            pts = pa.Table.from_pandas(points, preserve_index=False)
            pts = pts.replace_schema_metadata({**(pts.schema.metadata or {}), **_provenance()})
            _write_atomic(self.points_path, lambda fh: pq.write_table(pts, fh))
            blob = json.dumps(dict(manifest), indent=2, sort_keys=True, default=str).encode()
            if _write_atomic(self.manifest_path, lambda fh: fh.write(blob), exclusive=True):
                return dict(manifest)
            join = True  # another shard created it first: check it like an existing store
        old = self.read_manifest()
        if not (resume or join):
            raise StoreError(f"{self.root} already holds a sweep ({old.get('name')!r}, "
                             f"{self.count_done()} runs done); pass --resume to continue it or "
                             "choose another --out")
        if old.get("spec_hash") != manifest.get("spec_hash"):
            raise StoreError(
                f"{self.root}: the spec changed since this store began (spec hash "
                f"{str(old.get('spec_hash'))[:12]} in the store, {str(manifest.get('spec_hash'))[:12]}"
                " now); results would mix two sweeps. Restore the original spec or use a new --out")
        a, b = old.get("scenario_hash"), manifest.get("scenario_hash")
        if a and b and a != b:
            raise StoreError(f"{self.root}: the scenario file changed since this store began "
                             f"(scenario hash {a[:12]} then, {b[:12]} now); use a new --out")
        return old

    def _check_orphans(self) -> None:
        """Refuse chunks left without a manifest unless they carry this spec's hash."""
        for p in self.part_files():
            table_hash = self._chunk_hash(p)
            if table_hash != self.spec_hash:
                found = table_hash[:12] if table_hash else "none"
                raise StoreError(f"{self.root}: {MANIFEST} is missing but {RUNS}/ holds runs of "
                                 f"another or an unknown spec ({p.name}: spec hash {found}); "
                                 "use a new --out")

    def _chunk_hash(self, path: Path) -> str | None:
        try:
            meta = pq.read_schema(path).metadata or {}
        except (OSError, pa.ArrowException):
            return None
        value = meta.get(HASH_KEY)
        return value.decode() if value else None

    def _read_part(self, path: Path, columns: list[str] | None = None) -> pa.Table | None:
        """A chunk's table, or None after moving an unreadable chunk to quarantine/."""
        try:
            return pq.read_table(path, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            qdir = self.root / QUARANTINE
            with contextlib.suppress(OSError):
                qdir.mkdir(exist_ok=True)
                os.replace(path, qdir / path.name)
            reason = " ".join(str(exc).split())[:160]
            print(f"warning: {RUNS}/{path.name} is unreadable ({reason}); moved to "
                  f"{QUARANTINE}/, its runs count as not done (--resume redoes them)",
                  file=sys.stderr)
            return None

    # -- runs -------------------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        """Committed chunk files (hidden temp files excluded), sorted by name."""
        if not self.runs_dir.exists():
            return []
        return sorted(p for p in self.runs_dir.glob("part-*.parquet"))

    def done_run_ids(self) -> set[int]:
        """Run ids with a committed row."""
        done: set[int] = set()
        for p in self.part_files():
            table = self._read_part(p, ["run_id"])
            if table is not None:
                done.update(table.column("run_id").to_pylist())
        return done

    def count_done(self) -> int:
        """Number of distinct finished runs."""
        return len(self.done_run_ids())

    def write_chunk(self, rows: Iterable[Mapping[str, Any]], tag: str = "0") -> Path | None:
        """Write rows as one atomic Parquet chunk; returns its path (None if no rows)."""
        rows = list(rows)
        if not rows:
            return None
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows)
        meta = {**(table.schema.metadata or {}), **_provenance()}
        if self.spec_hash:
            table = table.append_column("spec_hash", pa.array([self.spec_hash] * len(rows)))
            meta[HASH_KEY] = self.spec_hash.encode()
        table = table.replace_schema_metadata(meta)
        name = f"part-{tag}-{time.time_ns():x}-{uuid.uuid4().hex[:6]}.parquet"
        path = self.runs_dir / name
        _write_atomic(path, lambda fh: pq.write_table(table, fh))
        return path

    def clean_temp(self, older_than_s: float = 0.0) -> int:
        """Remove stale hidden temp files (left by a killed writer); returns how many."""
        n = 0
        now = time.time()
        for d in (self.root, self.runs_dir):
            if not d.exists():
                continue
            for p in d.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if now - p.stat().st_mtime >= older_than_s:
                        p.unlink()
                        n += 1
        return n

    def read_runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """All finished runs as one DataFrame sorted by run_id (duplicates dropped)."""
        if columns is not None and "run_id" not in columns:
            columns = ["run_id", *columns]
        tables = [self._read_part(p, columns) for p in self.part_files()]
        frames = [t.to_pandas() for t in tables if t is not None and t.num_rows]
        if not frames:
            return pd.DataFrame(columns=columns or ["run_id", "point_id", "replication", "seed"])
        df = pd.concat(frames, ignore_index=True)
        df = df.drop_duplicates("run_id", keep="first").sort_values("run_id")
        return df.reset_index(drop=True)

    def read_points(self) -> pd.DataFrame:
        """The design points table."""
        return pq.read_table(self.points_path).to_pandas()
