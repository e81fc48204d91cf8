"""The city map on a real geography (``city.geometry``): district outlines drawn by ECharts.

The district polygons are registered in the browser with ``echarts.registerMap`` (the GeoJSON goes
to the page through the chart widget, not from any server: it works offline); every governance
grid is a point at its real position, coloured by the chosen layer. Districts are labelled in
Chinese and English; hovering or clicking a grid shows its numbers, clicking a district selects
its row in the district table under the map.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ..engine.geography import polygons
from .citymap import COLOURS, COUNT_LAYERS, PERCENT_LAYERS, layer_values, legend_text, tooltip
from .i18n import layer_label, t

MAP_NAME = "cityrisk-districts"
TEXT = {
    "districts": {"zh": "各区县", "en": "Districts"},
    "district": {"zh": "区县", "en": "District"},
    "residents": {"zh": "常住人口", "en": "Residents"},
    "grids": {"zh": "网格", "en": "Grids"},
    "open_per_1000": {"zh": "未结案件/千人", "en": "Open cases per 1,000"},
    "trust": {"zh": "信任度", "en": "Trust"},
    "escalations": {"zh": "升级次数", "en": "Escalations"},
}


def tx(key: str, lang: str) -> str:
    """Text of this module in ``lang``."""
    return TEXT[key]["zh" if lang == "zh" else "en"]


def geo_of(model: Any) -> Any:
    """The model's :class:`~sim.engine.geography.Geography`, or None for a synthetic map."""
    return getattr(model.layout, "geo", None)


def display_names(geo: Any) -> dict[str, str]:
    """GeoJSON name → the label shown on the map (``中文`` over ``English``)."""
    return {zh: (f"{zh}\n{en}" if en else zh) for zh, en in zip(geo.names, geo.names_en, strict=True)}


def district_of_name(geo: Any, name: str | None) -> int | None:
    """District index of a name as the map reports it (GeoJSON or displayed name)."""
    if not name:
        return None
    shown = display_names(geo)
    for d, zh in enumerate(geo.names):
        if name in (zh, shown[zh]):
            return d
    return None


def geo_map_option(model: Any, layer: str, lang: str, selected: int | None = None) -> dict[str, Any]:
    """ECharts option: registered district outlines (``geo``) and one point per grid."""
    geo, lay = geo_of(model), model.layout
    vals = layer_values(model, layer).ravel()[lay.cell_of_grid]
    vals = np.where(np.isfinite(vals), vals, 0.0)
    lonlat = geo.lonlat_of_cells(lay.cell_of_grid)
    rows, cols = np.divmod(lay.cell_of_grid, lay.cols)
    data = np.column_stack([np.round(lonlat, 4), np.round(vals, 2), rows, cols]).tolist()
    top = float(vals.max()) if vals.size else 1.0
    lo, hi = (0.0, 100.0) if layer == "trust" else (0.0, max(top, 1.0 if layer in COUNT_LAYERS else 1e-6))
    name = layer_label(layer, lang) + (" (%)" if layer in PERCENT_LAYERS else "")
    size = float(np.clip(450 / np.sqrt(max(lay.n_grids, 1)), 2, 12))
    shown = display_names(geo)
    where = np.array([np.median(lonlat[lay.district_of == d], axis=0) if np.any(lay.district_of == d)
                      else [np.nan, np.nan] for d in range(lay.n_districts)])
    labels = [{"name": shown[zh], "value": np.round(where[d], 4).tolist()}
              for d, zh in enumerate(geo.names) if np.all(np.isfinite(where[d]))]
    outlines = [{"coords": np.round(_simplify(ring), 4).tolist()} for f in geo.geojson["features"]
                for part in polygons(f["geometry"]) for ring in part]
    regions = []
    if selected is not None:
        regions = [{"name": display_names(geo)[geo.names[selected]],
                    "itemStyle": {"borderColor": "#1565c0", "borderWidth": 3}}]
    return {
        "animation": False,
        "tooltip": {"trigger": "item"},
        "geo": {"map": MAP_NAME, "roam": True, "nameMap": display_names(geo),
                "top": 8, "bottom": 50, "left": 8, "right": 8,
                "label": {"show": False},
                "itemStyle": {"areaColor": "#f4f4f4", "borderColor": "#222", "borderWidth": 1.5},
                "emphasis": {"label": {"show": False}, "itemStyle": {"areaColor": "#e3ecf7"}},
                "select": {"disabled": True}, "regions": regions},
        "visualMap": {"min": lo, "max": hi, "calculable": False, "orient": "horizontal",
                      "left": "center", "bottom": 4, "itemHeight": 220, "itemWidth": 12,
                      "seriesIndex": 0, "dimension": 2,
                      "inRange": {"color": COLOURS.get(layer, COLOURS["open_cases"])},
                      "text": legend_text(layer, lo, hi, lang), "textStyle": {"fontSize": 11}},
        "toolbox": {"right": 0, "feature": {"saveAsImage": {
            "title": t("save_png", lang), "name": f"cityrisk-map-{layer}", "pixelRatio": 2}}},
        "series": [{"name": name, "type": "scatter", "coordinateSystem": "geo", "data": data,
                    "symbolSize": size, "symbol": "rect", "progressive": 0, "z": 3,
                    "tooltip": tooltip(2, layer, lang),
                    "emphasis": {"itemStyle": {"borderColor": "#000", "borderWidth": 1}}},
                   {"name": "borders", "type": "lines", "coordinateSystem": "geo", "polyline": True,
                    "silent": True, "z": 4, "data": outlines,
                    "lineStyle": {"color": "#222", "width": 1.2, "opacity": 0.9}},
                   {"name": "names", "type": "scatter", "coordinateSystem": "geo", "data": labels,
                    "symbolSize": 0, "silent": True, "z": 5, "tooltip": {"show": False},
                    "labelLayout": {"hideOverlap": True},
                    "label": {"show": True, "formatter": "{b}", "fontSize": 11, "fontWeight": "bold",
                              "color": "#08306b", "textBorderColor": "#fff", "textBorderWidth": 2.5}}],
    }


