"""Fit a scenario's free parameters to targets with Optuna, then estimate their uncertainty.

Steps (``fit``):

1. **Search.** Optuna (TPE by default) proposes parameter values in batches of ``batch``
   trials; each trial runs ``replications`` seeds through ``simulator(scenario, params, seed,
   days)`` — ``sim.run``, with the spec's ``stats`` — in parallel on the chosen executor. Replication ``r`` uses the same
   seed in every trial (common random numbers), so trials differ by their parameters, not by
   their luck. The loss of a trial is ``sum_i w_i ((mean_i - target_i) / sd_i)^2``.
2. **Refine.** The ``refine_top`` best trials are run again with ``refine_replications`` fresh
   seeds; the lowest refined loss wins (this removes most of the winner's curse of noisy
   losses). The defaults of the scenario ("before") are run with the same seeds.
3. **Polish and uncertainty.** Central differences of the simulated targets around the best
   point, with common random numbers, give the Jacobian ``J`` (in unit-box coordinates, log
   scale for ``log`` parameters); up to ``polish_steps`` Levenberg–Marquardt steps are tried
   from the best point and kept when the refined loss falls (``local.py``).
   ``cov = s (J' W J)^-1`` with ``W = diag(w / (sd^2 + sim_var / R))`` and
   ``s = max(1, chi2_min / (n - k))`` (misfit inflation). Intervals: best +- z * sqrt(cov_ii),
   clipped to the bounds; an unidentified parameter gets its full bounds.
4. **Hold-out.** If the spec has a hold-out, the fitted and the default parameters are run
   on it and the errors reported — it never enters the loss.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from scipy import stats as sps

from sim.executors.base import Executor, make_executor, resolve, run_ordered

from . import local
from .spec import CalibrationSpec, Parameter, SpecError, Target

log = logging.getLogger(__name__)
AT_BOUND = 0.01  # within 1% of the range of a bound (unit box): reported as not identified
NAN_PENALTY_Z = 10.0  # residual (in sd) charged for a target the simulator returned as NaN


@dataclass
class FitResult:
    """Everything a fit produced (``report.write`` turns it into files)."""

    spec: CalibrationSpec
    best: dict[str, float]
    loss: float
    loss_before: float
    intervals: dict[str, tuple[float, float]]
    stderr_unit: dict[str, float]
    interval_method: str
    scale: float
    before: dict[str, float]
    after: dict[str, float]
    after_sd: dict[str, float]
    trials: pd.DataFrame
    covariance_unit: list[list[float]] = field(default_factory=list)  # unit box; inf = unidentified
    holdout_before: dict[str, float] | None = None
    holdout_after: dict[str, float] | None = None
    elapsed_s: float = 0.0
    n_runs: int = 0
    notes: list[str] = field(default_factory=list)


def seed_for(root: int, stream: int, rep: int) -> int:
    """Seed of replication ``rep`` in stream ``stream`` (0 = search, 1 = refine/check)."""
    ss = np.random.SeedSequence(root, spawn_key=(stream, rep))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def to_unit(p: Parameter, x: float) -> float:
    """Parameter value -> [0, 1] (log scale for ``log`` parameters)."""
    if p.log:
        return (math.log(x) - math.log(p.lo)) / (math.log(p.hi) - math.log(p.lo))
    return (x - p.lo) / (p.hi - p.lo)


def from_unit(p: Parameter, u: float) -> float:
    """[0, 1] -> parameter value (rounded for integer parameters)."""
    u = min(1.0, max(0.0, u))
    x = math.exp(math.log(p.lo) + u * (math.log(p.hi) - math.log(p.lo))) if p.log \
        else p.lo + u * (p.hi - p.lo)
    return float(round(x)) if p.integer else x


def distributions(spec: CalibrationSpec) -> dict[str, optuna.distributions.BaseDistribution]:
    """Optuna search space of the spec's parameters."""
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for p in spec.parameters:
        if p.integer:
            out[p.key] = optuna.distributions.IntDistribution(
                math.ceil(p.lo), math.floor(p.hi), log=p.log)
        else:
            out[p.key] = optuna.distributions.FloatDistribution(p.lo, p.hi, log=p.log)
    return out


