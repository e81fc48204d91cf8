"""Figures for ``cityrisk analyze``: KPI against lever with confidence bands, scatter plots for
sampled designs, and sensitivity bars (Sobol S1/ST, Morris mu*). KPI axes and panel titles use the
outcomes registry's labels, units and directions; a custom evaluator's outputs keep their names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..outcomes import registry

if TYPE_CHECKING:
    from .analyze import Results

__all__ = ["draw_all", "kpi_axis_label", "plot_lines", "plot_scatter", "plot_sensitivity"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(key: str) -> str:
    return key.split(".", 1)[1] if key.startswith(("levers.", "world.")) else key


ARROW = {1: " ↑ better", -1: " ↓ better", 0: ""}


def kpi_axis_label(key: str) -> str:
    """Axis label of a KPI: registry label, unit and which way is better (the key if undeclared)."""
    if not registry.is_declared(key):
        return key
    o = registry.get(key)
    return f"{registry.label(key)} [{registry.UNITS[o.unit]['en']}]{ARROW[o.direction.sign]}"


def plot_lines(summary: pd.DataFrame, x: str, kpis: list[str], path: Path,
               hue: str | None = None, title: str = "") -> Path:
    """One panel per KPI: mean against ``x`` with the CI as a band (a line per ``hue`` value)."""
    plt = _plt()
    n = len(kpis)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, k in zip(axes.flat, kpis, strict=False):
        s = summary[summary["kpi"] == k]
        groups = [(None, s)] if hue is None else list(s.groupby(hue))
        for val, g in groups:
            g = g.sort_values(x)
            lab = None if hue is None else f"{_label(hue)}={val:g}"
            (line,) = ax.plot(g[x], g["mean"], marker="o", ms=3, label=lab)
            if g["ci_lo"].notna().any():
                ax.fill_between(g[x], g["ci_lo"], g["ci_hi"], alpha=0.25, color=line.get_color(),
                                lw=0)
        ax.set_xlabel(_label(x))
        ax.set_ylabel(kpi_axis_label(k), fontsize=8)
        ax.grid(alpha=0.3)
        if hue is not None:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def plot_scatter(summary: pd.DataFrame, params: list[str], kpis: list[str], path: Path,
                 title: str = "") -> Path:
    """Point means of each KPI (rows) against each parameter (columns), with a binned mean."""
    plt = _plt()
    fig, axes = plt.subplots(len(kpis), len(params), squeeze=False,
                             figsize=(3.0 * len(params), 2.6 * len(kpis)))
    for i, k in enumerate(kpis):
        s = summary[summary["kpi"] == k]
        for j, p in enumerate(params):
            ax = axes[i, j]
            ax.scatter(s[p], s["mean"], s=8, alpha=0.5)
            if s[p].nunique() > 8:
                bins = pd.cut(s[p], 8)
                m = s.groupby(bins, observed=True)["mean"].mean()
                ax.plot([b.mid for b in m.index], m.to_numpy(), color="k", lw=1.5)
            if i == len(kpis) - 1:
                ax.set_xlabel(_label(p))
            if j == 0:
                ax.set_ylabel(kpi_axis_label(k), fontsize=7)
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sensitivity(sens: dict[str, pd.DataFrame], path: Path, title: str = "") -> Path:
    """Bars per parameter: Sobol S1 and ST (with CIs) or Morris mu* (with CI), one panel per KPI."""
    plt = _plt()
    n = len(sens)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.4), squeeze=False)
    for ax, (k, df) in zip(axes.flat, sens.items(), strict=True):
        y = np.arange(len(df))
        labels = [_label(p) for p in df["parameter"]]
        if "S1" in df:
            ax.barh(y - 0.2, df["S1"], 0.4, xerr=df["S1_conf"], label="S1 (first order)")
            ax.barh(y + 0.2, df["ST"], 0.4, xerr=df["ST_conf"], label="ST (total)")
            ax.set_xlabel("Sobol index")
            ax.legend(fontsize=7)
        else:
            ax.barh(y, df["mu_star"], 0.6, xerr=df["mu_star_conf"])
            ax.set_xlabel("Morris mu* (mean |elementary effect|)")
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_title(registry.label(k), fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def draw_all(res: Results, summary: pd.DataFrame, kpis: list[str],
             sens: dict[str, pd.DataFrame], outdir: Path) -> list[Path]:
    """The standard figures for this design; returns the files written."""
    out: list[Path] = []
    params = res.params
    if not kpis or not params:
        return out
    title = res.spec.name
    x = res.spec.analysis.get("x") or params[0]
    varied = [p for p in params if res.points[p].nunique() > 1]
    gridlike = res.spec.design.kind in ("grid", "list") and len(varied) <= 2
    if gridlike and x in params:
        others = [p for p in varied if p != x]
        hue = others[0] if others and res.points[others[0]].nunique() <= 8 else None
        if not others or hue is not None:
            out.append(plot_lines(summary, x, kpis, outdir / "kpis_vs_lever.png", hue, title))
    if not out:
        out.append(plot_scatter(summary, varied or params, kpis, outdir / "kpis_scatter.png",
                                title))
    if sens:
        out.append(plot_sensitivity(sens, outdir / "sensitivity.png", title))
    return out