def district_summary(model: Any) -> list[dict[str, Any]]:
    """One row per district: residents, grids, open cases per 1,000, mean trust, escalations."""
    lay = model.layout
    geo = geo_of(model)
    n = lay.n_districts
    d = lay.district_of

    def per_grid(layer: str) -> np.ndarray:
        v = np.asarray(model.grid_layer(layer), dtype=float).ravel()[lay.cell_of_grid]
        return np.where(np.isfinite(v), v, 0.0)

    res = np.bincount(d, weights=lay.residents_per_grid, minlength=n)
    open_ = np.bincount(d, weights=per_grid("open_cases"), minlength=n)
    trust = np.bincount(d, weights=per_grid("trust") * lay.residents_per_grid, minlength=n)
    esc = np.bincount(d, weights=per_grid("escalations"), minlength=n)
    grids = np.bincount(d, minlength=n)
    out = []
    for k in range(n):
        name = geo.names[k] if geo is not None else f"D{k}"
        out.append({"district": k, "name": name, "name_en": geo.names_en[k] if geo is not None else "",
                    "residents": int(res[k]), "grids": int(grids[k]),
                    "open_per_1000": float(open_[k] / max(res[k], 1) * 1000),
                    "trust": float(trust[k] / max(res[k], 1)), "escalations": int(esc[k])})
    return out


def district_table_html(rows: list[dict[str, Any]], lang: str, selected: int | None = None) -> str:
    """The district summaries as an HTML table (the selected district highlighted)."""
    head = "".join(f"<th>{html.escape(tx(k, lang))}</th>" for k in
                   ("district", "residents", "grids", "open_per_1000", "trust", "escalations"))
    body = []
    for r in rows:
        style = " style='background:#e3ecf7;font-weight:600'" if r["district"] == selected else ""
        label = html.escape(r["name"] + (f" {r['name_en']}" if r["name_en"] else ""))
        body.append(f"<tr class='cr-district-row'{style}><td>{label}</td>"
                    f"<td style='text-align:right'>{r['residents']:,}</td>"
                    f"<td style='text-align:right'>{r['grids']:,}</td>"
                    f"<td style='text-align:right'>{r['open_per_1000']:.2f}</td>"
                    f"<td style='text-align:right'>{r['trust'] * 100:.0f}%</td>"
                    f"<td style='text-align:right'>{r['escalations']:,}</td></tr>")
    return (f"<div style='font-weight:600;margin:6px 0 4px'>{html.escape(tx('districts', lang))}"
            f"</div><table class='cr-district-table cr-grid-table' style='width:100%'>"
            f"<tr>{head}</tr>{''.join(body)}</table>")


def _simplify(ring: np.ndarray) -> np.ndarray:
    """The ring without points in the middle of straight runs (same drawing, fewer points)."""
    if len(ring) < 4:
        return ring
    d = np.diff(ring, axis=0)
    cross = d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]
    dot = (d[:-1] * d[1:]).sum(axis=1)
    keep = np.ones(len(ring), dtype=bool)
    keep[1:-1] = (np.abs(cross) > 1e-12) | (dot <= 0)
    return ring[keep]
