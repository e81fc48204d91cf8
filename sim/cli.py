"""Command line: ``cityrisk run | validate | scenarios | plan`` (+ app, sweep, analyze, calibrate).

Bad input ends with exit code 2 and one line naming the field, the value and what is allowed;
so do unreadable files, a full disk and other operating-system errors (:func:`main`). A closed
output pipe (``cityrisk run --json | head``) ends quietly. ``--out`` is written atomically
(:func:`sim.io.outputs.stage_out`).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from .config.params import FIELDS, ScenarioError
from .extras import MissingExtra, extra_for, require
from .extras import message as extra_message

EXTENSIONS = ("sim.describe_cli", "sim.app.cli", "sim.sweep.cli", "sim.calibrate.cli")


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _clean(o: Any) -> Any:
    """Replace NaN/inf by None so the JSON is standard."""
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_clean(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def dumps(obj: Any) -> str:
    """Standard JSON (no NaN) of a KPI dict."""
    return json.dumps(_clean(obj), indent=2, ensure_ascii=False, default=_json_default)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario and print its KPIs (and write outputs with --out)."""
    import numpy as np

    from .config.scenario import load_scenario
    from .io.outputs import OutputDirError, commit_out, discard_out, stage_out, write_outputs
    from .io.provenance import parquet_metadata, provenance
    from .io.sinks import ParquetSink
    from .model import CityModel
    from .precompile import kernels_cached

    if args.out:
        require("viz", "cityrisk run --out (figures)")
    if args.seed < 0:
        raise UsageError(f"--seed = {args.seed}: must be an integer >= 0")
    scenario = load_scenario(args.scenario, args.set or None)
    days = FIELDS["run.days"].check("--days", args.days) if args.days is not None else None
    sink = None
    out = Path(args.out) if args.out else None
    staging = None
    if out:
        try:  # every check before the run: a refused --out must not cost a simulation
            staging = stage_out(out, force=args.force)
        except OutputDirError as exc:
            raise UsageError(str(exc)) from None
        cats = scenario.data["world"]["categories"]
        sink = ParquetSink(str(staging / "cases.parquet"), categories=list(cats),
                           metadata=parquet_metadata(provenance(scenario, args.seed)),
                           departments=[c["department"] for c in cats.values()],
                           start_date=scenario.data["run"]["start_date"])
    if not args.quiet and not kernels_cached():
        print("cityrisk: first run with these sources on this machine: compiling the engine's kernels "
              "once (about 25 s; `python -m sim.precompile` does it ahead, as `make setup` does)",
              file=sys.stderr)
    try:
        tic = time.perf_counter()
        model = CityModel(scenario, rng=args.seed, case_sink=sink)
        build = time.perf_counter() - tic
        model.run(days, progress=not args.quiet)
        if sink:  # cases still open at the end too (open stage, no closed_at): censored, not lost
            sink.write(model.cases.take(np.arange(len(model.cases))))
            sink.close()
        kpis = model.kpis()
        wall = time.perf_counter() - tic
        if out and staging:
            written = write_outputs(model, staging, kpis)
            commit_out(staging, out)
    except BaseException:
        if staging is not None:
            discard_out(staging)
        raise
    if out:
        if not args.json:
            print(f"wrote {len(written) + 1} files to {out}/", file=sys.stderr)
    if args.json:
        print(dumps(kpis))
    else:
        from .io.report import format_summary

        print(format_summary(kpis))
        print(f"build {build:.2f} s, run {wall - build:.2f} s", file=sys.stderr)
    if args.stages:
        print(format_stage_times(model), file=sys.stderr)
    return 0


