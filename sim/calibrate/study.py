"""The Optuna study behind a fit: stored on disk, resumable, shareable by a SLURM array.

A study lives in an Optuna journal file (``JournalStorage`` with a file backend; default
``<out>/study.journal``). Every told trial carries its simulated targets (user attribute
``out``), so a restarted calibration rebuilds its trial table from the file instead of
re-running it.

**Resume = straight run.** Before each batch the sampler is re-created with a seed derived from
the spec's seed and the number of completed trials, so the parameters proposed for a batch
depend only on the study's history — not on how many processes came before. A calibration
killed mid-batch leaves that batch's trials RUNNING; on restart they are evaluated first (same
parameters, same seeds: same losses), then the search goes on. Killed and resumed, a fit gives
the same trials, the same best point and the same report as one run straight through (test:
tests/test_calibrate_resume.py). Only a kill inside Optuna's own ``ask`` (a few ms) can leave a
partial batch, after which the run is still valid but not identical.

**SLURM array.** ``cityrisk calibrate SPEC --out DIR --worker`` runs trials one at a time
against the shared journal until the study has ``trials`` of them (several array tasks at
once: the order, hence the trials, then depend on timing); ``cityrisk calibrate SPEC --out
DIR`` afterwards finds the search done and refines, estimates intervals and checks the
hold-out. :func:`array_job_script` writes the array script.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from .spec import CalibrationSpec, to_dict

STUDY_FILE = "study.journal"
#: spec keys that do not change what a trial computes (a study survives changing them)
_VOLATILE = ("trials", "executor", "workers", "dask_address", "batch", "refine_top",
             "refine_replications", "polish_steps", "level", "path")


def study_name(spec: CalibrationSpec) -> str:
    """``<name>-<hash>``: the hash covers what a trial's loss depends on (parameters, targets,
    scenario, seeds, replications, method ...), not the budget or the executor."""
    d = {k: v for k, v in to_dict(spec).items() if k not in _VOLATILE}
    h = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{spec.name}-{h}"


def storage(path: str | os.PathLike[str] | None) -> Any:
    """Journal storage in the file ``path`` (None = in memory)."""
    if path is None:
        return None
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def make_sampler(spec: CalibrationSpec, step: int = 0) -> optuna.samplers.BaseSampler:
    """TPE (multivariate, constant liar for parallel batches), random, or scrambled Sobol QMC,
    seeded by the spec's seed and ``step`` (the number of completed trials)."""
    seed = int(np.random.SeedSequence(spec.seed, spawn_key=(2, step)).generate_state(1)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if spec.method == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if spec.method == "qmc":  # the sequence itself must not restart: seed from the spec only
            return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True,
                                              seed=spec.seed % 2**32)
        startup = max(5, min(20, spec.trials // 5, 4 * len(spec.parameters)))
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=startup)


def open_study(spec: CalibrationSpec, path: str | os.PathLike[str] | None) -> optuna.Study:
    """Create or load the spec's study (journal file ``path``; None = in memory)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.create_study(study_name=study_name(spec), storage=storage(path),
                                   direction="minimize", load_if_exists=True,
                                   sampler=make_sampler(spec, 0))


def trial_rows(study: optuna.Study, spec: CalibrationSpec) -> list[dict[str, Any]]:
    """One row per completed trial (params, loss, simulated targets), by trial number."""
    keys = [t.key for t in spec.targets]
    rows = []
    for t in sorted(study.get_trials(deepcopy=False,
                                     states=(optuna.trial.TrialState.COMPLETE,)),
                    key=lambda t: t.number):
        out = t.user_attrs.get("out", {})
        rows.append({"trial": t.number, **{f"param.{k}": v for k, v in t.params.items()},
                     "loss": t.value, **{f"out.{k}": out.get(k, math.nan) for k in keys}})
    return rows


def stale_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Trials asked but never told (their process was killed), by number."""
    return sorted(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)),
                  key=lambda t: t.number)


Evaluate = Callable[[list[dict[str, Any]]], list[tuple[float, dict[str, float]]]]


def run_batches(spec: CalibrationSpec, study: optuna.Study, evaluate: Evaluate, batch: int,
                on_batch: Callable[[int, float], None] | None = None,
                worker: bool = False) -> None:
    """Propose, evaluate and tell trials until the study has ``spec.trials`` completed ones.

    ``evaluate`` maps parameter sets to ``(loss, simulated targets)``. Stale (RUNNING) trials
    are evaluated first. ``worker``: one trial at a time, counting other processes' running
    trials as taken (a SLURM array task sharing the journal)."""
    from .fit import distributions

    dists = distributions(spec)
    done = len(trial_rows(study, spec))
    stale = [] if worker else stale_trials(study)
    while stale or done < spec.trials:
        if stale:
            frozen, stale = stale[:batch], stale[batch:]
            # a killed process's trial, reopened by id (Optuna has no public call for it)
            trials = [optuna.trial.Trial(study, t._trial_id) for t in frozen]
        else:
            taken = done + (len(stale_trials(study)) if worker else 0)
            k = 1 if worker else min(batch, spec.trials - done)
            if taken >= spec.trials:
                break
            study.sampler = make_sampler(spec, taken)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                trials = [study.ask(dists) for _ in range(k)]
        results = evaluate([dict(t.params) for t in trials])
        for trial, (value, out) in zip(trials, results, strict=True):
            trial.set_user_attr("out", out)
            study.tell(trial, value)
        done = len(trial_rows(study, spec))
        if on_batch:
            on_batch(len(trials), float(study.best_value))


def trials_frame(study: optuna.Study, spec: CalibrationSpec) -> pd.DataFrame:
    """The completed trials as a table (the fit's ``trials.csv``)."""
    return pd.DataFrame(trial_rows(study, spec))


def array_job_script(spec_path: str, out: str, tasks: int, cpus: int = 2,
                     partition: str = "", walltime: str = "") -> str:
    """A SLURM array script: ``tasks`` array tasks run ``cityrisk calibrate --worker`` against
    the study in ``out``; the last lines say how to finish (refine, intervals, hold-out)."""
    py = shlex.quote(sys.executable)
    spec_q, out_q = shlex.quote(spec_path), shlex.quote(out)
    lines = ["#!/usr/bin/env bash", "#SBATCH -J cityrisk-calibrate", f"#SBATCH --array=1-{tasks}",
             "#SBATCH -n 1", f"#SBATCH --cpus-per-task={cpus}"]
    if partition:
        lines.append(f"#SBATCH -p {partition}")
    if walltime:
        lines.append(f"#SBATCH -t {walltime}")
    lines += ["", f"# every task adds trials to the one study in {out}/{STUDY_FILE} (a journal",
              "# file: put it on a shared file system). When the array is done, finish with",
              f"#   sbatch --dependency=afterany:<this job id> --wrap \"{py} -m sim.calibrate "
              f"calibrate {spec_q} --out {out_q} --workers {cpus}\"",
              "export PYTHONUNBUFFERED=1",
              f"{py} -m sim.calibrate calibrate {spec_q} --out {out_q} --worker "
              f"--executor processes --workers ${{SLURM_CPUS_PER_TASK:-{cpus}}} --no-progress", ""]
    return "\n".join(lines)
