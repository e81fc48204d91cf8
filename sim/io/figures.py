"""The four figures of a run's results folder (see :mod:`sim.io.outputs`), drawn from plain data.

Each function takes the data the results folder holds (time series, summary KPIs, the grid table,
the case table) and returns a matplotlib :class:`~matplotlib.figure.Figure` built with the object
API (no pyplot state), with a title, a subtitle of headline numbers, axis labels with units and a
provenance footer. :func:`make_figures` draws all four under one style.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any, cast

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..engine.levels import LEVELS
from ..outcomes import registry
from .mapdraw import district_label, draw_districts, font_families

DPI = 150
ROLL = 7  # days in the rolling means of noisy daily series
LEVEL_COLOURS = ("#31a354", "#a1d99b", "#3182bd", "#9ecae1", "#9e9ac8", "#636363")
SEVERITY_COLOURS = ("#c6dbef", "#fdae6b", "#e6550d", "#a50f15")
STAGES = (("open_latent", "#d9d9d9"), ("open_reporting", "#bcbddc"), ("open_queued", "#fd8d3c"),
          ("open_in_service", "#6baed6"))
TIME_TICKS = ((1 / 60, "1 min"), (10 / 60, "10 min"), (1, "1 h"), (8, "8 h"), (24, "1 d"),
              (72, "3 d"), (168, "1 wk"), (720, "30 d"), (2160, "90 d"), (8760, "1 yr"),
              (26280, "3 yr"))
XLABEL = "time from detection to resolution (log scale)"
MAX_NAMED_CATEGORIES = 8  # categories named in a legend; the rest drawn grey under one entry
STYLE: dict[mpl.typing.RcKeyType, Any]  # the rc keys matplotlib knows (its stubs check them)
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "axes.axisbelow": True, "grid.color": "#e5e5e5", "grid.linewidth": 0.6,
         "legend.fontsize": 8, "legend.frameon": False, "xtick.labelsize": 8, "ytick.labelsize": 8,
         "figure.facecolor": "white", "savefig.facecolor": "white"}


def make_figures(kpis: Mapping[str, Any], ts: pd.DataFrame, grids: pd.DataFrame,
                 shocks: list[dict[str, Any]], cases: pd.DataFrame | None,
                 hist: tuple[np.ndarray, np.ndarray] | None = None,
                 districts: Mapping[str, Any] | None = None) -> dict[str, Figure]:
    """All four figures, keyed by file stem, each with the provenance footer.

    ``hist`` = (counts, edges) of resolution hours, used when there is no case table;
    ``districts`` = names and outlines of a real map (``districts.json``), else None.
    """
    foot = footer(kpis)
    with mpl.rc_context({**STYLE, **({'font.family': font_families()} if districts else {})}):
        figs = {"dashboard": fig_dashboard(ts, kpis, shocks),
                "resolution_levels": fig_resolution_levels(ts, kpis),
                "time_to_resolution": fig_time_to_resolution(cases, kpis, hist),
                "escalation_map": fig_escalation_map(grids, kpis, districts)}
        for fig in figs.values():
            fig.text(0.005, 0.004, foot, fontsize=6.5, color="#666666", ha="left", va="bottom")
    return figs


def footer(kpis: Mapping[str, Any]) -> str:
    """Provenance line printed under every figure."""
    p = kpis.get("provenance") or {}
    commit = str(p.get("git_commit") or "")
    dirty = commit.endswith("-dirty")
    commit = commit.removesuffix("-dirty")[:10] + (" (uncommitted changes)" if dirty else "")
    return (f"cityrisk {p.get('version', '?')} · scenario {p.get('scenario', '?')} "
            f"(hash {str(p.get('scenario_hash', '?'))[:12]}) · seed {p.get('seed', '?')} · "
            f"{kpis.get('days', '?')} simulated days" + (f" · commit {commit}" if commit else ""))


def _short(key: str) -> str:
    """Legend text of a time-series column: its compact label in the outcomes registry."""
    o = registry.get(key)
    return o.short or o.en


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.set_layout_engine("constrained", h_pad=0.06, w_pad=0.06)
    return fig


def _title(fig: Figure, title: str, subtitle: str = "") -> None:
    """Bold title and a wrapped grey subtitle above the panels; room for the footer below."""
    width, height = fig.get_size_inches()
    lines = textwrap.wrap(subtitle, width=int(width * 15)) if subtitle else []
    fig.text(0.01, 1 - 0.12 / height, title, fontsize=13, fontweight="bold", va="top")
    if lines:
        fig.text(0.01, 1 - 0.42 / height, "\n".join(lines), fontsize=9, color="#444444", va="top",
                 linespacing=1.4)
    top = (0.5 + 0.19 * len(lines)) / height
    engine = cast("mpl.layout_engine.ConstrainedLayoutEngine", fig.get_layout_engine())
    engine.set(rect=(0, 0.22 / height, 1, 1 - top - 0.22 / height))


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
    ax.set(xticks=[], yticks=[])


def _shade_shocks(ax: Any, shocks: list[dict[str, Any]], label: bool) -> None:
    for i, s in enumerate(shocks):
        ax.axvspan(s["start_day"] - 0.5, s["start_day"] + s["days"] - 0.5, color="#fee8c8",
                   zorder=0, lw=0, label=(f"shock: {s.get('name', i)}" if label else None))


def _time_axis(ax: Any, lo: float, hi: float, sparse: bool = False) -> None:
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    skip = ("10 min", "8 h", "3 d", "90 d") if sparse else ()
    ticks = [(t, lab) for t, lab in TIME_TICKS if lo <= t <= hi and lab not in skip]
    if len(ticks) >= 2:
        ax.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks])
        ax.xaxis.set_minor_locator(mticker.NullLocator())


# ----------------------------------------------------------------------------- (a) dashboard
def fig_dashboard(ts: pd.DataFrame, kpis: Mapping[str, Any],
                  shocks: list[dict[str, Any]]) -> Figure:
    """KPI dashboard: 3 × 3 small multiples over simulated days."""
    fig = _new_figure(13, 9.5)
    axes = fig.subplots(3, 3, sharex=True)
    cost = kpis.get("staff_cost")
    _title(fig, "KPI dashboard over time",
           f"{kpis.get('cases_total', 0):,} cases · "
           f"{_pct(kpis.get('resolved_share'))} resolved · "
           f"{_pct(kpis.get('escalated_share'))} reached collective-incident severity · "
           f"safety index {kpis.get('safety_index') or float('nan'):.1f} · staff cost "
           f"{(cost or 0) / 1e6:,.1f} million yuan · thin lines daily, thick lines "
           f"{ROLL}-day means")
    if ts.empty:
        for ax in axes.flat:
            _no_data(ax)
        return fig
    day = ts["day"].to_numpy()

    def line(ax: Any, col: str, label: str, colour: str, roll: bool = True,
             scale: float = 1.0) -> None:
        if col not in ts:
            return
        y = ts[col] * scale
        if roll:
            ax.plot(day, y, color=colour, lw=0.6, alpha=0.35)
            ax.plot(day, _rolling(y), color=colour, lw=1.8, label=label)
        else:
            ax.plot(day, y, color=colour, lw=1.8, label=label)

    def stack(ax: Any, cols: list[str], labels: list[str], colours: list[str]) -> None:
        present = [(c, lab, col) for c, lab, col in zip(cols, labels, colours, strict=True)
                   if c in ts]
        ax.stackplot(day, *[ts[c] for c, _, _ in present], labels=[lab for _, lab, _ in present],
                     colors=[col for _, _, col in present], lw=0)
        top = float(np.nanmax(ts[[c for c, _, _ in present]].sum(axis=1))) if present else 0.0
        ax.set_ylim(0, max(top, 1.0) * 1.4)
        ax.legend(loc="upper left", reverse=True, ncols=2)

    panels = list(axes.flat)
    for i, ax in enumerate(panels):
        _shade_shocks(ax, shocks, label=i == 0)
    ax = panels[0]
    for col, colour in (("new_cases", "#636363"), ("detected", "#3182bd"),
                        ("resolved", "#31a354")):
        line(ax, col, _short(col), colour)
    ax.set(title="Case flow", ylabel="cases per day")
    ax.legend(loc="lower right")
    stack(panels[1], [c for c, _ in STAGES], [_short(c) for c, _ in STAGES],
          [k for _, k in STAGES])
    panels[1].set(title="Open cases by stage", ylabel="open cases (end of day)")
    sev = [f"open_severity_{s}" for s in range(4)]
    stack(panels[2], sev, [_short(c) for c in sev], list(SEVERITY_COLOURS))
    panels[2].set(title="Open cases by severity", ylabel="open cases (end of day)")
    line(panels[3], "escalations", _short("escalations"), "#e6550d")
    panels[3].set(title=registry.label("escalations"), ylabel="severity escalations per day")
    # single-KPI panels: the title is the KPI's registry label
    for ax, col, lab, colour, scale, ylabel in (
            (panels[4], "escalated_share", "to date", "#a50f15", 100, "% of cases so far"),
            (panels[5], "median_hours_to_resolution", "to date", "#756bb1", 1,
             "hours (detection → resolution)"),
            (panels[6], "mean_trust", "mean trust", "#2b8cbe", 1, "mean resident trust (0–1)"),
            (panels[7], "safety_index", "safety index", "#238b45", 1, "index (0–100)"),
            (panels[8], "staff_utilisation", "to date", "#8c6d31", 100,
             "% of handler time, to date")):
        line(ax, col, lab, colour, roll=False, scale=scale)
        ax.set(title=registry.label(col), ylabel=ylabel)
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
           f"{n_res:,} cases resolved · {_pct(kpis.get('grassroots_resolution_share'))} at "
           "grassroots level (grid, community or street)")
    y = np.arange(len(LEVELS))
    vals = np.array([float(shares.get(lv) or 0.0) for lv in LEVELS]) * 100
    ax_bar.barh(y, vals, color=LEVEL_COLOURS, edgecolor="#555555", lw=0.4)
    for yi, v in zip(y, vals, strict=True):
        ax_bar.text(v + 1, yi, f"{v:.1f}% ({round(v / 100 * n_res):,})", va="center", fontsize=8)
    ax_bar.set_yticks(y, [lv.capitalize() for lv in LEVELS])
    ax_bar.invert_yaxis()
    ax_bar.set_xlim(0, max(100.0, vals.max() + 25) if vals.size else 100)
    ax_bar.axhline(2.5, color="#333333", lw=0.8, ls="--")
    grass = float(vals[:3].sum())
    for yy, va, text in ((2.42, "bottom", f"▲ grassroots {grass:.1f}%"),
                         (2.58, "top", f"▼ above the street {100 - grass:.1f}%")):
        ax_bar.text(ax_bar.get_xlim()[1], yy, text, ha="right", va=va, fontsize=7.5,
                    color="#333333")
    ax_bar.set(title="Where detected cases were resolved", xlabel="% of detected cases")
    ax_bar.grid(axis="y", visible=False)
    cols = [f"resolved_at_{lv}" for lv in LEVELS]
    if ts.empty or not all(c in ts for c in cols):
        _no_data(ax_ts)
        return fig
    per_day = ts[cols].diff().fillna(ts[cols].iloc[0]).clip(lower=0)
    ax_ts.stackplot(ts["day"], *[_rolling(per_day[c]) for c in cols], colors=LEVEL_COLOURS,
                    labels=[lv.capitalize() for lv in LEVELS], lw=0)
    top = float(per_day.rolling(ROLL, min_periods=1).mean().sum(axis=1).max())
    ax_ts.set_ylim(0, max(top, 1.0) * 1.35)
    ax_ts.legend(loc="upper left", reverse=True, ncols=3)
    ax_ts.set(title=f"Resolutions per day by level ({ROLL}-day mean, stacked)",
              xlabel="simulated day", ylabel="cases resolved per day")
    return fig


# ----------------------------------------------------------------------------- (c) resolution time
def fig_time_to_resolution(cases: pd.DataFrame | None, kpis: Mapping[str, Any],
                           hist: tuple[np.ndarray, np.ndarray] | None) -> Figure:
    """Hours from detection to resolution: histogram by level and cumulative share by category."""
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
        ax.bar(lo[sl], counts[sl], width=hi[sl] - lo[sl], align="edge", color="#9ecae1",
               ec="#3182bd")
        _time_axis(ax, lo[sl][0], hi[sl][-1])
        _mark_quantiles(ax, kpis.get("median_hours_to_resolution"),
                        kpis.get("p90_hours_to_resolution"))
        ax.legend(loc="upper left")
        ax.set(xlabel=XLABEL, ylabel="resolved cases per bin")
        return fig
    res = cases[cases["stage"] == 4]
    hours = np.maximum((res["t_close"] - res["t_detect"]).to_numpy(), 1e-3)
    level = res["level"].to_numpy()
    med, p90 = np.quantile(hours, [0.5, 0.9])
    n_open = max(int(kpis.get("cases_total") or 0) - len(cases), 0)
    _title(fig, title, f"{hours.size:,} resolved cases · median {fmt_hours(med)} · p90 "
           f"{fmt_hours(p90)} · not shown: {(cases['stage'] == 5).sum():,} faded undetected, "
           f"{(cases['stage'] == 6).sum():,} failed at court, {n_open:,} still open at the end")
    ax_h, ax_c = fig.subplots(1, 2, width_ratios=(1.5, 1))
    lo, hi = hours.min(), hours.max() * 1.05
    bins = np.geomspace(lo, hi, 60) if hi > lo * 1.01 else np.geomspace(lo / 2, lo * 2, 10)
    parts = [hours[level == i] for i in range(len(LEVELS))]
    ax_h.hist(parts, bins=bins, stacked=True, histtype="stepfilled", color=LEVEL_COLOURS, lw=0,
              label=[f"{lv.capitalize()} ({p.size:,})"
                     for lv, p in zip(LEVELS, parts, strict=True)])
    _time_axis(ax_h, bins[0], bins[-1])
    _mark_quantiles(ax_h, med, p90)
    ax_h.legend(loc="upper left", title="resolved at (top of stack first)", title_fontsize=8,
                alignment="left")
    ax_h.set(title="Histogram, stacked by the level that resolved the case",
             xlabel=XLABEL, ylabel=f"resolved cases per bin ({bins.size - 1} log-spaced bins)")
    names, cat = list((kpis.get("by_category") or {}).keys()), res["category"].to_numpy()
    palette, (present, sizes) = mpl.colormaps["tab10"], np.unique(cat, return_counts=True)
    # a legible legend: the largest categories by name, the rest (Boston has 150 request types,
    # whose legend left the axes no room) as thin grey lines under one entry
    named = np.sort(present[np.argsort(-sizes, kind="stable")[:MAX_NAMED_CATEGORIES]])
    others = np.setdiff1d(present, named)
    for i, c in enumerate(named):
        name = names[c] if c < len(names) else f"category {c}"
        _cumulative(ax_c, hours[cat == c], lw=1.4, color=palette(i % 10),
                    label=f"{name.replace('_', ' ')} ({int((cat == c).sum()):,})")
    n_other = int(np.isin(cat, others).sum())
    for j, c in enumerate(others):
        _cumulative(ax_c, hours[cat == c], lw=0.7, color="#bbbbbb", zorder=1,
                    label=f"{others.size} other categories ({n_other:,})" if j == 0 else None)
    _cumulative(ax_c, hours, lw=2.2, color="black", label=f"all ({hours.size:,})")
    for t in (24, 168, 720):
        if bins[0] < t < bins[-1]:
            ax_c.axvline(t, color="#999999", lw=0.7, ls=":")
    _time_axis(ax_c, bins[0], bins[-1], sparse=True)
    ax_c.set_ylim(0, 100)
    ax_c.legend(loc="upper left", fontsize=7)
    ax_c.set(title="Cumulative share by category", xlabel=XLABEL,
             ylabel="% of resolved cases resolved within")
    return fig


def _cumulative(ax: Any, hours: np.ndarray, **style: Any) -> None:
    """The share (%) of ``hours`` at or below each value, as a step curve."""
    ax.step(np.sort(hours), np.arange(1, hours.size + 1) / hours.size * 100, where="post", **style)


def _mark_quantiles(ax: Any, med: float | None, p90: float | None) -> None:
    """Vertical lines at the median and p90, named in the legend."""
    for q, name, ls in ((med, "median", "-"), (p90, "p90", "--")):
        if q is not None and math.isfinite(q):
            ax.axvline(q, color="black", lw=1.2, ls=ls, label=f"{name} {fmt_hours(q)}")


# ----------------------------------------------------------------------------- (d) map
def fig_escalation_map(grids: pd.DataFrame, kpis: Mapping[str, Any],
                       districts: Mapping[str, Any] | None = None) -> Figure:
    """Map of severity escalations per grid over the run (district borders drawn: the real
    outlines and names of ``districts`` when given), and the rate per 1,000 residents by district."""
    rows, cols = int(grids["row"].max()) + 1, int(grids["col"].max()) + 1
    esc = np.full((rows, cols), np.nan)
    esc[grids["row"], grids["col"]] = grids["escalations"]
    dist = np.full((rows, cols), -1)
    dist[grids["row"], grids["col"]] = grids["district"]
    n_dist = int(grids["district"].nunique())
    side = n_dist > 1
    height = 6.2
    map_w = min((height - 1.5) * cols / max(rows, 1), 11.0)  # map drawn about 4.7 in high
    side_w = 3.2 if side else 0.0
    fig = _new_figure(max(map_w + 1.4 + side_w, 7.5), height)
    total = float(np.nansum(esc))
    top = np.sort(grids["escalations"].to_numpy())[::-1]
    k = max(1, round(0.1 * top.size))
    conc = top[:k].sum() / total if total else float("nan")
    _title(fig, "Where cases escalated: severity escalations by grid",
           f"{total:,.0f} escalation steps in {top.size:,} grids · the 10% worst grids hold "
           f"{_pct(conc)} of them · one cell = one grid"
           + (" · black lines = district borders" if n_dist > 1 else "")
           + (" · real outlines, dense districts drawn larger" if districts else ""))
    ax_m, ax_b = fig.subplots(1, 2, width_ratios=(map_w + 1.4, side_w)) if side else (
        fig.subplots(), None)
    cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#f0f0f0")
    # a few outlying grids would otherwise set the scale and pale every other grid: the darkest
    # colour starts at the 99.5th percentile (the colour bar's arrow marks the grids above it)
    peak = float(np.nanmax(esc)) if np.isfinite(esc).any() else 0.0
    vmax = max(float(np.nanpercentile(esc, 99.5)) if peak > 0 else 0.0, 1.0)
    im = ax_m.imshow(esc, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    border_lw = float(np.clip(45 / math.sqrt(esc.size), 0.5, 1.2))  # thinner on big maps
    draw_districts(ax_m, dist, grids, districts, border_lw)
    ax_m.set(xticks=[], yticks=[], title="Escalations per grid, whole run")
    ax_m.grid(False)
    for s in ax_m.spines.values():
        s.set_visible(False)
    cbar = fig.colorbar(im, ax=ax_m, shrink=0.8, extend="max" if peak > vmax else "neither",
                        label="severity escalations per grid (count)"
                        + (f"; max {peak:.0f}" if peak > vmax else ""))
    cbar.locator = mticker.MaxNLocator(integer=True)
    cbar.update_ticks()
    if ax_b is not None:
        by = grids.groupby("district").agg(esc=("escalations", "sum"), res=("residents", "sum"))
        rate = by["esc"] / by["res"].clip(lower=1) * 1000
        title = "By district"
        if rate.size > 20:  # many districts: the 20 with the highest rate
            rate = rate.sort_values(ascending=False).iloc[:20]
            title = f"The 20 highest of {n_dist} districts"
        ax_b.barh([district_label(int(d), districts) for d in rate.index], rate, color="#fc8d59", ec="#b30000", lw=0.4)
        ax_b.invert_yaxis()
        city = total / max(grids["residents"].sum(), 1) * 1000
        ax_b.axvline(city, color="black", lw=0.9, ls="--")
        ax_b.set(title=f"{title}\n(dashed: whole city, {city:.2g})",
                 xlabel="escalations per 1,000 residents")
        ax_b.grid(axis="y", visible=False)
    return fig
