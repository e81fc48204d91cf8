"""Live charts: ECharts options (drawn in the browser) and a PNG of all of them (matplotlib).

Each chart is described once in :data:`CHARTS` (title, series with the timeseries columns
they read, a scale and a unit; names and units of the columns come from the outcomes registry) and rendered two ways: as an ECharts option for the page (cheap to
update every simulated day; hover tooltips and a "save as picture" button come with it) and as a
matplotlib figure for the "Download charts (PNG)" button.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..outcomes.registry import LEVEL_NAMES, SEVERITY_NAMES
from .i18n import STRINGS, kpi_name, kpi_title, t

MAX_POINTS = 400  # per series sent to the browser; longer runs are thinned evenly

SEV_COLOURS = ("#9ecae1", "#fdae6b", "#e6550d", "#a50f15")
LEVEL_COLOURS = ("#31a354", "#74c476", "#3182bd", "#6baed6", "#9e9ac8", "#636363")


@dataclass(frozen=True)
class Series:
    """One line of a chart: the timeseries columns that may hold it (first found is used)."""

    columns: tuple[str, ...]
    label: tuple[str, str] | None = None  # (en, zh); None: the registry label of columns[0]
    colour: str | None = None


@dataclass(frozen=True)
class Chart:
    """A chart: title (a STRINGS key, else an outcome key: its name and unit), its series, a
    value scale, stacked or not."""

    key: str
    title: str
    series: tuple[Series, ...]
    scale: float = 1.0
    stacked: bool = False
    y_min: float | None = None
    y_max: float | None = None

    def heading(self, lang: str) -> str:
        """The chart's title in ``lang``."""
        return t(self.title, lang) if self.title in STRINGS else kpi_title(self.title, lang)


def _sev(i: int) -> Series:
    return Series((f"open_severity_{i}", f"open_sev{i}", f"open_{i}"),
                  (SEVERITY_NAMES["en"][i], SEVERITY_NAMES["zh"][i]), SEV_COLOURS[i])


def _lvl(i: int) -> Series:
    from sim.engine.levels import LEVELS

    return Series((f"resolved_at_{LEVELS[i]}", f"resolved_level_{i}"),
                  (LEVEL_NAMES["en"][i], LEVEL_NAMES["zh"][i]), LEVEL_COLOURS[i])


CHARTS: tuple[Chart, ...] = (
    Chart("open", "chart_open", tuple(_sev(i) for i in range(4)), stacked=True),
    Chart("level", "chart_level", tuple(_lvl(i) for i in range(6)), stacked=True),
    Chart("time", "chart_time", (
        Series(("median_hours_to_resolution",), colour="#3182bd"),
        Series(("p90_hours_to_resolution",), colour="#e6550d"))),
    Chart("trust", "mean_trust", (Series(("mean_trust",), colour="#31a354"),), scale=100.0),
    Chart("safety", "safety_index", (Series(("safety_index",), colour="#756bb1"),),
          y_min=0, y_max=100),
    # cost_rate is the session's annualised daily cost, not a model column: its own text
    Chart("cost", "chart_cost", (Series(("cost_rate",), (STRINGS["chart_cost"]["en"],
                                                          STRINGS["chart_cost"]["zh"]),
                                        "#636363"),),
          scale=1e-6, y_min=0),
)


def _label(s: Series, lang: str) -> str:
    if s.label is not None:
        return s.label[0] if lang == "en" else s.label[1]
    return kpi_name(s.columns[0], lang)


def _column(df: pd.DataFrame, s: Series) -> str | None:
    return next((c for c in s.columns if c in df.columns), None)


def _days(df: pd.DataFrame) -> np.ndarray:
    """Day numbers as the page counts them: the first simulated day is day 1."""
    if "day" in df.columns:
        return df["day"].to_numpy() + 1
    return np.arange(1, len(df) + 1)


