"""Run outputs for ``cityrisk run --out DIR``: data files and publication-quality figures.

:func:`write_outputs` writes, next to the case table the CLI streams to ``cases.parquet``:

* ``summary.json``   — the KPI dict with its provenance block (NaN written as ``null``);
* ``timeseries.csv`` — one row per simulated day (``model.timeseries()``);
* ``grids.csv``      — one row per map cell that holds a grid: row, col, district and the map layers;
* ``scenario.toml``  — the full scenario that was run (reload it with ``sim.load_scenario(path)``);
* four PNG figures: ``dashboard.png`` (KPIs over time), ``resolution_levels.png`` (where cases
  were resolved), ``time_to_resolution.png`` (distribution, from the case table) and
  ``escalation_map.png`` (escalations by grid, district borders).

Every figure is drawn from those files only, so :func:`redraw` (``python -m sim.outputs DIR``)
rebuilds them from a results folder without rerunning the model. Figures use matplotlib's
object API (no pyplot state), so they are safe in threads and in the browser app's process.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.patheffects as path_effects
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .params import LEVELS

if TYPE_CHECKING:
    from .model import CityModel

DPI = 150
ROLL = 7  # days in the rolling means of noisy daily series
LEVEL_COLOURS = ("#31a354", "#a1d99b", "#3182bd", "#9ecae1", "#9e9ac8", "#636363")
SEVERITY = (("minor", "#c6dbef"), ("intensified", "#fdae6b"), ("collective incident", "#e6550d"),
            ("major incident", "#a50f15"))
STAGES = (("latent (undetected)", "open_latent", "#d9d9d9"),
          ("reporting / in transit", "open_reporting", "#bcbddc"),
          ("queued", "open_queued", "#fd8d3c"), ("in service", "open_in_service", "#6baed6"))
TIME_TICKS = ((1, "1 h"), (8, "8 h"), (24, "1 d"), (72, "3 d"), (168, "1 wk"), (720, "30 d"),
              (2160, "90 d"), (8760, "1 yr"), (26280, "3 yr"))
MAP_LAYERS = ("escalations", "residents", "trust", "open_cases")
FIGURES = ("dashboard", "resolution_levels", "time_to_resolution", "escalation_map")
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.color": "#e5e5e5", "grid.linewidth": 0.6, "legend.fontsize": 8,
         "legend.frameon": False, "xtick.labelsize": 8, "ytick.labelsize": 8,
         "figure.facecolor": "white", "savefig.facecolor": "white"}


# ----------------------------------------------------------------------------- data files
def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays as Python values and non-finite floats as ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_summary(path: Path, kpis: Mapping[str, Any]) -> Path:
    """Write the KPI dict as strict JSON (``json.loads`` gives back ``jsonable(kpis)``)."""
    path.write_text(json.dumps(jsonable(kpis), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def grid_table(model: CityModel) -> pd.DataFrame:
    """One row per map cell holding a grid: row, col, district and the end-of-run map layers."""
    districts = model.district_of_cell
    rows, cols = np.nonzero(districts >= 0)
    out = pd.DataFrame({"row": rows, "col": cols, "district": districts[rows, cols]})
    for name in MAP_LAYERS:
        out[name] = model.grid_layer(name)[rows, cols]
    return out


def write_outputs(model: CityModel, out_dir: Path, kpis: dict[str, Any]) -> list[Path]:
    """Write summary.json, timeseries.csv, grids.csv, scenario.toml and the four figures.

    ``kpis`` is ``model.kpis()`` (its ``provenance`` block is added from the model if missing).
    The case table is not written here: it is read from ``out_dir/cases.parquet`` if present
    (streamed there by :class:`sim.cases.ParquetSink`); without it the time-to-resolution figure
    falls back to the model's binned resolution times. Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kpis = dict(kpis)
    if "provenance" not in kpis:
        kpis["provenance"] = model.kpis()["provenance"]
    kpis.setdefault("days", model.day)
    written = [write_summary(out_dir / "summary.json", kpis)]
    ts = model.timeseries()
    ts.to_csv(out_dir / "timeseries.csv", index=False)
    grids = grid_table(model)
    grids.to_csv(out_dir / "grids.csv", index=False)
    (out_dir / "scenario.toml").write_text(model.spec.to_toml(), encoding="utf-8")
    written += [out_dir / "timeseries.csv", out_dir / "grids.csv", out_dir / "scenario.toml"]
    hist = (np.asarray(model.kpi.hist), _hist_edges())
    shocks = list(model.spec.data["world"]["shocks"])
    written += draw_figures(out_dir, jsonable(kpis), ts, grids, shocks, hist)
    return written


