"""Write a fit's outputs: JSON report, trials table, fitted scenario, before/after figures.

Files in the output directory:

* ``fit.json`` — fitted parameters with intervals, loss before/after, every target with its
  value, sd, source, simulated value before and after fitting and z-residuals, the hold-out
  errors beside the naive forecast's (``holdout.naive``: the fit window's own statistics as
  the forecast; MAE per group, relative errors, a plain verdict), notes and provenance (spec hash, scenario hash, git commit, seeds, versions);
* ``trials.csv`` — one row per Optuna trial (parameters, loss, simulated targets);
* ``fitted_scenario.toml`` — the scenario with the fitted values, loadable by ``cityrisk run``;
* ``fit_targets.png`` — each target with its sd, simulated before and after fitting;
* ``holdout.png`` — the same for the hold-out targets (if any);
* ``parameters.png`` — fitted values and intervals on their bounds; ``history.png`` — loss
  per trial.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.io.outputs import jsonable
from sim.io.provenance import git_commit, library_versions, version
from sim.runner import build_scenario

from .fit import FitResult, residuals
from .spec import CORE_SIMULATORS, Target, to_dict


def target_table(targets: Sequence[Target], before: Mapping[str, float],
                 after: Mapping[str, float]) -> list[dict[str, Any]]:
    """One row per target: value, sd, weight, source, before/after, z and absolute errors."""
    zb, za = residuals(before, targets), residuals(after, targets)
    rows = []
    for t in targets:
        b, a = before.get(t.key, math.nan), after.get(t.key, math.nan)
        rows.append({"key": t.key, "target": t.value, "sd": t.sd, "weight": t.weight,
                     "check": t.check, "source": t.source, "before": b, "after": a,
                     "z_before": zb[t.key], "z_after": za[t.key],
                     "abs_error_before": abs(b - t.value), "abs_error_after": abs(a - t.value)})
    return rows


def error_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean absolute error and RMS z over rows (before and after), NaN-safe."""
    def agg(col: str, f: Any) -> float:
        v = np.array([r[col] for r in rows], dtype=float)
        v = v[np.isfinite(v)]
        return float(f(v)) if v.size else math.nan

    return {"mae_before": agg("abs_error_before", np.mean),
            "mae_after": agg("abs_error_after", np.mean),
            "max_abs_error_after": agg("abs_error_after", np.max),
            "rms_z_before": agg("z_before", lambda v: np.sqrt(np.mean(v**2))),
            "rms_z_after": agg("z_after", lambda v: np.sqrt(np.mean(v**2)))}


