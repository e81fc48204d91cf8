"""Runs on Dask: a LocalCluster, a running scheduler, or a dask-jobqueue SLURM/PBS cluster.

One task per run with an explicit key and ``pure=False`` (a rerun is a new run, never a cached
result), a bounded number in flight, results handed back as they finish. A worker that dies is
restarted by its nanny and its tasks rescheduled by the scheduler (capped by
``distributed.scheduler.allowed-failures``), so no run is lost. Dask's default
``MALLOC_TRIM_THRESHOLD_`` for workers slowed numpy-heavy runs about 3x here; it is unset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.sweep.spec import ClusterSpec

_MALLOC_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _dask_config(allowed_failures: int) -> dict[str, Any]:
    return {
        _MALLOC_KEY: None,
        "distributed.scheduler.allowed-failures": allowed_failures,
    }


class DaskExecutor:
    """Run tasks on a Dask cluster through a ``distributed.Client``."""

    def __init__(self, client: Any, cluster: Any = None, max_in_flight: int = 0,
                 workers: int = 0) -> None:
        self.client = client
        self.cluster = cluster
        self.max_in_flight = max_in_flight
        self.workers = workers or self.n_workers()

    @classmethod
    def local(cls, workers: int | None = None, allowed_failures: int = 5,
              max_in_flight: int = 0) -> DaskExecutor:
        """A LocalCluster on 127.0.0.1: one single-threaded worker process per core."""
        import dask
        from dask.distributed import Client, LocalCluster

        n = workers or os.cpu_count() or 1
        dask.config.set(_dask_config(allowed_failures))
        cluster = LocalCluster(host="127.0.0.1", n_workers=n, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return cls(Client(cluster), cluster, max_in_flight, n)

    @classmethod
    def remote(cls, address: str, allowed_failures: int = 5, max_in_flight: int = 0
               ) -> DaskExecutor:
        """Connect to a running scheduler (``tcp://host:8786``), giving up after Dask's
        ``distributed.comm.timeouts.connect`` (30 s unless configured; tests shorten it)."""
        import dask
        from dask.distributed import Client

        dask.config.set(_dask_config(allowed_failures))
        timeout = dask.config.get("distributed.comm.timeouts.connect", "30s")
        return cls(Client(address, timeout=timeout), None, max_in_flight)

    @classmethod
    def jobqueue(cls, spec: ClusterSpec, store_dir: Path, allowed_failures: int = 5,
                 max_in_flight: int = 0) -> DaskExecutor:
        """Start a dask-jobqueue SLURM/PBS cluster from a spec's ``[cluster]`` section."""
        import dask
        from dask.distributed import Client

        from .jobqueue import jobqueue_class, jobqueue_options

        dask.config.set(_dask_config(allowed_failures))
        cluster = jobqueue_class(spec.kind)(**jobqueue_options(spec, store_dir))
        cluster.scale(jobs=spec.jobs)
        return cls(Client(cluster), cluster, max_in_flight)

    def warm(self, run_function: str) -> None:
        """Import ``run_function`` on every connected worker and load the model's compiled
        kernels there (:func:`sim.sweep.task.warm_worker`), before the first run is timed."""
        from sim.sweep.task import warm_worker

        self.client.run(warm_worker, run_function)

    def n_workers(self) -> int:
        """Workers currently connected (at least 1)."""
        try:
            return max(1, len(self.client.scheduler_info()["workers"]))
        except Exception:
            return 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        """Submit a bounded window of tasks (key ``key(task)``), refilled as they finish;
        a failure (run error, or KilledWorker after the allowed failures) is yielded."""
        from dask.distributed import as_completed

        window = self.max_in_flight or max(64, 8 * self.n_workers())
        it = iter(tasks)
        by_key: dict[str, Any] = {}

        def submit() -> Any | None:
            t = next(it, None)
            if t is None:
                return None
            k = key(t)
            by_key[k] = t
            return self.client.submit(fn, t, key=k, pure=False, retries=0)

        live: dict[str, Any] = {}
        for f in (submit() for _ in range(window)):
            if f is not None:
                live[f.key] = f
        ac = as_completed(list(live.values()), with_results=False)
        try:
            for fut in ac:
                task = by_key.pop(fut.key)
                live.pop(fut.key, None)
                try:
                    out: Any = fut.result()
                except Exception as exc:  # run error or KilledWorker after allowed failures
                    out = exc
                fut.release()
                nxt = submit()
                if nxt is not None:
                    live[nxt.key] = nxt
                    ac.add(nxt)
                yield task, out
        finally:  # the caller stopped early (abort, Ctrl-C): drop what is still queued
            if live:
                self.client.cancel(list(live.values()))

    def close(self) -> None:
        """Close the client, and the cluster if it was started here."""
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