def redraw(out_dir: Path) -> list[Path]:
    """Rebuild the figures of a results folder from its files (no model run)."""
    out_dir = Path(out_dir)
    kpis = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    ts = pd.read_csv(out_dir / "timeseries.csv")
    grids = pd.read_csv(out_dir / "grids.csv")
    shocks: list[dict[str, Any]] = []
    if (out_dir / "scenario.toml").exists():
        import tomllib

        world = tomllib.loads((out_dir / "scenario.toml").read_text(encoding="utf-8")).get("world", {})
        shocks = list(world.get("shocks", []))
    return draw_figures(out_dir, kpis, ts, grids, shocks, None)


def read_cases(path: Path) -> pd.DataFrame | None:
    """The closed-case table (only the columns the figures use), or None if there is none."""
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    cols = ["stage", "level", "category", "t_detect", "t_close"]
    return pq.read_table(path, columns=cols).to_pandas()


def draw_figures(out_dir: Path, kpis: Mapping[str, Any], ts: pd.DataFrame, grids: pd.DataFrame,
                 shocks: list[dict[str, Any]],
                 hist: tuple[np.ndarray, np.ndarray] | None = None) -> list[Path]:
    """Draw and save the four figures; returns their paths."""
    foot = footer(kpis)
    cases = read_cases(out_dir / "cases.parquet")
    paths = []
    with mpl.rc_context(STYLE):
        figs = {"dashboard": fig_dashboard(ts, kpis, shocks),
                "resolution_levels": fig_resolution_levels(ts, kpis),
                "time_to_resolution": fig_time_to_resolution(cases, kpis, hist),
                "escalation_map": fig_escalation_map(grids, kpis)}
        for name in FIGURES:
            fig = figs[name]
            fig.text(0.005, 0.004, foot, fontsize=6.5, color="#666666", ha="left", va="bottom")
            path = out_dir / f"{name}.png"
            fig.savefig(path, dpi=DPI, metadata={"Software": "cityrisk", "Description": foot})
            paths.append(path)
    return paths


# ----------------------------------------------------------------------------- helpers
def footer(kpis: Mapping[str, Any]) -> str:
    """Provenance line printed under every figure."""
    p = kpis.get("provenance") or {}
    commit = str(p.get("git_commit", "unknown"))
    dirty = commit.endswith("-dirty")
    commit = commit.removesuffix("-dirty")[:10] + (" (uncommitted changes)" if dirty else "")
    return (f"cityrisk {p.get('version', '?')} · scenario {p.get('scenario', '?')} "
            f"(hash {str(p.get('scenario_hash', '?'))[:12]}) · seed {p.get('seed', '?')} · "
            f"{kpis.get('days', '?')} simulated days · commit {commit}")


def _hist_edges() -> np.ndarray:
    from .kpis import EDGES

    return EDGES


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    # leave room at the bottom for the provenance footer
    fig.set_layout_engine("constrained", rect=(0, 0.03, 1, 0.97), h_pad=0.06, w_pad=0.06)
    return fig


def _title(fig: Figure, title: str, subtitle: str = "") -> None:
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=12, fontweight="bold",
                 x=0.01, ha="left")


def fmt_hours(h: float | None) -> str:
    """Hours with a days equivalent for long spans (``75.8 h (3.2 d)``)."""
    if h is None or not math.isfinite(h):
        return "n/a"
    return f"{h:.1f} h" if h < 48 else f"{h:,.0f} h ({h / 24:.1f} d)"


def _pct(x: Any) -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.1f}%"


