"""``cityrisk calibrate SPEC --out DIR``: fit a scenario to targets (see docs/calibration.md).

The core CLI calls :func:`register` (``python -m sim.calibrate`` is the core CLI too).
Bad specs and bad scenario values exit with code 2 and a one-line message naming the key,
the value and what is allowed (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sim.executors.base import ExecutorError
from sim.executors.options import add_executor_options, executor_options
from sim.logs import add_verbosity_options, configure

from .checks import METHODS, SpecError


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``calibrate`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "calibrate", help="fit a scenario's parameters to data or stylised facts",
        description="Fit the free parameters named in SPEC (a TOML file) to its targets with "
                    "Optuna; write fit.json, trials.csv, fitted_scenario.toml and figures to --out.")
    p.add_argument("spec", help="calibration spec (TOML), e.g. calibration/boston.toml "
                   "(shipped specs also by name: boston, china)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--trials", type=int, help="override calibrate.trials")
    p.add_argument("--replications", type=int, help="override calibrate.replications")
    p.add_argument("--refine-replications", type=int, dest="refine_replications",
                   help="override calibrate.refine_replications")
    p.add_argument("--method", choices=METHODS, help="override calibrate.method")
    add_executor_options(p, default=None, default_help="default calibrate.executor")
    p.add_argument("--seed", type=int, help="override calibrate.seed")
    p.add_argument("--days", type=int, help="override calibrate.days")
    p.add_argument("--check", action="store_true", help="validate the spec and exit")
    p.add_argument("--storage", metavar="FILE",
                   help="Optuna journal file of the study (default OUT/study.journal): a killed "
                        "calibration started again with the same file resumes where it stopped")
    p.add_argument("--worker", action="store_true",
                   help="only run search trials against the stored study, then exit (one task "
                        "of a SLURM array; finish with a plain run of the same command)")
    p.add_argument("--print-job-script", type=int, metavar="TASKS", dest="job_script",
                   help="print a SLURM array script of TASKS worker tasks and exit")
    p.add_argument("--partition", default="", help="SLURM partition for --print-job-script")
    p.add_argument("--walltime", default="", help="SLURM time limit for --print-job-script")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_verbosity_options(p)
    p.set_defaults(func=handle)
    return p


_FLAGS = ("trials", "replications", "refine_replications", "method", "seed", "days")


def handle(args: argparse.Namespace) -> int:
    """Run ``calibrate``; 0 on success, 2 on bad input."""
    from sim.config.params import ScenarioError
    from sim.extras import require

    require("calibrate", "cityrisk calibrate")
    from sim.resources import calibration_spec

    from .fit import fit
    from .report import write
    from .spec import load_spec

    configure(getattr(args, "verbose", 0), getattr(args, "quiet", 0))
    try:
        run_on = executor_options(args)
        flags = {k: getattr(args, k, None) for k in _FLAGS}
        flags.update(executor=run_on.kind, workers=run_on.workers, dask_address=run_on.address)
        spec = load_spec(calibration_spec(args.spec), flags)
        from .preflight import check_runnable  # scenario, overrides, simulator import

        check_runnable(spec)
        if args.check:
            print(f"{args.spec}: ok ({len(spec.parameters)} parameters, "
                  f"{len(spec.fitted_targets)} fitted targets, {spec.trials} trials x "
                  f"{spec.replications} replications)")
            return 0
        from pathlib import Path

        from .study import STUDY_FILE, array_job_script

        store = args.storage or str(Path(args.out) / STUDY_FILE)
        progress = not (args.no_progress or getattr(args, "quiet", 0))
        if args.job_script is not None:
            if args.job_script < 1:
                raise SpecError(f"--print-job-script = {args.job_script}: must be >= 1 tasks")
            print(array_job_script(args.spec, args.out, args.job_script, run_on.workers or 2,
                                   args.partition, args.walltime))
            return 0
        if args.worker:
            return _worker(spec, store, progress)
        result = fit(spec, progress=progress, storage=store)
        rep = write(result, args.out, figures=not args.no_figures)
    except (SpecError, ScenarioError, ExecutorError) as exc:
        print(f"cityrisk calibrate: error: {exc}", file=sys.stderr)
        return 2
    print(summary(rep))
    print(f"wrote {args.out}/fit.json, trials.csv, fitted_scenario.toml"
          + ("" if args.no_figures else " and figures"))
    return 0


def _worker(spec: Any, store: str, progress: bool) -> int:
    """Search trials only (a SLURM array task), against the study in ``store``."""
    from sim.executors.base import make_executor

    from .fit import _Runner, search
    from .study import open_study

    executor = make_executor(spec.executor, spec.workers, spec.dask_address)
    try:
        trials = search(spec, _Runner(spec, executor, spec.simulator, progress), progress,
                        open_study(spec, store), worker=True)
    finally:
        executor.close()
    print(f"{spec.name}: {len(trials)} of {spec.trials} trials in {store}")
    return 0


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:+.1%}"


def summary(rep: dict[str, Any]) -> str:
    """A short text summary of a report: parameters, loss, errors."""
    lines = [f"{rep['name']}: loss {rep['loss_before']:.4g} -> {rep['loss_after']:.4g} "
             f"({rep['trials']} trials)"]
    for key, p in rep["parameters"].items():
        lines.append(f"  {key} = {p['value']:.4g}  [{p['lo']:.4g}, {p['hi']:.4g}]")
    e = rep["fit_errors"]
    lines.append(f"  fit: mean abs error {e['mae_before']:.4g} -> {e['mae_after']:.4g}, "
                 f"rms z {e['rms_z_before']:.3g} -> {e['rms_z_after']:.3g}")
    if "holdout" in rep:
        h = rep["holdout"]["errors"]
        lines.append(f"  hold-out: mean abs error {h['mae_before']:.4g} -> {h['mae_after']:.4g}, "
                     f"rms z {h['rms_z_before']:.3g} -> {h['rms_z_after']:.3g}")
        nv = rep["holdout"].get("naive")
        if nv:
            for g, v in nv["groups"].items():
                lines.append(f"  hold-out {g}: MAE model {v['mae_model']:.4g} vs naive "
                             f"{v['mae_naive']:.4g}" + ("" if v["model_beats_naive"] else
                                                        "  (model does NOT beat naive)"))
            for k, v in nv["relative"].items():
                naive = v["naive_rel_error"]  # None (JSON null) where the fit window has no value
                lines.append(f"  hold-out {k}: model {_pct(v['model_rel_error'])} vs naive "
                             f"{_pct(naive)} (target {v['target']:.4g})")
            lines.append(f"  verdict: {nv['verdict']}")
    lines += [f"  note: {n}" for n in rep.get("notes", [])]
    return "\n".join(lines)