def format_stage_times(model: Any) -> str:
    """Per-stage wall time of the ordered plan."""
    total = sum(model.stage_seconds.values()) or 1.0
    lines = [f"{'stage':<20} {'seconds':>9} {'share':>7}"]
    for name, sec in model.stage_seconds.items():
        lines.append(f"{name:<20} {sec:9.3f} {sec / total:7.1%}")
    lines.append(f"{'total':<20} {total:9.3f}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the analytic limits through the model and print the comparison table."""
    from tqdm import tqdm

    from .validation import (
        DEFAULT_CASES,
        PRIORITY_CASES,
        mmc_limit,
        priority_limit,
        validation_rows,
    )

    if not 1000 <= args.hours <= 1e7:  # also refuses nan and inf
        raise UsageError(f"--hours = {args.hours:g}: must be in [1000, 1e7]")
    results = []
    bar = tqdm(total=len(DEFAULT_CASES) + len(PRIORITY_CASES), desc="validate", unit="set", file=sys.stderr,
               disable=args.quiet)
    for case in DEFAULT_CASES:
        results.append(mmc_limit(case.servers, case.arrival_rate, case.service_rate, case.escalation_rate,
                                 case.latency_hours, hours=args.hours, seed=args.seed))
        bar.update()
    for pcase in PRIORITY_CASES:  # non-preemptive priority by severity against Cobham's formula
        results.append(priority_limit(pcase.servers, pcase.arrival_rate, pcase.service_rate,
                                      pcase.severity_probs, hours=args.hours, seed=args.seed))
        bar.update()
    bar.close()
    rows = validation_rows(results)
    if args.json:
        print(dumps({"rows": rows, "results": results}))
    else:
        print(f"{'parameter set':<34} {'quantity':<37} {'analytic':>9} {'simulated':>9} {'s.e.':>8} {'z':>6}")
        for r in rows:
            print(f"{r['case']:<34} {r['quantity']:<37} {r['analytic']:9.4f} {r['simulated']:9.4f} "
                  f"{r['se']:8.4f} {r['z']:6.2f}")
    worst = max(abs(r["z"]) for r in rows if not math.isnan(r["z"]))
    ok = worst <= 3.0
    print(f"\n{'PASS' if ok else 'FAIL'}: largest |z| = {worst:.2f} (limit 3)", file=sys.stderr)
    return 0 if ok else 1


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List scenario files with what each shows."""
    from .config.scenario import load_scenario, scenario_names

    for name in scenario_names():
        s = load_scenario(name)
        print(f"{name:<22} {s.data['city']['residents']:>11,} residents  {s.data['meta']['description']}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the ordered plan of stages run each tick."""
    from .model import CityModel

    model = CityModel(args.scenario, rng=0, overrides={"city.residents": 1000})
    for i, stage in enumerate(model.plan, 1):
        print(f"{i:2d}. {stage.name:<18} {stage.doc}")
        print(f"    {'':<18} reads: {', '.join(stage.reads)}; writes: {', '.join(stage.writes)}")
    return 0


def _version() -> str:
    from .io.provenance import version

    return version()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(
        prog="cityrisk",
        description="Agent-based simulator of city social-risk dynamics: disputes emerge, are detected, "
                    "reported, routed, mediated or handled, and are resolved or escalate. Test policy levers "
                    "against escalation and resolution.",
        epilog="Examples:\n  cityrisk run baseline --out out/baseline\n  cityrisk run town --days 90 "
               "--set levers.mediators_per_street=20 --json\n  cityrisk validate",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"cityrisk {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("run", help="run a scenario; print KPIs, optionally write outputs",
                       description="Run SCENARIO (a name in scenarios/ or a path to a TOML file).")
    r.add_argument("scenario", help="scenario name (see `cityrisk scenarios`) or path to a .toml file")
    r.add_argument("--days", type=int, help="simulated days (default: the scenario's run.days, 1..3650)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed = same results")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override any scenario key, e.g. levers.grid_workers_per_grid=6 (repeatable)")
    r.add_argument("--out", metavar="DIR", help="write summary.json, timeseries.csv, cases.parquet, figures")
    r.add_argument("--force", action="store_true",
                   help="replace an earlier run's outputs in --out (otherwise refused)")
    r.add_argument("--json", action="store_true", help="print one JSON object of KPIs instead of a table")
    r.add_argument("--stages", action="store_true", help="print the wall time of each stage of the plan")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check the model against queueing theory (Erlang C)",
                       description="Run the M/M/c limits of the full model and compare with analytic values.")
    v.add_argument("--hours", type=float, default=50_000.0, help="simulated hours per parameter set")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", action="store_true")
    v.add_argument("--quiet", action="store_true")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("scenarios", help="list the scenarios and what each shows")
    s.set_defaults(func=cmd_scenarios)
    pl = sub.add_parser("plan", help="print the ordered stages of one tick")
    pl.add_argument("scenario", nargs="?", default="baseline")
    pl.set_defaults(func=cmd_plan)

    for mod in EXTENSIONS:
        try:
            importlib.import_module(mod).register(sub)
        except ModuleNotFoundError as exc:  # that part is not installed; anything else is a bug
            if exc.name not in (mod, mod.rsplit(".", 1)[0]):
                raise
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cityrisk`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if os.environ.get("CITYRISK_THREADS"):  # checked before any work: sim/engine/split.py
            from .engine.split import default_threads

            try:
                default_threads()
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except (ScenarioError, UsageError, MissingExtra) as exc:
        return _error(str(exc))
    except ModuleNotFoundError as exc:  # an optional extra's module, imported on the way
        extra = extra_for(exc.name)
        if extra is None:
            raise
        return _error(extra_message(extra, str(exc.name)))
    except KeyboardInterrupt:
        print("cityrisk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as exc:  # disk full, permission, vanished file: the system's words, one line
        if exc.errno == errno.EPIPE:
            return _broken_pipe()
        return _error(_os_message(exc))
    except MemoryError:
        return _error("out of memory; use a smaller input")


def _os_message(exc: OSError) -> str:
    """One line for an operating-system error (the file or address it concerns included)."""
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}"
    if isinstance(exc, TimeoutError | ConnectionError):
        return f"cannot connect: {exc}"
    if exc.errno == errno.ENOSPC:
        return f"disk full: no space left on device{f' writing {exc.filename}' if exc.filename else ''}"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _error(message: str) -> int:
    print(f"cityrisk: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _broken_pipe() -> int:
    """The reader went away (``| head``): one line on stderr, no traceback."""
    print("cityrisk: output pipe closed by the reader; stopped", file=sys.stderr)
    try:
        # Python would report the failed flush of the dead stdout again at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced (tests): nothing to silence
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe


if __name__ == "__main__":
    sys.exit(main())