def _rolling(s: pd.Series) -> pd.Series:
    return s.rolling(ROLL, min_periods=1).mean()


def _no_data(ax: Any, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#888888")


def _shade_shocks(ax: Any, shocks: list[dict[str, Any]], label: bool) -> None:
    for i, s in enumerate(shocks):
        ax.axvspan(s["start_day"] - 0.5, s["start_day"] + s["days"] - 0.5, color="#fee8c8", zorder=0,
                   lw=0, label=("shock period" if label and i == 0 else None))


def _time_axis(ax: Any, lo: float, hi: float) -> None:
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [(t, lab) for t, lab in TIME_TICKS if lo <= t <= hi]
    if len(ticks) >= 2:
        ax.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks])
        ax.xaxis.set_minor_locator(mticker.NullLocator())


# ----------------------------------------------------------------------------- (a) dashboard
def fig_dashboard(ts: pd.DataFrame, kpis: Mapping[str, Any], shocks: list[dict[str, Any]]) -> Figure:
    """KPI dashboard: 3 × 3 small multiples over simulated days."""
    fig = _new_figure(13, 9.5)
    axes = fig.subplots(3, 3, sharex=True)
    cost = kpis.get("staff_cost")
    _title(fig, "KPI dashboard over time",
           f"{kpis.get('cases_total', 0):,} cases · {_pct(kpis.get('resolved_share'))} resolved · "
           f"{_pct(kpis.get('escalated_share'))} reached collective-incident severity · safety index "
           f"{kpis.get('safety_index') or float('nan'):.1f} · staff cost "
           f"{(cost or 0) / 1e6:,.1f} million yuan · thin lines daily, thick lines {ROLL}-day means")
    if ts.empty:
        for ax in axes.flat:
            _no_data(ax)
        return fig
    day = ts["day"].to_numpy()

    def line(ax: Any, col: str, label: str, colour: str, roll: bool = True, scale: float = 1.0) -> None:
        if col not in ts:
            return
        y = ts[col] * scale
        if roll:
            ax.plot(day, y, color=colour, lw=0.6, alpha=0.35)
            ax.plot(day, _rolling(y), color=colour, lw=1.8, label=label)
        else:
            ax.plot(day, y, color=colour, lw=1.8, label=label)

    def stack(ax: Any, cols: list[str], labels: list[str], colours: list[str]) -> None:
        present = [(c, lab, col) for c, lab, col in zip(cols, labels, colours, strict=True) if c in ts]
        ax.stackplot(day, *[ts[c] for c, _, _ in present], labels=[lab for _, lab, _ in present],
                     colors=[col for _, _, col in present], lw=0)
        ax.legend(loc="upper left", reverse=True)

    panels = list(axes.flat)
    for i, ax in enumerate(panels):
        _shade_shocks(ax, shocks, label=i == 0)
    ax = panels[0]
    line(ax, "new_cases", "new (emerged)", "#636363")
    line(ax, "detected", "detected", "#3182bd")
    line(ax, "resolved", "resolved", "#31a354")
    ax.set(title="Case flow", ylabel="cases per day")
    ax.legend(loc="lower right")
    stack(panels[1], [c for _, c, _ in STAGES], [n for n, _, _ in STAGES], [k for _, _, k in STAGES])
    panels[1].set(title="Open cases by stage", ylabel="open cases (end of day)")
    stack(panels[2], [f"open_severity_{s}" for s in range(4)], [n for n, _ in SEVERITY],
          [k for _, k in SEVERITY])
    panels[2].set(title="Open cases by severity", ylabel="open cases (end of day)")
    line(panels[3], "escalations", "severity steps", "#e6550d")
    panels[3].set(title="Escalations", ylabel="severity escalations per day")
    line(panels[4], "escalated_share", "to date", "#a50f15", roll=False, scale=100)
    panels[4].set(title="Share reaching collective-incident severity", ylabel="% of cases so far")
    line(panels[5], "median_hours_to_resolution", "to date", "#756bb1", roll=False)
    panels[5].set(title="Median time to resolution", ylabel="hours (detection → resolution)")
    line(panels[6], "mean_trust", "mean trust", "#2b8cbe", roll=False)
    panels[6].set(title="Trust in government", ylabel="mean resident trust (0–1)")
    line(panels[7], "safety_index", "safety index", "#238b45", roll=False)
    panels[7].set(title="Safety index", ylabel="index (0–100)")
    line(panels[8], "staff_utilisation", "to date", "#8c6d31", roll=False, scale=100)
    panels[8].set(title="Staff utilisation (excl. court)", ylabel="% of handler time, to date")
    for ax in panels[6:]:
        ax.set_xlabel("simulated day")
    for ax in panels[3:6] + panels[8:]:
        ax.set_ylim(bottom=0)
    if shocks:
        panels[0].legend(loc="lower right")
    return fig


