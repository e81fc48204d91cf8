"""The city map: governance grids coloured by a layer, district borders drawn on top.

Drawn by ECharts in the browser: a heatmap over the map cells (category axes) and, on a second
pair of value axes laid exactly over it, one ``lines`` series with the district borders. Border
segments are computed once per model (the layout does not change during a run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .i18n import layer_label, t

LAYERS: tuple[str, ...] = ("open_cases", "escalation_risk", "warning", "trust", "staff_load",
                           "escalations", "residents")
PICKER_LAYERS = 5  # the first layers get a button above the map
COLOURS: dict[str, list[str]] = {
    "open_cases": ["#fff7ec", "#fdbb84", "#ef6548", "#990000"],
    "escalation_risk": ["#ffffcc", "#feb24c", "#f03b20", "#800026"],
    "trust": ["#d7301f", "#fee08b", "#91cf60", "#1a9850"],
    "staff_load": ["#edf8e9", "#fed976", "#fd8d3c", "#bd0026"],
    "escalations": ["#fff5f0", "#fc9272", "#de2d26", "#67000d"],
    "residents": ["#f7fbff", "#9ecae1", "#3182bd", "#08306b"],
    "warning": ["#f7f4f9", "#d4b9da", "#df65b0", "#91003f"],
}
PERCENT_LAYERS = ("trust", "escalation_risk", "warning")  # shares, chances, ranks: in per cent
COUNT_LAYERS = ("open_cases", "escalations", "residents")  # whole numbers
LAYER_UNITS: dict[str, dict[str, str]] = {
    "open_cases": {"en": "cases", "zh": "件"},
    "escalations": {"en": "cases", "zh": "件"},
    "residents": {"en": "residents", "zh": "人"},
    "staff_load": {"en": "cases per worker", "zh": "件/人"},
}


def layer_unit(layer: str, lang: str) -> str:
    """Unit of a map layer as the legend and tooltip show it ("%" for shares)."""
    return "%" if layer in PERCENT_LAYERS else LAYER_UNITS.get(layer, {}).get(lang, "")


def legend_text(layer: str, lo: float, hi: float, lang: str) -> list[str]:
    """The map legend's two end labels, the top one with the unit (e.g. "40 cases", "0")."""
    unit = layer_unit(layer, lang)
    sep = "" if unit == "%" else " "
    return [f"{_fmt(hi)}{sep}{unit}" if unit else _fmt(hi), _fmt(lo)]


def tooltip(index: int, layer: str, lang: str) -> dict[str, Any]:
    """Tooltip settings: the browser formats element ``index`` of a data point with the unit
    (see ``echart.py``; ECharts' own ``{@[2]}`` template showed up raw)."""
    return {"trigger": "item", "crValue": {"index": index, "unit": layer_unit(layer, lang)}}


def border_segments(district: np.ndarray) -> list[list[list[float]]]:
    """Line segments (in cell units, cell centres at integers) between different districts.

    Includes the outline of the city (cells with a grid next to cells without one). Collinear
    unit segments are merged, so a straight border is one segment.
    """
    d = np.asarray(district)
    rows, cols = d.shape
    pad = np.full((rows + 2, cols + 2), -1, dtype=np.int64)
    pad[1:-1, 1:-1] = d
    segs: list[list[list[float]]] = []
    # vertical edges: between column c-1 and c (c = 0..cols), for each row
    vdiff = pad[1:-1, :-1] != pad[1:-1, 1:]  # rows x (cols+1)
    for c in range(cols + 1):
        col = vdiff[:, c]
        r = 0
        while r < rows:
            if col[r]:
                r0 = r
                while r < rows and col[r]:
                    r += 1
                segs.append([[c - 0.5, r0 - 0.5], [c - 0.5, r - 0.5]])
            r += 1
    hdiff = pad[:-1, 1:-1] != pad[1:, 1:-1]  # (rows+1) x cols
    for r in range(rows + 1):
        row = hdiff[r]
        c = 0
        while c < cols:
            if row[c]:
                c0 = c
                while c < cols and row[c]:
                    c += 1
                segs.append([[c0 - 0.5, r - 0.5], [c - 0.5, r - 0.5]])
            c += 1
    return segs


def layer_values(model: Any, layer: str) -> np.ndarray:
    """The layer as a float 2-D array; shares are shown in per cent."""
    vals = np.asarray(model.grid_layer(layer), dtype=float)
    if layer in PERCENT_LAYERS:
        vals = vals * 100.0
    return vals


