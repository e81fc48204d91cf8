"""The "Live city" tab: key figures, the city map with grid details, live charts, exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import solara

from .charts import CHARTS, all_options, charts_png
from .citymap import LAYERS, border_segments, cell_info, map_option
from .compare import fmt_value
from .i18n import KPI_TEXT, kpi_name, layer_label, lever_label, t
from .session import AppSession

TILES: tuple[str, ...] = ("safety_index", "backlog", "escalated_share", "mean_trust",
                          "grassroots_resolution_share", "median_hours_to_resolution")


def flat_kpis(kpis: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI dict flattened to dotted keys (numbers and strings only)."""
    out: dict[str, Any] = {}
    for key, val in kpis.items():
        if isinstance(val, dict):
            out.update(flat_kpis(val, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = val
    return out


def kpi_csv(session: AppSession, lang: str) -> str:
    """The KPI table as CSV: key, name in ``lang``, value; then the lever settings."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["key", "name", "value"])
    w.writerow(["scenario", t("scenario", lang), session.scenario_name])
    w.writerow(["day", t("axis_day", lang), session.day])
    for key, val in flat_kpis(session.model.kpis()).items():
        w.writerow([key, kpi_name(key, lang) if key in KPI_TEXT else key, val])
    for key, val in session.levers.items():
        w.writerow([key, lever_label(key, lang), val])
    return buf.getvalue()


@solara.component
def KpiTiles(kpis: dict[str, Any], lang: str) -> None:
    """A row of big numbers an official reads first."""
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["cr-tiles"]):
        for key in TILES:
            if key not in kpis:
                continue
            with solara.Card(style={"min-width": "150px", "flex": "1 1 150px", "padding": "6px"},
                             classes=[f"cr-tile-{key}"]):
                solara.Text(kpi_name(key, lang), style={"font-size": "12px", "color": "#555"})
                solara.Text(fmt_value(key, float(kpis[key]), lang),
                            style={"font-size": "22px", "font-weight": "600"})


@solara.component
def GridInfo(session: AppSession, cell: solara.Reactive, lang: str, version: int) -> None:
    """The numbers of the hovered or clicked grid."""
    with solara.Card(t("grid_info", lang), classes=["cr-grid-info"],
                     style={"min-width": "220px"}):
        if cell.value is None:
            solara.Text(t("grid_info_none", lang), style={"color": "#666"})
            return
        r, c = cell.value
        info = cell_info(session.model, r, c)
        if info is None:
            solara.Text(t("grid_info_none", lang), style={"color": "#666"})
            return
        solara.Text(t("district", lang, d=int(info["district"]) + 1) + " · "
                    + t("grid_pos", lang, r=r + 1, c=c + 1), style={"font-weight": "600"})
        lines = []
        for layer in LAYERS:
            if layer in info:
                val = info[layer]
                txt = f"{val:.0f}%" if layer in ("trust", "staff_load", "escalation_risk") \
                    else f"{val:,.0f}" if val >= 100 else f"{val:.1f}"
                lines.append(f"| {layer_label(layer, lang)} | {txt} |")
        solara.Markdown("| | |\n|---|---:|\n" + "\n".join(lines))


@solara.component
def CityMap(session: AppSession, lang: str, version: int) -> None:
    """Map card: layer picker, the map, and the grid detail card."""
    layer, set_layer = solara.use_state("open_cases")
    hover = solara.use_reactive(None)
    pinned = solara.use_reactive(None)
    model = session.model
    borders = solara.use_memo(lambda: border_segments(model.district_of_cell), [id(model)])

    def cell_of(event: dict[str, Any]) -> tuple[int, int] | None:
        data = event.get("data")
        if event.get("seriesIndex") != 0 or not isinstance(data, list | tuple) or len(data) < 2:
            return None
        return int(data[1]), int(data[0])

    def on_hover(event: dict[str, Any]) -> None:
        cell = cell_of(event)
        if cell is not None and pinned.value is None:
            hover.set(cell)

    def on_click(event: dict[str, Any]) -> None:
        cell = cell_of(event)
        pinned.set(None if cell == pinned.value else cell)
        if cell is not None:
            hover.set(cell)

    with solara.Card(classes=["cr-map"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Tooltip(t("map_tip", lang)):
                solara.Text(t("map", lang) + " ⓘ", style={"font-size": "16px", "font-weight": "600"})
            solara.ToggleButtonsSingle(value=layer, on_value=set_layer, values=list(LAYERS[:4]),
                                       children=[solara.Button(layer_label(k, lang), value=k,
                                                               small=True) for k in LAYERS[:4]],
                                       classes=["cr-layer"])
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"flex": "2 1 380px", "min-width": "320px"}):
                option = map_option(model, layer, lang, borders, pinned.value)
                solara.FigureEcharts(option, on_mouseover=on_hover, on_click=on_click,
                                     attributes={"style": "height: 420px;", "class": "cr-map-chart"})
            with solara.Column(style={"flex": "1 1 220px"}):
                GridInfo(session, pinned if pinned.value is not None else hover, lang, version)
                solara.Text(t("map_tip", lang), style={"font-size": "12px", "color": "#666"})


@solara.component
def LiveCharts(session: AppSession, lang: str, version: int) -> None:
    """The six live charts in a two-column grid."""
    df = session.model.timeseries()
    options = all_options(df, lang)
    with solara.GridFixed(columns=2, classes=["cr-charts"]):
        for chart in CHARTS:
            with solara.Card(classes=[f"cr-chart-{chart.key}"], style={"padding": "4px"}):
                solara.FigureEcharts(options[chart.key],
                                     attributes={"style": "height: 260px;",
                                                 "class": f"cr-echart-{chart.key}"})


@solara.component
def LiveView(session: AppSession, lang: str, sim_version: solara.Reactive) -> None:
    """Everything on the "Live city" tab; re-rendered after each simulated day."""
    version = sim_version.value
    kpis = session.model.kpis() if session.day > 0 else {}
    if session.day == 0:
        solara.Info(t("no_data", lang))
    KpiTiles(kpis, lang)
    CityMap(session, lang, version)
    LiveCharts(session, lang, version)
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["cr-exports"]):
        name = f"cityrisk-{session.scenario_name}-day{session.day}"
        solara.FileDownload(lambda: charts_png(session.model.timeseries(), lang,
                                               f"{session.scenario_name} · "
                                               + t("day", lang, d=session.day)),
                            filename=f"{name}-charts.png", label=t("export_png", lang),
                            mime_type="image/png")
        solara.FileDownload(lambda: kpi_csv(session, lang), filename=f"{name}-kpis.csv",
                            label=t("export_csv", lang), mime_type="text/csv")
        solara.FileDownload(lambda: session.model.timeseries().to_csv(index=False),
                            filename=f"{name}-daily.csv", label=t("export_ts", lang),
                            mime_type="text/csv")
