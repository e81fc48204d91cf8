"""``cityrisk sweep`` and ``cityrisk analyze``.

The core CLI calls :func:`register` with its subparsers (``python -m sim.sweep`` is the core
CLI too, so batch jobs need no console script). Bad input (spec, store, shard) exits with code 2 and a one-line message
naming the key, the value and what is allowed; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.executors.options import add_executor_options
from sim.logs import add_verbosity_options

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``sweep`` and ``analyze`` subcommands (each sets ``func=handler(args) -> int``)."""
    p = subparsers.add_parser(
        "sweep", help="run a batch sweep (grid/list/LHS/Sobol/Morris) into a Parquet store",
        description="Run every (design point, replication) of SPEC into the store --out DIR. "
                    "Rows: run_id, point_id, replication, seed, varied parameters, KPIs.")
    p.add_argument("spec", type=Path, help="sweep spec TOML (see experiments/)")
    p.add_argument("--out", type=Path, help="store directory (Parquet chunks + manifest.json)")
    add_executor_options(p, default="local")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out, skipping finished runs")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only shard I of N (run_id %% N == I-1), e.g. from a SLURM array")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="rows per Parquet chunk (default from the spec, 200)")
    p.add_argument("--print-job-script", nargs="?", const="jobqueue",
                   choices=("jobqueue", "array"), default=None,
                   help="print the batch script and exit: the dask-jobqueue worker job "
                        "(default) or a SLURM array of --shard jobs")
    p.add_argument("--shards", type=int, default=None,
                   help="array size for --print-job-script array (default [cluster] array_shards)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_verbosity_options(p)
    p.set_defaults(func=sweep_command)

    a = subparsers.add_parser(
        "analyze", help="summaries with CIs, Sobol/Morris indices, PRIM, figures of a sweep",
        description="Analyse the store DIR written by `cityrisk sweep`.")
    a.add_argument("store", type=Path, help="sweep store directory")
    a.add_argument("--out", type=Path, default=None, help="output folder (default DIR/analysis)")
    a.add_argument("--kpi", action="append", default=None,
                   help="KPI to report/plot (repeatable; default from the spec)")
    a.add_argument("--confidence", type=float, default=None, help="CI level (default 0.95)")
    a.add_argument("--prim", nargs=2, metavar=("KPI", "THRESHOLD"), default=None,
                   help="scenario discovery: lever box where KPI stays below THRESHOLD")
    a.add_argument("--no-figures", action="store_true")
    a.add_argument("--json", action="store_true", help="print the report as JSON")
    a.set_defaults(func=analyze_command)


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def sweep_command(args: argparse.Namespace) -> int:
    """Handler of ``cityrisk sweep``."""
    from sim.executors.base import ExecutorError
    from sim.executors.jobqueue import jobqueue_job_script
    from sim.executors.options import executor_options
    from sim.extras import require
    from sim.logs import configure

    from .runner import run_sweep
    from .shards import array_job_script, parse_shard
    from .spec import SpecError, load_spec
    from .store import StoreError

    require("sweep", "cityrisk sweep")
    configure(getattr(args, "verbose", 0), getattr(args, "quiet", 0))
    try:
        spec = load_spec(args.spec)
        if args.print_job_script:
            out = args.out or Path("OUT_DIR")
            if spec.cluster is None:
                return _fail(f"{args.spec}: --print-job-script needs a [cluster] section "
                             "(kind = \"slurm\" or \"pbs\")")
            if args.print_job_script == "array":
                n = args.shards or spec.cluster.array_shards
                if not n or n < 1:
                    return _fail("--print-job-script array needs --shards N or "
                                 "cluster.array_shards >= 1")
                print(array_job_script(spec.cluster, args.spec.resolve(), out.resolve(), n))
            else:
                print(jobqueue_job_script(spec.cluster, out, args.scheduler or
                                          "tcp://SCHEDULER_ADDRESS:8786"))
            return 0
        if args.out is None:
            return _fail("--out DIR is required")
        run_on = executor_options(args)
        if args.chunk_size is not None and args.chunk_size < 1:
            return _fail(f"--chunk-size {args.chunk_size}: must be >= 1")
        shard = parse_shard(args.shard) if args.shard else None
        _sigterm_as_interrupt()
        report = run_sweep(spec, args.out, executor=run_on.kind or "local",
                           workers=run_on.workers, scheduler=run_on.address, resume=args.resume,
                           shard=shard, progress=not (args.no_progress or getattr(args, "quiet", 0)),
                           chunk_size=args.chunk_size)
    except (SpecError, StoreError, ExecutorError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("interrupted: finished runs are saved; continue with --resume", file=sys.stderr)
        return 130
    except Exception as exc:
        if type(exc).__name__ == "ScenarioError":
            return _fail(str(exc))
        raise
    print(f"{spec.name}: {report.done} runs done, {report.skipped} already in store, "
          f"{len(report.failed)} failed, {report.total} in {'shard' if shard else 'sweep'} "
          f"({report.seconds:.1f} s) -> {args.out}")
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    for run_id, msg in report.failed[:10]:
        print(f"  run {run_id} failed: {msg}", file=sys.stderr)
    if report.aborted:
        print(f"stopped: the first {len(report.failed)} runs all failed (see above)",
              file=sys.stderr)
    if report.failed:
        print("failed runs are not stored; fix the cause and rerun with --resume",
              file=sys.stderr)
        return 1
    return 0


def _sigterm_as_interrupt() -> None:
    """Make SIGTERM (batch walltime, ``kill``) unwind like Ctrl-C, so buffered rows are saved."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def analyze_command(args: argparse.Namespace) -> int:
    """Handler of ``cityrisk analyze``."""
    from sim.extras import require

    require("sweep", "cityrisk analyze")
    from .analyze import analyze
    from .store import StoreError

    prim_opts = None
    if args.prim:
        try:
            prim_opts = {"kpi": args.prim[0], "threshold": float(args.prim[1])}
        except ValueError:
            return _fail(f"--prim {args.prim[1]!r}: THRESHOLD must be a number")
    if args.confidence is not None and not 0 < args.confidence < 1:
        return _fail(f"--confidence {args.confidence}: must be in (0, 1)")
    try:
        if args.kpi:  # a typo must not give an empty report with exit 0
            from .checks import check_store_kpis

            check_store_kpis(args.store, args.kpi)
        rep = analyze(args.store, args.out, args.kpi, args.confidence, not args.no_figures,
                      prim_opts)
    except StoreError as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(rep, indent=2, default=str))
        return 0
    _print_report(rep)
    return 0


def _print_report(rep: dict[str, Any]) -> None:
    import pandas as pd

    print(f"{rep['store']}: {rep['runs']} runs, {rep['missing']} missing")
    if "summary" in rep:
        s = pd.read_csv(rep["summary"])
        s = s[s["kpi"].isin(rep["kpis"])]
        cols = [c for c in s.columns if c not in ("std",)]
        shown = s if len(s) <= 40 else s.head(30)
        print(shown[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if len(shown) < len(s):
            print(f"... {len(s) - len(shown)} more rows in {rep['summary']}")
    for k, d in rep.get("sensitivity", {}).items():
        print(f"\nsensitivity of {k}:")
        print(pd.DataFrame(d).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if "prim" in rep:
        b = rep["prim"]
        print(f"\nPRIM ({b['kpi']} {b['direction']} {b['threshold']}): density "
              f"{b['density']:.2f}, coverage {b['coverage']:.2f}, support {b['support']:.2f}")
        for k, (lo, hi) in b["restricted"].items():
            print(f"  {lo:g} <= {k} <= {hi:g}")
    for f in rep.get("figures", []):
        print(f"figure: {f}")
    print(f"tables: {rep['outdir']}")