# ----------------------------------------------------------------------------- (b) levels
def fig_resolution_levels(ts: pd.DataFrame, kpis: Mapping[str, Any]) -> Figure:
    """Where cases were resolved: share by level (bars) and resolutions per day by level (area)."""
    fig = _new_figure(12, 4.8)
    ax_bar, ax_ts = fig.subplots(1, 2, width_ratios=(1, 1.6))
    shares = kpis.get("resolved_by_level") or {}
    n_res = kpis.get("cases_resolved") or 0
    _title(fig, "Where cases were resolved",
           f"{n_res:,} cases resolved · {_pct(kpis.get('grassroots_resolution_share'))} at grassroots "
           "level (grid, community or street)")
    y = np.arange(len(LEVELS))
    vals = np.array([float(shares.get(lv) or 0.0) for lv in LEVELS]) * 100
    ax_bar.barh(y, vals, color=LEVEL_COLOURS, edgecolor="#555555", lw=0.4)
    for yi, v in zip(y, vals, strict=True):
        ax_bar.text(v + 1, yi, f"{v:.1f}% ({round(v / 100 * n_res):,})", va="center", fontsize=8)
    ax_bar.set_yticks(y, [lv.capitalize() for lv in LEVELS])
    ax_bar.invert_yaxis()
    ax_bar.set_xlim(0, max(100.0, vals.max() + 25) if vals.size else 100)
    ax_bar.axhline(2.5, color="#333333", lw=0.8, ls="--")
    ax_bar.text(ax_bar.get_xlim()[1], 2.45, "grassroots above ▲   above the street ▼", ha="right",
                va="bottom", fontsize=7, color="#333333")
    ax_bar.set(title="Share of resolved cases by level", xlabel="% of resolved cases")
    ax_bar.grid(axis="y", visible=False)
    cols = [f"resolved_at_{lv}" for lv in LEVELS]
    if ts.empty or not all(c in ts for c in cols):
        _no_data(ax_ts)
        return fig
    per_day = ts[cols].diff().fillna(ts[cols].iloc[0]).clip(lower=0)
    ax_ts.stackplot(ts["day"], *[_rolling(per_day[c]) for c in cols], colors=LEVEL_COLOURS,
                    labels=[lv.capitalize() for lv in LEVELS], lw=0)
    ax_ts.legend(loc="upper left", reverse=True, ncols=2)
    ax_ts.set(title=f"Resolutions per day by level ({ROLL}-day mean, stacked)",
              xlabel="simulated day", ylabel="cases resolved per day")
    ax_ts.set_ylim(bottom=0)
    return fig


