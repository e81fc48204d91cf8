"""Analysis of a sweep store: per-point summaries with confidence intervals, Sobol / Morris
indices when the design is one, PRIM scenario discovery, and figures (see :mod:`.figures`).

KPI names asked for are checked against the sweep's columns and the outcomes registry
(:mod:`sim.outcomes.registry`), which also gives each analysed KPI its label, unit and the
direction that is better; a custom evaluator's outputs are analysed under their own names.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..outcomes import registry
from .designs import Design, build_design, salib_problem
from .spec import SweepSpec, parse_spec
from .store import Store

__all__ = ["Results", "analyze", "analyze_store", "load_results", "prim", "sensitivity",
           "summarize"]

_META = {"run_id", "point_id", "replication", "seed", "wall_seconds"}
DEFAULT_KPIS = ("escalated_share", "collective_incidents", "median_hours_to_resolution",
                "staff_cost", "mean_trust", "backlog")


@dataclass
class Results:
    """A loaded sweep: manifest, spec, design points and one row per finished run."""

    store: Store
    manifest: dict[str, Any]
    spec: SweepSpec
    points: pd.DataFrame
    runs: pd.DataFrame

    @property
    def params(self) -> list[str]:
        """Varied parameter columns, in design order."""
        return list(self.manifest.get("parameters", []))

    @property
    def kpis(self) -> list[str]:
        """KPI columns (numeric, neither ids nor parameters)."""
        skip = _META | set(self.params)
        return [c for c in self.runs.columns
                if c not in skip and pd.api.types.is_numeric_dtype(self.runs[c])]

    @property
    def missing(self) -> int:
        """Planned runs without a row."""
        return int(self.manifest.get("total_runs", 0)) - len(self.runs)

    def design(self) -> Design:
        """The design rebuilt from the stored spec (deterministic)."""
        return build_design(self.spec.design)

    def to_xarray(self) -> Any:
        """The runs as an ``xarray.Dataset``: one variable per KPI over ``(point_id,
        replication)`` (plus ``seed`` and ``run_id``), the varied parameters as coordinates along
        ``point_id`` and the sweep's identity (name, spec hash, version, commit) in ``attrs``.
        A missing run is NaN. Needs xarray (the ``sweep`` extra)."""
        try:
            import xarray as xr
        except ModuleNotFoundError:
            from sim.extras import MissingExtra

            raise MissingExtra("sweep", "xarray", "Results.to_xarray()") from None
        cols = [*self.kpis, "seed", "run_id"]
        frame = self.runs.set_index(["point_id", "replication"])[cols]
        ds = xr.Dataset.from_dataframe(frame)
        pts = self.points.set_index("point_id").reindex(ds["point_id"].to_numpy())
        ds = ds.assign_coords({p: ("point_id", pts[p].to_numpy()) for p in self.params if p in pts})
        m = self.manifest
        ds.attrs.update({k: "" if m.get(k) is None else str(m.get(k)) for k in (
            "name", "spec_hash", "scenario", "scenario_hash", "version", "git_commit", "root_seed")})
        for name in self.kpis:
            if registry.is_declared(name):
                ds[name].attrs.update(long_name=registry.label(name), units=registry.unit(name))
        return ds

    def default_kpis(self) -> list[str]:
        """KPIs to plot: ``[analysis] kpis`` from the spec, else a standard short list."""
        wanted = self.spec.analysis.get("kpis") or [k for k in DEFAULT_KPIS if k in self.kpis]
        return [k for k in wanted if k in self.kpis] or self.kpis[:4]


def load_results(path: str | Path) -> Results:
    """Open a sweep store for analysis."""
    store = Store(path)
    manifest = store.read_manifest()
    spec = parse_spec(manifest["spec"], manifest.get("spec_path"), field_lookup=None)
    return Results(store, manifest, spec, store.read_points(), store.read_runs())


def summarize(runs: pd.DataFrame, params: list[str], kpis: list[str],
              confidence: float = 0.95) -> pd.DataFrame:
    """Per point and KPI: n, mean, std and a Student-t confidence interval of the mean."""
    from scipy import stats

    g = runs.groupby("point_id", sort=True)
    first = g[params].first() if params else pd.DataFrame(index=g.size().index)
    out = []
    for k in kpis:
        agg = g[k].agg(["count", "mean", "std"])
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(agg["count"] - 1, 1)) * (
            agg["std"] / np.sqrt(agg["count"]))
        half = half.where(agg["count"] > 1)
        df = first.copy()
        df["kpi"] = k
        df["n"] = agg["count"].astype(int)
        df["mean"], df["std"] = agg["mean"], agg["std"]
        df["ci_lo"], df["ci_hi"] = agg["mean"] - half, agg["mean"] + half
        out.append(df.reset_index())
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def point_means(res: Results, kpi: str) -> np.ndarray:
    """Mean of ``kpi`` per design point (over replications), in point order; NaN if missing."""
    m = res.runs.groupby("point_id")[kpi].mean()
    return m.reindex(range(len(res.points))).to_numpy(dtype=float)


def sensitivity(res: Results, kpi: str, seed: int = 0) -> pd.DataFrame | None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of ``kpi``; None for other designs."""
    kind = res.spec.design.kind
    if kind not in ("sobol", "morris"):
        return None
    y = point_means(res, kpi)
    if np.isnan(y).any():
        raise ValueError(f"{kpi}: {int(np.isnan(y).sum())} design points have no runs yet; "
                         "finish the sweep (--resume) before computing indices")
    problem = salib_problem(res.spec.design)
    if np.ptp(y) == 0:
        z = np.zeros(problem["num_vars"])
        cols = ("S1", "S1_conf", "ST", "ST_conf") if kind == "sobol" else (
            "mu_star", "mu_star_conf", "sigma", "mu")
        return pd.DataFrame({"parameter": problem["names"], **{c: z for c in cols}})
    if kind == "sobol":
        from SALib.analyze import sobol

        si = sobol.analyze(problem, y, calc_second_order=res.spec.design.second_order,
                           seed=seed)
        return pd.DataFrame({"parameter": problem["names"], "S1": si["S1"],
                             "S1_conf": si["S1_conf"], "ST": si["ST"], "ST_conf": si["ST_conf"]})
    from SALib.analyze import morris

    si = morris.analyze(problem, res.design().raw, y, num_levels=res.spec.design.levels,
                        seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "mu_star": si["mu_star"],
                         "mu_star_conf": si["mu_star_conf"], "sigma": si["sigma"],
                         "mu": si["mu"]})


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_support: float = 0.05,
         min_coverage: float = 0.5) -> dict[str, Any]:
    """Patient Rule Induction Method (peeling): a box in ``x`` where ``y`` (bool) is dense.

    Peels ``alpha`` of the points off one side of one parameter at a time, always the peel that
    raises the share of ``y`` inside most, until the box holds ``min_support`` of the points.
    Returns the densest box on the trajectory whose coverage (share of all ``y`` inside) is at
    least ``min_coverage``, with its limits, density, coverage and support.
    """
    y = np.asarray(y, dtype=bool)
    n, total = len(y), max(int(y.sum()), 1)
    inside = np.ones(n, dtype=bool)
    limits = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}

    def stats_(mask: np.ndarray) -> dict[str, float]:
        return {"density": float(y[mask].mean()) if mask.any() else 0.0,
                "coverage": float(y[mask].sum() / total), "support": float(mask.mean())}

    traj: list[dict[str, Any]] = [{"limits": dict(limits), **stats_(inside)}]
    while inside.mean() > min_support:
        best: tuple[float, np.ndarray, str, tuple[float, float]] | None = None
        for c in x.columns:
            v = x[c].to_numpy(dtype=float)
            vin = v[inside]
            for side in ("lo", "hi"):
                q = np.quantile(vin, alpha if side == "lo" else 1 - alpha)
                keep = v >= q if side == "lo" else v <= q
                if (keep & inside).sum() == inside.sum():  # ties: drop the extreme value
                    ext = vin.min() if side == "lo" else vin.max()
                    keep = v > ext if side == "lo" else v < ext
                new = inside & keep
                if not new.any() or new.sum() == inside.sum():
                    continue
                d = float(y[new].mean())
                if best is None or d > best[0]:
                    lo, hi = limits[c]
                    lim = (float(v[new].min()), hi) if side == "lo" else (lo, float(v[new].max()))
                    best = (d, new, c, lim)
        if best is None or best[0] <= traj[-1]["density"] and best[0] < 1.0:
            break
        inside = best[1]
        limits[best[2]] = best[3]
        traj.append({"limits": dict(limits), **stats_(inside)})
        if best[0] >= 1.0:
            break
    ok = [t for t in traj if t["coverage"] >= min_coverage] or traj[:1]
    box = max(ok, key=lambda t: (t["density"], t["coverage"]))
    full = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    box = dict(box)
    box["restricted"] = {c: v for c, v in box["limits"].items() if v != full[c]}
    box["trajectory"] = traj
    return box