def summarise(runs: Sequence[Mapping[str, float]], keys: Sequence[str]
              ) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation (ddof=1, 0 for one run) over replications, per key."""
    mean, sd = {}, {}
    for k in keys:
        vals = np.array([float(r.get(k, math.nan)) for r in runs], dtype=float)
        ok = vals[np.isfinite(vals)]
        mean[k] = float(ok.mean()) if ok.size else math.nan
        sd[k] = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    return mean, sd


SCENARIO_PREFIX = "scenario."  # targets read from the scenario itself (inputs, e.g. grid size)


def scenario_values(spec: CalibrationSpec, targets: Sequence[Target], params: Mapping[str, Any],
                    scenario: str = "") -> dict[str, float]:
    """Values of ``scenario.<key>`` targets in the scenario with ``params`` applied."""
    keys = [t.key for t in targets if t.key.startswith(SCENARIO_PREFIX)]
    if not keys:
        return {}
    from sim.runner import build_scenario

    scn = build_scenario(scenario or spec.scenario, {**spec.overrides, **params})
    return {k: float(scn.get(k[len(SCENARIO_PREFIX):])) for k in keys}


def check_keys(targets: Sequence[Target], outputs: Mapping[str, float], where: str) -> None:
    """Raise SpecError for a target the simulator does not output (with close matches)."""
    for t in targets:
        if t.key not in outputs and not t.key.startswith(SCENARIO_PREFIX):
            close = difflib.get_close_matches(t.key, list(outputs), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else \
                f"; outputs include {', '.join(sorted(outputs)[:8])} ..."
            raise SpecError(f"{where}.{t.key}: not an output of the simulator{hint}")


def residuals(mean: Mapping[str, float], targets: Sequence[Target]) -> dict[str, float]:
    """z-residuals (simulated - target) / sd; NaN outputs count as ``NAN_PENALTY_Z``."""
    out = {}
    for t in targets:
        m = mean.get(t.key, math.nan)
        out[t.key] = (m - t.value) / t.sd if math.isfinite(m) else NAN_PENALTY_Z
    return out


def loss(mean: Mapping[str, float], targets: Sequence[Target]) -> float:
    """Weighted sum of squared z-residuals over fitted targets."""
    z = residuals(mean, targets)
    return float(sum(t.weight * z[t.key] ** 2 for t in targets))


def call_simulator(ref: str | Callable[..., Any], scenario: Any, params: dict[str, Any],
                   seed: int, days: int | None, stats: Sequence[str] = ()) -> dict[str, float]:
    """One run on a worker (top level, so it pickles): ``simulator(scenario, params, seed,
    days)``, with ``stats=`` only when some are asked for (other simulators need not take it)."""
    fn = resolve(ref)
    return fn(scenario, params, seed, days, stats=stats) if stats else fn(scenario, params, seed,
                                                                          days)


class _Runner:
    """Runs parameter sets x seeds on an executor; counts runs; drives the progress bar."""

    def __init__(self, spec: CalibrationSpec, executor: Executor,
                 simulator: str | Callable[..., Any], progress: bool = False) -> None:
        self.spec, self.executor, self.simulator = spec, executor, simulator
        self.progress = progress
        self.n_runs = 0
        self.batches = 0

    def run(self, param_sets: Sequence[Mapping[str, Any]], seeds: Sequence[int],
            days: int | None = None, extra: Mapping[str, Any] | None = None,
            on_set_done: Callable[[int], None] | None = None,
            scenario: str = "", desc: str = "") -> list[list[dict[str, float]]]:
        """For each parameter set, the list of KPI dicts over ``seeds`` (a progress bar over
        runs when ``desc`` is given and progress is on)."""
        days = self.spec.days if days is None else days
        scenario = scenario or self.spec.scenario
        base = {**self.spec.overrides, **(extra or {})}
        tasks = [(call_simulator, (self.simulator, scenario, {**base, **ps}, s, days,
                                   self.spec.stats))
                 for ps in param_sets for s in seeds]
        left = [len(seeds)] * len(param_sets)
        log.log(logging.INFO if desc else logging.DEBUG, "%s: %d parameter sets x %d seeds",
                desc or "batch", len(param_sets), len(seeds))
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=f"{self.spec.name}: {desc}", unit="run",
                   disable=not (self.progress and desc))

        def done(i: int, _res: Any) -> None:
            bar.update()
            j = i // len(seeds)
            left[j] -= 1
            if left[j] == 0 and on_set_done:
                on_set_done(j)

        self.batches += 1
        try:  # Dask keys must be unique per batch and per process sharing a scheduler
            flat = run_ordered(self.executor, tasks, f"calibrate-{os.getpid()}-{self.batches}",
                               done)
        finally:
            bar.close()
        self.n_runs += len(tasks)
        n = len(seeds)
        return [flat[j * n:(j + 1) * n] for j in range(len(param_sets))]


def search(spec: CalibrationSpec, runner: _Runner, progress: bool = True,
           study: optuna.Study | None = None, worker: bool = False) -> pd.DataFrame:
    """Optuna ask/tell loop in parallel batches (``study``: a stored study to resume or share;
    default in memory); one row per completed trial (params, loss, outputs)."""
    from tqdm.auto import tqdm

    from .study import open_study, run_batches, trial_rows, trials_frame

    study = study if study is not None else open_study(spec, None)
    seeds = [seed_for(spec.seed, 0, r) for r in range(spec.replications)]
    batch = spec.batch or max(1, runner.executor.workers)
    keys = [t.key for t in spec.targets]
    fitted = spec.fitted_targets
    done = min(len(trial_rows(study, spec)), spec.trials)
    if done:
        log.info("search: resuming with %d of %d trials done", done, spec.trials)
    bar = tqdm(total=spec.trials, initial=done, desc=f"calibrate {spec.name}",
               disable=not progress, unit="trial")
    checked: list[bool] = []

    def evaluate(param_sets: list[dict[str, Any]]) -> list[tuple[float, dict[str, float]]]:
        results = runner.run(param_sets, seeds, on_set_done=lambda _j: bar.update())
        if not checked:
            check_keys(spec.targets, results[0][0], "targets")
            checked.append(True)
        out = []
        for runs in results:
            mean, _ = summarise(runs, keys)
            out.append((loss(mean, fitted), mean))
        return out

    def on_batch(_n: int, best: float) -> None:
        bar.set_postfix(best_loss=f"{best:.4g}")
        log.info("search: %d of %d trials, best loss %.4g", bar.n, spec.trials, best)

    try:
        run_batches(spec, study, evaluate, batch, on_batch, worker=worker)
    finally:
        bar.close()
    return trials_frame(study, spec)


def fit(spec: CalibrationSpec, progress: bool = True,
        simulator: str | Callable[..., Any] | None = None,
        executor: Executor | None = None, storage: str | os.PathLike[str] | None = None,
        ) -> FitResult:
    """Search, refine, estimate uncertainty and check the hold-out. See the module docstring.
    ``storage``: the study's journal file (resumed if it exists; ``sim.calibrate.study``)."""
    t0 = time.perf_counter()
    try:
        resolve(simulator or spec.simulator)
    except ImportError as exc:
        raise SpecError(f"calibrate.simulator = {exc}") from None
    own = executor is None
    executor = executor or make_executor(spec.executor, spec.workers, spec.dask_address)
    runner = _Runner(spec, executor, simulator or spec.simulator, progress)
    notes: list[str] = []
    log.info("calibrate %s: %d parameters, %d trials x %d replications, executor %s",
             spec.name, len(spec.parameters), spec.trials, spec.replications, spec.executor)
    try:
        from .study import open_study

        trials = search(spec, runner, progress, open_study(spec, storage))
        keys = [t.key for t in spec.targets]
        seeds = [seed_for(spec.seed, 1, r) for r in range(spec.refine_replications)]
        top = trials.sort_values("loss").head(max(1, spec.refine_top))
        cands = [{p.key: float(row[f"param.{p.key}"]) for p in spec.parameters}
                 for _, row in top.iterrows()]
        runs = runner.run([*cands, {}], seeds, desc="refine best trials and defaults")
        refined = [summarise(r, keys) for r in runs]
        losses = [loss(m, spec.fitted_targets) for m, _ in refined[:-1]]
        ib = int(np.argmin(losses))
        best, (after, after_sd) = cands[ib], refined[ib]
        before = refined[-1][0]
        before.update(scenario_values(spec, spec.targets, {}))
        trials["refined_loss"] = np.nan
        for i, idx in enumerate(top.index):
            trials.loc[idx, "refined_loss"] = losses[i]
        def evaluate(sets: Sequence[Mapping[str, Any]], desc: str) -> list[dict[str, float]]:
            return [summarise(r, keys)[0] for r in runner.run(sets, seeds, desc=desc)]

        R = len(seeds)
        J = local.jacobian(spec, best, evaluate)
        best_loss, lam, start_loss = losses[ib], 1e-3, losses[ib]
        for _ in range(spec.polish_steps):
            w, r = local.weights(spec, after_sd, R), local.residual_vector(spec, after)
            cand = local.lm_step(spec, best, J, w, r, lam)
            if all(math.isclose(cand[k], best[k]) for k in best):
                break
            m, sdv = summarise(runner.run([cand], seeds, desc="polish (Gauss-Newton step)")[0], keys)
            new_loss = loss(m, spec.fitted_targets)
            if new_loss < best_loss:
                best, after, after_sd, best_loss, lam = cand, m, sdv, new_loss, lam / 10
                J = local.jacobian(spec, best, evaluate)
            else:
                lam *= 10
        if best_loss < start_loss:
            notes.append(f"polish: refined loss {start_loss:.4g} -> {best_loss:.4g}")
        cov, scale = local.covariance(J, local.weights(spec, after_sd, R),
                                      local.residual_vector(spec, after))
        how = "delta"
        z = float(sps.norm.ppf(0.5 + spec.level / 2))
        intervals, se_u = {}, {}
        for j, p in enumerate(spec.parameters):
            s = float(math.sqrt(cov[j, j])) if np.isfinite(cov[j, j]) else math.inf
            se_u[p.key] = s
            u = to_unit(p, best[p.key])
            intervals[p.key] = (from_unit(p, u - z * s), from_unit(p, u + z * s)) \
                if math.isfinite(s) else (p.lo, p.hi)
            if not math.isfinite(s):
                notes.append(f"{p.key}: not identified by the targets (interval = bounds)")
            elif min(u, 1.0 - u) < AT_BOUND:
                notes.append(f"{p.key} = {best[p.key]:.4g}: at its {'lower' if u < 0.5 else 'upper'}"
                             " bound, not an estimate (not identified: the targets push past the "
                             "search range)")
        after.update(scenario_values(spec, spec.targets, best))
        if scale > 1:
            notes.append(f"misfit: chi2/(n-k) = {scale:.3g}; intervals widened by sqrt of it")
        hb = ha = None
        if spec.holdout is not None:
            hkeys = [t.key for t in spec.holdout.targets]
            hruns = runner.run([best, {}], seeds, days=spec.holdout.days,
                               extra=spec.holdout.overrides, scenario=spec.holdout.scenario,
                               desc="hold-out")
            check_keys(spec.holdout.targets, hruns[0][0], "holdout")
            ha, hb = summarise(hruns[0], hkeys)[0], summarise(hruns[1], hkeys)[0]
            hover = {**spec.holdout.overrides}
            ha.update(scenario_values(spec, spec.holdout.targets, {**hover, **best},
                                      spec.holdout.scenario))
            hb.update(scenario_values(spec, spec.holdout.targets, hover, spec.holdout.scenario))
        log.info("calibrate %s: done, loss %.4g, %d runs in %.1f s", spec.name, best_loss,
                 runner.n_runs, time.perf_counter() - t0)
        return FitResult(
            spec=spec, best=best, loss=best_loss, loss_before=loss(before, spec.fitted_targets),
            intervals=intervals, stderr_unit=se_u, interval_method=how, scale=scale,
            covariance_unit=np.where(np.isfinite(cov), cov, math.inf).tolist(),
            before=before, after=after, after_sd=after_sd, trials=trials,
            holdout_before=hb, holdout_after=ha, elapsed_s=time.perf_counter() - t0,
            n_runs=runner.n_runs, notes=notes)
    finally:
        if own:
            executor.close()