# ----------------------------------------------------------------------------- (c) resolution time
def fig_time_to_resolution(cases: pd.DataFrame | None, kpis: Mapping[str, Any],
                           hist: tuple[np.ndarray, np.ndarray] | None) -> Figure:
    """Distribution of hours from detection to resolution: histogram by level and ECDF by category."""
    fig = _new_figure(12, 4.8)
    title = "Time from detection to resolution"
    if cases is None or not (cases["stage"] == 4).any():
        ax = fig.subplots()
        _title(fig, title, "case table (cases.parquet) not available: binned times from the model")
        if hist is None or hist[0].sum() == 0:
            _no_data(ax, "no resolved cases")
            return fig
        counts, edges = hist
        k = 50  # merge the fine KPI bins into coarser ones
        counts = np.add.reduceat(counts, np.arange(0, counts.size, k))
        lo = edges[::k][: counts.size]
        hi = np.append(edges[::k][1: counts.size], edges[-1])
        nz = np.flatnonzero(counts)
        sl = slice(nz[0], nz[-1] + 1)
        ax.bar(lo[sl], counts[sl], width=hi[sl] - lo[sl], align="edge", color="#9ecae1", ec="#3182bd")
        _time_axis(ax, lo[sl][0], hi[sl][-1])
        _mark_quantiles(ax, kpis.get("median_hours_to_resolution"), kpis.get("p90_hours_to_resolution"))
        ax.set(xlabel="time from detection to resolution (log scale)", ylabel="resolved cases per bin")
        return fig
    res = cases[cases["stage"] == 4]
    hours = np.maximum((res["t_close"] - res["t_detect"]).to_numpy(), 0.05)
    level = res["level"].to_numpy()
    med, p90 = np.quantile(hours, [0.5, 0.9])
    n_open = max(int(kpis.get("cases_total") or 0) - len(cases), 0)
    _title(fig, title, f"{hours.size:,} resolved cases · median {fmt_hours(med)} · p90 "
           f"{fmt_hours(p90)} · not shown: {(cases['stage'] == 5).sum():,} faded undetected, "
           f"{(cases['stage'] == 6).sum():,} failed at court, {n_open:,} still open at the end")
    ax_h, ax_c = fig.subplots(1, 2, width_ratios=(1.5, 1))
    lo, hi = max(hours.min(), 0.05), hours.max() * 1.05
    bins = np.geomspace(lo, hi, 60) if hi > lo * 1.01 else np.geomspace(lo / 2, lo * 2, 10)
    parts = [hours[level == i] for i in range(len(LEVELS))]
    ax_h.hist(parts, bins=bins, stacked=True, color=LEVEL_COLOURS, ec="none",
              label=[f"{lv.capitalize()} ({p.size:,})" for lv, p in zip(LEVELS, parts, strict=True)])
    _time_axis(ax_h, bins[0], bins[-1])
    _mark_quantiles(ax_h, med, p90)
    ax_h.legend(loc="upper left", title="resolved at", title_fontsize=8)
    ax_h.set(title="Histogram, stacked by the level that resolved the case",
             xlabel="time from detection to resolution (log scale)", ylabel="resolved cases per bin")
    names = list((kpis.get("by_category") or {}).keys())
    cat = res["category"].to_numpy()
    palette = mpl.colormaps["tab10"]
    for c in np.unique(cat):
        x = np.sort(hours[cat == c])
        name = names[c] if c < len(names) else f"category {c}"
        ax_c.step(x, np.arange(1, x.size + 1) / x.size * 100, where="post", lw=1.4,
                  color=palette(int(c) % 10), label=f"{name.replace('_', ' ')} ({x.size:,})")
    x = np.sort(hours)
    ax_c.step(x, np.arange(1, x.size + 1) / x.size * 100, where="post", lw=2.2, color="black",
              label=f"all ({x.size:,})")
    for t in (24, 168, 720):
        if bins[0] < t < bins[-1]:
            ax_c.axvline(t, color="#999999", lw=0.7, ls=":")
    _time_axis(ax_c, bins[0], bins[-1])
    ax_c.set_ylim(0, 100)
    ax_c.legend(loc="upper left", fontsize=7)
    ax_c.set(title="Cumulative share by category", xlabel="time from detection to resolution (log scale)",
             ylabel="% of resolved cases resolved within")
    return fig