def thin(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Row indices that keep at most ``max_points`` rows, evenly, always the last one."""
    if n <= max_points:
        return np.arange(n)
    idx = np.linspace(0, n - 1, max_points).round().astype(int)
    return np.unique(idx)


def band_series(chart: Chart, df: pd.DataFrame, others: list[pd.DataFrame], rows: np.ndarray,
                lang: str) -> list[dict[str, Any]]:
    """The range (lowest to highest) over the page's run and ``others`` (replications with other
    seeds, same levers) of each line of a non-stacked chart, as a shaded band."""
    out: list[dict[str, Any]] = []
    if chart.stacked or not others:
        return out
    for s in chart.series:
        col = _column(df, s)
        if col is None or any(col not in o.columns or len(o) != len(df) for o in others):
            continue
        runs = np.vstack([df[col].to_numpy(dtype=float)]
                         + [o[col].to_numpy(dtype=float) for o in others])[:, rows] * chart.scale
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(runs, axis=0), np.nanmax(runs, axis=0)

        def clean(x: np.ndarray) -> list[float | None]:
            return [None if not np.isfinite(v) else round(float(v), 3) for v in x]

        stack = f"band-{col}"
        band = t("band", lang, n=len(others) + 1)
        common = {"type": "line", "stack": stack, "showSymbol": False, "silent": True,
                  "lineStyle": {"opacity": 0}, "tooltip": {"show": False}}
        out.append({**common, "name": band, "data": clean(lo)})
        out.append({**common, "name": band, "data": clean(hi - lo),
                    "areaStyle": {"opacity": 0.2, "color": s.colour or "#5470c6"}})
    return out


def echarts_option(chart: Chart, df: pd.DataFrame, lang: str,
                   others: list[pd.DataFrame] | None = None) -> dict[str, Any]:
    """ECharts option of one chart from the model's daily timeseries (with ``others``: the
    range over several replications as a band, like the Covasim web app)."""
    rows = thin(len(df))
    days = _days(df)[rows]
    series = []
    for s in chart.series:
        col = _column(df, s)
        if col is None:
            continue
        vals = df[col].to_numpy(dtype=float)[rows] * chart.scale
        data = [None if not np.isfinite(v) else round(float(v), 3) for v in vals]
        item: dict[str, Any] = {"name": _label(s, lang), "type": "line", "data": data,
                                "showSymbol": False, "lineStyle": {"width": 2}}
        if s.colour:
            item["color"] = s.colour
        if chart.stacked:
            item.update(stack="total", areaStyle={"opacity": 0.85}, lineStyle={"width": 0})
        series.append(item)
    main = [str(x["name"]) for x in series]
    series = band_series(chart, df, others or [], rows, lang) + series
    title = chart.heading(lang)
    y_axis: dict[str, Any] = {"type": "value", "scale": chart.y_min is None}
    if chart.y_min is not None:
        y_axis["min"] = chart.y_min
    if chart.y_max is not None:
        y_axis["max"] = chart.y_max
    return {
        "animation": False,
        "title": {"text": title, "left": 0, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        # one scrolling line, never wrapped onto the plot and its y-axis labels
        "legend": {"type": "scroll", "top": 24, "left": 0, "right": 40, "itemWidth": 14,
                   "icon": "roundRect", "textStyle": {"fontSize": 11}, "data": main}
        if len(main) > 1 else {"show": False},
        "grid": {"left": 8, "right": 24, "top": 58 if len(main) > 1 else 40, "bottom": 30,
                 "containLabel": True},
        "xAxis": {"type": "category", "name": t("axis_day", lang), "nameLocation": "end",
                  "boundaryGap": False, "data": [int(d) for d in days]},
        "yAxis": y_axis,
        "toolbox": {"right": 0, "feature": {"saveAsImage": {
            "title": t("save_png", lang), "name": f"cityrisk-{chart.key}", "pixelRatio": 2}}},
        "series": series,
    }


def all_options(df: pd.DataFrame, lang: str,
                others: list[pd.DataFrame] | None = None) -> dict[str, dict[str, Any]]:
    """ECharts options of every live chart, by chart key (``others``: replications for bands)."""
    return {c.key: echarts_option(c, df, lang, others) for c in CHARTS}


def charts_png(df: pd.DataFrame, lang: str, caption: str = "") -> bytes:
    """All live charts in one PNG (for the export button), titles in ``lang``."""
    import matplotlib
    from matplotlib.figure import Figure

    from .fonts import font_rc

    with matplotlib.rc_context(font_rc()):
        return _charts_png(df, lang, caption, Figure)


def _charts_png(df: pd.DataFrame, lang: str, caption: str, Figure: Any) -> bytes:  # noqa: N803
    fig = Figure(figsize=(13, 10), dpi=110, layout="constrained")
    axes = fig.subplots(3, 2).ravel()
    days = _days(df)
    for ax, chart in zip(axes, CHARTS, strict=True):
        cols = [(s, _column(df, s)) for s in chart.series]
        cols = [(s, c) for s, c in cols if c is not None]
        if chart.stacked and cols and len(df):
            ys = [df[c].to_numpy(dtype=float) * chart.scale for _, c in cols]
            ax.stackplot(days, ys, labels=[_label(s, lang) for s, _ in cols],
                         colors=[s.colour for s, _ in cols], alpha=0.85)
        else:
            for s, c in cols:
                ax.plot(days, df[c].to_numpy(dtype=float) * chart.scale, label=_label(s, lang),
                        color=s.colour, lw=2)
        ax.set_title(chart.heading(lang), loc="left", fontsize=12)
        ax.set_xlabel(t("axis_day", lang))
        if chart.y_min is not None:
            top = chart.y_max
            if top is None:
                ymax = max((float(np.nanmax(ln.get_ydata())) for ln in ax.lines), default=1.0)
                top = ymax * 1.15 if ymax > 0 else 1.0
            ax.set_ylim(bottom=chart.y_min, top=top)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        if len(cols) > 1:
            ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    if caption:
        fig.suptitle(caption, fontsize=13)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
