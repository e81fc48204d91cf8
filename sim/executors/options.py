"""The executor options shared by ``cityrisk sweep``, ``cityrisk calibrate`` and the experiments.

``add_executor_options(parser)`` adds ``--executor``, ``--workers`` and ``--scheduler`` (alias
``--dask-address``); :func:`executor_options` reads them back, checked. The executor itself is
built by :func:`sim.executors.make_executor` from these three values.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from .base import KINDS, ExecutorError


@dataclass(frozen=True)
class ExecutorOptions:
    """``--executor`` (None: the spec's choice), ``--workers`` (None: all cores or the spec's)
    and ``--scheduler`` (None: none given)."""

    kind: str | None
    workers: int | None
    address: str | None


def add_executor_options(parser: argparse.ArgumentParser, default: str | None = "local",
                         default_help: str = "") -> None:
    """Add ``--executor``, ``--workers`` and ``--scheduler`` to ``parser``.

    ``default`` is the executor when none is given (None: leave it to the spec; say which in
    ``default_help``).
    """
    shown = default_help or f"default {default}"
    parser.add_argument(
        "--executor", choices=KINDS, default=default,
        help=f"serial: in this process; processes: a local process pool; local: a Dask "
             f"LocalCluster on 127.0.0.1; dask: --scheduler ADDRESS or the spec's [cluster] "
             f"(SLURM/PBS) ({shown})")
    parser.add_argument("--workers", type=int, default=None,
                        help="local workers (default: all cores, or the spec's)")
    parser.add_argument("--scheduler", "--dask-address", dest="scheduler", default=None,
                        metavar="ADDRESS", help="address of a running Dask scheduler "
                                                "(tcp://host:8786)")


def executor_options(args: argparse.Namespace) -> ExecutorOptions:
    """The options added by :func:`add_executor_options`; ExecutorError if ``--workers`` < 1."""
    if args.workers is not None and args.workers < 1:
        raise ExecutorError(f"--workers {args.workers}: must be >= 1")
    return ExecutorOptions(args.executor, args.workers, args.scheduler)
