"""The executor contract, the in-process and process-pool executors, and the one factory.

Kept light (standard library only): Dask workers import :func:`resolve` from here.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sim.sweep.spec import ClusterSpec

#: Executor kinds, in the order the CLIs list them.
KINDS = ("serial", "processes", "local", "dask")

#: A calibration task: ``fn(*args)``.
Task = tuple[Callable[..., Any], tuple[Any, ...]]


class ExecutorError(ValueError):
    """Executor arguments that cannot work (named kind, missing scheduler, ...)."""


class Executor(Protocol):
    """Runs ``fn(task)`` for each task; yields ``(task, result_or_exception)`` as they finish."""

    #: Workers available when the executor was made (calibration sizes its batches by it).
    workers: int

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


@lru_cache(maxsize=16)
def resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """The callable named ``"module:function"`` or ``"package.module.function"`` (a callable is
    returned as it is). ImportError (naming ``ref``) if it cannot be imported or called."""
    if callable(ref):
        return ref
    mod, sep, attr = ref.partition(":")
    if not sep:
        mod, _, attr = ref.rpartition(".")
    try:
        obj: Any = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImportError(f"{ref!r}: cannot import ({exc})") from None
    if not callable(obj):
        raise ImportError(f"{ref!r}: not callable")
    return obj


class SerialExecutor:
    """Runs tasks one after another in this process."""

    workers = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        """Run each task as it is asked for; a failure is yielded, not raised."""
        for t in tasks:
            try:
                yield t, fn(t)
            except Exception as exc:  # a failed run is reported, the caller decides
                yield t, exc

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """A local process pool (``concurrent.futures``), kept open until :meth:`close`."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # spawn: safe in a multi-threaded parent (fork is not), the default from Python 3.14 on
        self._pool = ProcessPoolExecutor(max_workers=workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        """Submit a bounded window of tasks, refilled as they finish (a sweep may hold
        millions); a failure is yielded, not raised."""
        it = iter(tasks)
        live: dict[Future[Any], Any] = {}

        def fill() -> None:
            while len(live) < 4 * self.workers:
                t = next(it, None)
                if t is None:
                    return
                live[self._pool.submit(fn, t)] = t

        fill()
        try:
            while live:
                done, _ = wait(live, return_when=FIRST_COMPLETED)
                for fut in done:
                    t = live.pop(fut)
                    exc = fut.exception()
                    yield t, (exc if exc is not None else fut.result())
                fill()
        finally:  # the caller stopped early: drop what is still queued
            for fut in live:
                fut.cancel()

    def close(self) -> None:
        """Shut the pool down, cancelling what has not started."""
        self._pool.shutdown(cancel_futures=True)


def _apply(item: tuple[int, Task]) -> Any:
    """``(i, (fn, args)) -> fn(*args)``: top level, so it pickles."""
    fn, args = item[1]
    return fn(*args)


def run_ordered(ex: Executor, tasks: Sequence[Task], tag: str,
                on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """Run ``fn(*args)`` for every task; results in task order; the first failure is raised.

    ``tag`` makes the Dask keys (``<tag>-<i>``) unique across batches; ``on_done(i, result)``
    is called as each task finishes (progress bars).
    """
    out: list[Any] = [None] * len(tasks)
    for (i, _), res in ex.map_unordered(_apply, list(enumerate(tasks)),
                                        key=lambda item: f"{tag}-{item[0]}"):
        if isinstance(res, BaseException):
            raise res
        out[i] = res
        if on_done:
            on_done(i, res)
    return out


def check_executor(kind: str, address: str | None = None,
                   cluster: ClusterSpec | None = None) -> None:
    """Reject executor arguments that cannot work (ExecutorError), before anything starts."""
    if kind not in KINDS:
        raise ExecutorError(f"--executor {kind!r}: must be one of {', '.join(KINDS)}")
    if kind == "dask" and not address and cluster is None:
        raise ExecutorError("--executor dask needs --scheduler ADDRESS or a [cluster] section "
                            "(kind = \"slurm\" | \"pbs\") in the spec")


def make_executor(kind: str, workers: int | None = None, address: str | None = None, *,
                  cluster: ClusterSpec | None = None, store_dir: Path | None = None,
                  allowed_failures: int = 5, max_in_flight: int = 0) -> Executor:
    """Build the executor ``kind`` (see the package docstring).

    ``workers`` None or <= 0 means all cores. ``processes`` with one worker runs in this
    process (a pool of one only adds pickling). ``dask`` uses the scheduler at ``address``, else
    a dask-jobqueue ``cluster`` whose worker config is written under ``store_dir``.
    ``allowed_failures`` caps how often a task may lose its worker; ``max_in_flight`` bounds
    the tasks submitted at once (0: ``max(64, 8 x workers)``).
    """
    check_executor(kind, address, cluster)
    n = workers if workers and workers > 0 else (os.cpu_count() or 1)
    if kind == "serial" or (kind == "processes" and n == 1):
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(n)
    from .dask_cluster import DaskExecutor

    if kind == "local":
        return DaskExecutor.local(n, allowed_failures, max_in_flight)
    if address:
        return DaskExecutor.remote(address, allowed_failures, max_in_flight)
    assert cluster is not None  # check_executor
    return DaskExecutor.jobqueue(cluster, Path(store_dir or "."), allowed_failures, max_in_flight)