def map_option(model: Any, layer: str, lang: str, borders: list[list[list[float]]],
               selected: tuple[int, int] | None = None) -> dict[str, Any]:
    """ECharts option of the city map coloured by ``layer``."""
    district = np.asarray(model.district_of_cell)
    rows, cols = district.shape
    vals = layer_values(model, layer)
    rr, cc = np.nonzero(district >= 0)
    v = vals[rr, cc]
    v = np.where(np.isfinite(v), v, 0.0)
    data = np.column_stack([cc, rr, np.round(v, 2)]).tolist()
    top = float(np.nanmax(v)) if v.size else 1.0
    if layer in ("trust", "warning"):  # the warning layer: the grid's percentile of risk
        lo, hi = 0.0, 100.0
    else:
        lo, hi = 0.0, max(top, 1.0 if layer in COUNT_LAYERS else 1e-6)
    name = layer_label(layer, lang) + (" (%)" if layer in PERCENT_LAYERS else "")
    series: list[dict[str, Any]] = [
        {"name": name, "type": "heatmap", "data": data, "xAxisIndex": 0, "yAxisIndex": 0,
         "emphasis": {"itemStyle": {"borderColor": "#000", "borderWidth": 2}}, "progressive": 0},
        {"name": "borders", "type": "lines", "coordinateSystem": "cartesian2d", "xAxisIndex": 1,
         "yAxisIndex": 1, "polyline": False, "silent": True, "z": 5,
         "lineStyle": {"color": "#222", "width": 2.5, "opacity": 0.9},
         "data": [{"coords": s} for s in borders]},
    ]
    if selected is not None:
        r, c = selected
        series.append({"name": "selected", "type": "lines", "coordinateSystem": "cartesian2d",
                       "xAxisIndex": 1, "yAxisIndex": 1, "polyline": True, "silent": True, "z": 6,
                       "lineStyle": {"color": "#1565c0", "width": 3},
                       "data": [{"coords": [[c - .5, r - .5], [c + .5, r - .5], [c + .5, r + .5],
                                            [c - .5, r + .5], [c - .5, r - .5]]}]})
    hidden = {"show": False}
    return {
        "animation": False,
        "tooltip": tooltip(2, layer, lang),
        "grid": {"left": 8, "right": 8, "top": 8, "bottom": 50, "containLabel": False},
        "xAxis": [{"type": "category", "data": list(range(cols)), **{"axisLabel": hidden,
                   "axisTick": hidden, "axisLine": hidden}},
                  {"type": "value", "min": -0.5, "max": cols - 0.5, **hidden}],
        "yAxis": [{"type": "category", "data": list(range(rows)), "inverse": True,
                   **{"axisLabel": hidden, "axisTick": hidden, "axisLine": hidden}},
                  {"type": "value", "min": -0.5, "max": rows - 0.5, "inverse": True, **hidden}],
        "visualMap": {"min": lo, "max": hi, "calculable": False, "orient": "horizontal",
                      "left": "center", "bottom": 4, "itemHeight": 220, "itemWidth": 12,
                      "seriesIndex": 0,
                      "inRange": {"color": COLOURS.get(layer, COLOURS["open_cases"])},
                      "text": legend_text(layer, lo, hi, lang), "textStyle": {"fontSize": 11}},
        "toolbox": {"right": 0, "feature": {"saveAsImage": {
            "title": t("save_png", lang), "name": f"cityrisk-map-{layer}", "pixelRatio": 2}}},
        "series": series,
    }


def _fmt(x: float) -> str:
    return f"{x:.0f}" if x >= 10 or x == 0 else f"{x:.2g}"


def fmt_layer(layer: str, value: float) -> str:
    """A layer value for the grid detail card."""
    if not np.isfinite(value):
        return "–"
    if layer in PERCENT_LAYERS:
        return f"{value:.0f}%" if value >= 1 or value == 0 else f"{value:.1f}%"
    if layer in COUNT_LAYERS:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def cell_info(model: Any, row: int, col: int) -> dict[str, float] | None:
    """Every layer's value at one map cell (None outside the city)."""
    district = np.asarray(model.district_of_cell)
    if not (0 <= row < district.shape[0] and 0 <= col < district.shape[1]):
        return None
    if district[row, col] < 0:
        return None
    out: dict[str, float] = {"district": float(district[row, col])}
    for layer in LAYERS:
        try:
            out[layer] = float(layer_values(model, layer)[row, col])
        except (KeyError, ValueError, IndexError):
            continue
    return out