def _mark_quantiles(ax: Any, med: float | None, p90: float | None) -> None:
    for q, name, ls in ((med, "median", "-"), (p90, "p90", "--")):
        if q is not None and math.isfinite(q):
            ax.axvline(q, color="black", lw=1.1, ls=ls)
            ax.text(q, 0.97, f" {name} {fmt_hours(q)}", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", fontsize=8, rotation=90)


# ----------------------------------------------------------------------------- (d) map
def _border_segments(districts: np.ndarray) -> list[list[tuple[float, float]]]:
    """Line segments between map cells of different districts (and around the city edge)."""
    d = np.pad(districts, 1, constant_values=-1)
    segs: list[list[tuple[float, float]]] = []
    r, c = np.nonzero(d[:, 1:] != d[:, :-1])  # vertical edges between (r, c) and (r, c + 1)
    segs += [[(cc - 0.5, rr - 1.5), (cc - 0.5, rr - 0.5)] for rr, cc in zip(r, c, strict=True)]
    r, c = np.nonzero(d[1:, :] != d[:-1, :])  # horizontal edges between (r, c) and (r + 1, c)
    segs += [[(cc - 1.5, rr - 0.5), (cc - 0.5, rr - 0.5)] for rr, cc in zip(r, c, strict=True)]
    return segs


def fig_escalation_map(grids: pd.DataFrame, kpis: Mapping[str, Any]) -> Figure:
    """Map of severity escalations per grid over the run, district borders drawn, plus per-district rates."""
    rows, cols = int(grids["row"].max()) + 1, int(grids["col"].max()) + 1
    esc = np.full((rows, cols), np.nan)
    esc[grids["row"], grids["col"]] = grids["escalations"]
    dist = np.full((rows, cols), -1)
    dist[grids["row"], grids["col"]] = grids["district"]
    n_dist = int(grids["district"].nunique())
    side = 1 < n_dist <= 40
    aspect = cols / max(rows, 1)
    fig = _new_figure(min(max(5.5 * aspect + (4.2 if side else 1.5), 7.5), 15), 6.2)
    total = float(np.nansum(esc))
    top = np.sort(grids["escalations"].to_numpy())[::-1]
    k = max(1, round(0.1 * top.size))
    conc = top[:k].sum() / total if total else float("nan")
    _title(fig, "Where cases escalated: severity escalations by grid",
           f"{total:,.0f} escalation steps in {top.size:,} grids · the 10% worst grids hold "
           f"{_pct(conc)} of them · one cell = one grid · black lines = district borders")
    ax_m, ax_b = fig.subplots(1, 2, width_ratios=(max(aspect, 0.6) * 2.2, 1)) if side else (
        fig.subplots(), None)
    cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#f0f0f0")
    im = ax_m.imshow(esc, cmap=cmap, vmin=0, vmax=max(np.nanmax(esc), 1), interpolation="nearest")
    ax_m.add_collection(LineCollection(_border_segments(dist), colors="black", linewidths=1.2))
    if n_dist <= 40:
        for d in np.unique(grids["district"]):
            g = grids[grids["district"] == d]
            ax_m.text(g["col"].mean(), g["row"].mean(), f"D{d}", ha="center", va="center",
                      fontsize=9, fontweight="bold", color="#08306b",
                      path_effects=[path_effects.withStroke(linewidth=2.5, foreground="white")])
    ax_m.set(xticks=[], yticks=[], title="Escalations per grid, whole run")
    ax_m.grid(False)
    for s in ax_m.spines.values():
        s.set_visible(False)
    fig.colorbar(im, ax=ax_m, shrink=0.8, label="severity escalations per grid (count)")
    if ax_b is not None:
        by = grids.groupby("district").agg(esc=("escalations", "sum"), res=("residents", "sum"))
        rate = by["esc"] / by["res"].clip(lower=1) * 1000
        ax_b.barh([f"D{d}" for d in by.index], rate, color="#fc8d59", ec="#b30000", lw=0.4)
        ax_b.invert_yaxis()
        ax_b.axvline(total / max(grids["residents"].sum(), 1) * 1000, color="black", lw=0.9, ls="--",
                     label="city")
        ax_b.legend(loc="lower right")
        ax_b.set(title="By district", xlabel="escalations per 1,000 residents")
        ax_b.grid(axis="y", visible=False)
    return fig


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.outputs DIR``: redraw the figures of a results folder."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.outputs RESULTS_DIR", file=sys.stderr)
        return 2
    for p in redraw(Path(args[0])):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