def grouped_errors(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Error summaries per group of keys ``by_<x>.<name>.<stat>`` -> group ``<stat>``
    (e.g. closure shares per window across departments)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        parts = r["key"].split(".")
        if len(parts) == 3 and parts[0].startswith("by_"):
            groups.setdefault(parts[2], []).append(r)
    return {g: {**error_summary(rs), "n": len(rs)} for g, rs in groups.items()}


def naive_comparison(rows: list[dict[str, Any]], naive: Mapping[str, float]
                     ) -> dict[str, Any]:
    """Add ``naive`` and ``abs_error_naive`` to each hold-out row (in place) and compare the
    fitted model with the naive forecast: MAE per group of ``by_<x>.<name>.<stat>`` keys,
    relative errors of the other keys, and a plain verdict per group."""
    for r in rows:
        nv = naive.get(r["key"], math.nan)
        r["naive"], r["abs_error_naive"] = nv, abs(nv - r["target"])
    out: dict[str, Any] = {"groups": {}, "relative": {}}
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        parts = r["key"].split(".")
        if len(parts) == 3 and parts[0].startswith("by_"):
            groups.setdefault(parts[2], []).append(r)
        elif r["target"]:
            out["relative"][r["key"]] = {
                "target": r["target"], "model": r["after"], "naive": r["naive"],
                "model_rel_error": (r["after"] - r["target"]) / r["target"],
                "naive_rel_error": (r["naive"] - r["target"]) / r["target"]}
    for g, rs in groups.items():
        m = float(np.nanmean([x["abs_error_after"] for x in rs]))
        n = float(np.nanmean([x["abs_error_naive"] for x in rs]))
        out["groups"][g] = {"mae_model": m, "mae_naive": n, "n": len(rs),
                            "model_beats_naive": bool(m < n)}
    beats = [v["model_beats_naive"] for v in out["groups"].values()]
    out["verdict"] = ("the fitted model beats the naive forecast in every group" if beats and all(beats)
                      else "the fitted model does NOT beat the naive forecast in: " + ", ".join(
                          g for g, v in out["groups"].items() if not v["model_beats_naive"]))
    return out


def fitted_scenario_toml(result: FitResult) -> str:
    """The fitted scenario as TOML (core scenarios), else the fitted overrides as a table."""
    spec = result.spec
    values = {**spec.overrides, **{k: _as_number(spec, k, v) for k, v in result.best.items()}}
    if spec.simulator in CORE_SIMULATORS:
        scen = build_scenario(spec.scenario, values)
        scen.data["meta"]["name"] = f"{scen.name}_fitted"
        scen.data["meta"]["description"] = (
            f"{scen.data['meta'].get('description', '')} Fitted by cityrisk calibrate "
            f"({spec.name}, spec sha256 {spec.hash[:12]}).").strip()
        return scen.to_toml()
    lines = ["# fitted parameters (the spec's simulator is not sim.run)", "[fitted]"]
    lines += [f'"{k}" = {v!r}' for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _as_number(spec: Any, key: str, v: float) -> float | int:
    p = next((p for p in spec.parameters if p.key == key), None)
    return int(round(v)) if p is not None and p.integer else float(v)


def build_report(result: FitResult) -> dict[str, Any]:
    """The JSON report as a dict."""
    spec = result.spec
    fit_rows = target_table(spec.targets, result.before, result.after)
    fitted_keys = {t.key for t in spec.fitted_targets}
    rep: dict[str, Any] = {
        "name": spec.name, "scenario": spec.scenario, "method": spec.method,
        "trials": spec.trials, "replications": spec.replications,
        "refine_replications": spec.refine_replications, "level": spec.level,
        "parameters": {p.key: {"value": _as_number(spec, p.key, result.best[p.key]),
                               "lo": result.intervals[p.key][0], "hi": result.intervals[p.key][1],
                               "bounds": [p.lo, p.hi], "log": p.log,
                               "se_unit_box": result.stderr_unit[p.key]}
                       for p in spec.parameters},
        "interval_method": result.interval_method, "misfit_scale": result.scale,
        # delta-method covariance in unit-box coordinates (log scale for log parameters), rows
        # and columns in "parameters" order; null = not identified (sim.calibrate.draws)
        "covariance_unit_box": [[v if math.isfinite(v) else None for v in row]
                                for row in result.covariance_unit],
        "loss_before": result.loss_before, "loss_after": result.loss,
        "targets": fit_rows,
        "fit_errors": error_summary([r for r in fit_rows if r["key"] in fitted_keys]),
        "fit_errors_by_group": grouped_errors([r for r in fit_rows if r["key"] in fitted_keys]),
        "notes": result.notes,
    }
    if spec.holdout is not None and result.holdout_after is not None:
        hrows = target_table(spec.holdout.targets, result.holdout_before or {},
                             result.holdout_after)
        rep["holdout"] = {"days": spec.holdout.days, "overrides": spec.holdout.overrides,
                          "targets": hrows, "errors": error_summary(hrows),
                          "errors_by_group": grouped_errors(hrows)}
        if spec.holdout.naive:  # "the future looks like the fit window", beside the model
            rep["holdout"]["naive"] = naive_comparison(hrows, spec.holdout.naive)
    prov: dict[str, Any] = {"spec_hash": spec.hash, "git_commit": git_commit(),
                            "version": version(),
                            "seed": spec.seed, "n_runs": result.n_runs,
                            "elapsed_s": result.elapsed_s, "python": platform.python_version(),
                            "libraries": library_versions()}
    try:
        import optuna

        prov["optuna"] = optuna.__version__
    except ImportError:  # pragma: no cover
        pass
    if spec.simulator in CORE_SIMULATORS:
        try:
            prov["scenario_hash"] = build_scenario(spec.scenario, spec.overrides).hash
            prov["fitted_scenario_hash"] = build_scenario(
                spec.scenario, {**spec.overrides, **result.best}).hash
        except Exception:  # the report must not fail on provenance
            pass
    rep["provenance"] = prov
    rep["spec"] = to_dict(spec)
    return jsonable(rep)


def _target_figure(rows: Sequence[Mapping[str, Any]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.28 * n + 1.2)))
    y = np.arange(n)[::-1]
    tv = np.array([r["target"] for r in rows], dtype=float)
    sd = np.array([r["sd"] for r in rows], dtype=float)
    before = np.array([r["before"] for r in rows], dtype=float)
    after = np.array([r["after"] for r in rows], dtype=float)
    naive = np.array([r.get("naive", math.nan) for r in rows], dtype=float)
    mag = np.abs(tv[tv != 0])
    relative = mag.size > 0 and (mag.max() / mag.min() > 20 or mag.max() > 10)
    if relative and np.all(tv != 0):  # mixed scales: show everything relative to its target
        before, after, naive = before / tv, after / tv, naive / tv
        sd, tv = sd / np.abs(tv), np.ones_like(tv)
        ax.set_xlabel("value / target")
    else:
        ax.set_xlabel("value")
    ax.errorbar(tv, y, xerr=sd, fmt="s", color="black", ms=5, capsize=3, label="target ± sd")
    ax.plot(before, y, "o", mfc="none", color="0.5", label="before fit")
    ax.plot(after, y, "o", color="tab:red", label="after fit")
    if np.isfinite(naive).any():
        ax.plot(naive, y, "x", color="tab:blue", label="naive forecast (fit window)")
    ax.set_yticks(y, [r["key"] for r in rows], fontsize=7)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _param_figure(result: FitResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .fit import to_unit

    ps = result.spec.parameters
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ps) + 1.2))
    for i, p in enumerate(ps):
        lo, hi = result.intervals[p.key]
        ax.plot([to_unit(p, lo), to_unit(p, hi)], [i, i], color="tab:blue", lw=3)
        ax.plot(to_unit(p, result.best[p.key]), i, "o", color="tab:red")
        ax.annotate(f"{result.best[p.key]:.4g} [{lo:.3g}, {hi:.3g}]",
                    (1.02, i), va="center", fontsize=7, annotation_clip=False)
    ax.set_yticks(range(len(ps)), [p.key for p in ps], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within bounds (log scale for log parameters)")
    ax.set_title(f"fitted parameters, {result.spec.level:.0%} intervals")
    fig.tight_layout()
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def _history_figure(result: FitResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.trials.sort_values("trial")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(t["trial"], t["loss"], ".", color="0.6", label="trial")
    ax.plot(t["trial"], np.minimum.accumulate(t["loss"].to_numpy()), color="tab:red",
            label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (weighted sum of z²)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def write(result: FitResult, out: str | Path, figures: bool = True) -> dict[str, Any]:
    """Write every output file into ``out``; return the JSON report."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rep = build_report(result)
    (out / "fit.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    result.trials.to_csv(out / "trials.csv", index=False)
    (out / "fitted_scenario.toml").write_text(fitted_scenario_toml(result), encoding="utf-8")
    if figures:
        _target_figure(rep["targets"], f"{result.spec.name}: fit targets", out / "fit_targets.png")
        if "holdout" in rep:
            _target_figure(rep["holdout"]["targets"], f"{result.spec.name}: hold-out (not fitted)",
                           out / "holdout.png")
        _param_figure(result, out / "parameters.png")
        _history_figure(result, out / "history.png")
    return rep