def analyze_store(path: str | Path, out: str | Path | None = None, kpis: list[str] | None = None,
            confidence: float | None = None, figures: bool = True,
            prim_opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write summaries, indices, PRIM boxes and figures for the store at ``path``.

    Returns a dict of what was computed (paths, missing runs, indices, PRIM box).
    """
    res = load_results(path)
    outdir = Path(out) if out else res.store.root / "analysis"
    outdir.mkdir(parents=True, exist_ok=True)
    conf = float(confidence or res.spec.analysis.get("confidence", 0.95))
    for k in [*(kpis or []), *([prim_opts["kpi"]] if prim_opts and "kpi" in prim_opts else [])]:
        check_kpi(k, res.kpis)
    ks = [k for k in (kpis or res.default_kpis()) if k in res.kpis]
    report: dict[str, Any] = {"store": str(res.store.root), "runs": len(res.runs),
                              "missing": res.missing, "kpis": ks, "outdir": str(outdir),
                              "outcomes": {k: outcome_meta(k) for k in ks}}
    if res.runs.empty:
        return report
    summary = summarize(res.runs, res.params, res.kpis, conf)
    summary.to_csv(outdir / "summary.csv", index=False)
    report["summary"] = str(outdir / "summary.csv")
    sens: dict[str, pd.DataFrame] = {}
    if res.spec.design.kind in ("sobol", "morris") and res.missing == 0:
        for k in ks:
            df = sensitivity(res, k)
            if df is not None:
                df.to_csv(outdir / f"sensitivity_{_safe(k)}.csv", index=False)
                sens[k] = df
    report["sensitivity"] = {k: v.to_dict(orient="list") for k, v in sens.items()}
    popts = dict(res.spec.analysis.get("prim", {}))
    popts.update(prim_opts or {})
    if popts.get("kpi") in res.kpis and "threshold" in popts:
        y = point_means(res, popts["kpi"])
        below = popts.get("direction", "below") == "below"
        hit = y <= popts["threshold"] if below else y >= popts["threshold"]
        ok = ~np.isnan(y)
        box = prim(res.points.loc[ok, res.params], hit[ok],
                   min_coverage=float(popts.get("min_coverage", 0.5)))
        box.update(kpi=popts["kpi"], threshold=popts["threshold"],
                   direction="below" if below else "above",
                   hit_is=hit_verdict(popts["kpi"], below))
        (outdir / "prim.json").write_text(json.dumps(box, indent=2), encoding="utf-8")
        report["prim"] = {k: v for k, v in box.items() if k != "trajectory"}
    if figures:
        from .figures import draw_all

        report["figures"] = [str(p) for p in draw_all(res, summary, ks, sens, outdir)]
    return report


analyze = analyze_store  # ``sim.sweep.analyze.analyze``; the package exports analyze_store


def check_kpi(key: str, columns: list[str]) -> None:
    """Raise ValueError naming ``key`` when the sweep has no such KPI column."""
    if key in columns:
        return
    if registry.is_declared(key):
        raise ValueError(f"KPI {key!r}: a declared outcome, but this sweep's runs did not record "
                         f"it (they have: {', '.join(columns)})")
    near = difflib.get_close_matches(key, columns, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else f" (KPIs: {', '.join(columns)})"
    raise ValueError(f"KPI {key!r}: not a KPI of this sweep{hint}")


def outcome_meta(key: str) -> dict[str, str]:
    """Label, unit and better direction of a KPI from the registry (neutral if undeclared)."""
    return {"label": registry.label(key), "unit": registry.unit(key),
            "direction": registry.direction(key).value}


def hit_verdict(key: str, below: bool) -> str:
    """Whether PRIM's "hit" (the KPI below / above the threshold) is the good or the bad side."""
    sign = registry.direction(key).sign
    if sign == 0:
        return "neither"
    return "good" if (sign < 0) == below else "bad"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
