"""The "Live city" tab: key figures, the city map with grid details, live charts, exports."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import numpy as np
import solara

from ..engine.geography import geojson_text
from ..outcomes import registry
from .charts import CHARTS, all_options, charts_png
from .citymap import (
    LAYERS,
    PICKER_LAYERS,
    border_segments,
    cell_info,
    fmt_layer,
    grid_stories,
    map_option,
)
from .compare import fmt_value
from .echart import EChart
from .geomap import (
    MAP_NAME,
    district_of_name,
    district_summary,
    district_table_html,
    geo_map_option,
    geo_of,
)
from .i18n import kpi_help, kpi_name, kpi_title, layer_label, lever_label, t
from .session import AppSession

TILES: tuple[str, ...] = ("safety_index", "capacity_index", "backlog", "escalated_share",
                          "caused_escalation_share", "mean_trust",
                          "grassroots_resolution_share", "median_hours_to_resolution")


BAND_RUNS = 5  # runs behind the uncertainty bands (the page's own and 4 more)


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
        if registry.is_declared(key) and registry.unit(key) == "yuan":  # as labelled: million yuan
            w.writerow([key, kpi_title(key, lang), float(val) / 1e6])
        else:
            w.writerow([key, kpi_name(key, lang), val])
    for key, val in session.levers.items():
        w.writerow([key, lever_label(key, lang), val])
    return buf.getvalue()


def daily_csv(session: AppSession) -> str:
    """The daily time series as CSV, days numbered as the page numbers them (1 = first day)."""
    df = session.frame()
    if "day" in df.columns:
        df["day"] = df["day"].to_numpy() + 1
    return df.to_csv(index=False)


def tiles_html(kpis: dict[str, Any], lang: str) -> str:
    """The row of big numbers an official reads first, as one HTML block."""
    cells = []
    for key in TILES:
        if key not in kpis:
            continue
        tip = html.escape(kpi_help(key, lang), quote=True)
        cells.append(
            f"<div class='cr-tile cr-tile-{key}' title='{tip}'><div class='cr-tile-name'>"
            f"{html.escape(kpi_name(key, lang))}</div><div class='cr-tile-value'>"
            f"{html.escape(fmt_value(key, float(kpis[key]), lang))}</div></div>")
    return "<div class='cr-tiles'>" + "".join(cells) + "</div>"


def saturation_text(kpis: dict[str, Any], lang: str) -> str:
    """The warning shown when a level is saturated (sim/engine/saturation.py): which levels,
    how busy, how fast their queue grows."""
    from ..engine.saturation import UTILISATION_FLOOR
    from ..outcomes.registry import LEVEL_NAMES

    util, growth = kpis["recent_utilisation_by_level"], kpis["queue_growth_by_level"]
    names = dict(zip(util, LEVEL_NAMES[lang], strict=False))
    each = {"en": "{n} ({u:.0%} busy, queue {g:+.1f} a day)", "zh": "{n}(负荷{u:.0%},排队每天{g:+.1f}件)"}[lang]
    hot = [each.format(n=names[lv], u=util[lv], g=growth[lv]) for lv in util
           if util[lv] >= UTILISATION_FLOOR and growth[lv] > 0]
    return t("saturated", lang, levels=("、" if lang == "zh" else ", ").join(hot))


def grid_html(info: dict[str, float] | None, r: int, c: int, lang: str,
              district_name: str | None = None, stories: list[str] | None = None) -> str:
    """The numbers of one grid as an HTML table (``district_name`` on a real map), then its
    residents' recent stories (``stories``, from :func:`~sim.app.citymap.grid_stories`)."""
    if info is None:
        return f"<div class='cr-muted'>{html.escape(t('grid_info_none', lang))}</div>"
    head = ((district_name or t("district", lang, d=int(info["district"]) + 1)) + " · "
            + t("grid_pos", lang, r=r + 1, c=c + 1))
    rows = []
    for layer in LAYERS:
        if layer not in info or not np.isfinite(info[layer]):
            continue
        txt = fmt_layer(layer, info[layer])
        rows.append(f"<tr><td>{html.escape(layer_label(layer, lang))}</td>"
                    f"<td style='text-align:right'><b>{txt}</b></td></tr>")
    told = "".join(f"<li>{html.escape(line)}</li>" for line in stories or [])
    story = (f"<div class='cr-grid-stories'><div style='font-weight:600;margin-top:6px'>"
             f"{html.escape(t('grid_stories', lang))}</div><ul style='margin:2px 0 0 16px;padding:0;"
             f"font-size:12px'>{told}</ul></div>") if told else ""
    return (f"<div style='font-weight:600;margin-bottom:4px'>{html.escape(head)}</div>"
            f"<table class='cr-grid-table'>{''.join(rows)}</table>{story}")


@solara.component
def GridInfo(session: AppSession, cell: solara.Reactive, lang: str, version: int) -> None:
    """The numbers of the hovered or clicked grid."""
    value = cell.value
    info, stories = None, []
    if value is not None:
        with session.lock:
            info = cell_info(session.model, *value)
            stories = grid_stories(session.model, value[0], value[1], lang) if info is not None else []
    r, c = value if value is not None else (0, 0)
    geo = geo_of(session.model)
    name = geo.label(int(info["district"]), "both") if geo is not None and info else None
    with solara.Card(t("grid_info", lang), classes=["cr-grid-info"], style={"min-width": "220px"}):
        solara.HTML(tag="div", unsafe_innerHTML=grid_html(info, r, c, lang, name, stories))


@solara.component
def CityMap(session: AppSession, lang: str, version: int) -> None:
    """Map card: layer picker, the map, and the grid detail card."""
    layer, set_layer = solara.use_state("open_cases")
    hover: solara.Reactive[tuple[int, int] | None] = solara.use_reactive(None)
    pinned: solara.Reactive[tuple[int, int] | None] = solara.use_reactive(None)
    district: solara.Reactive[int | None] = solara.use_reactive(None)
    model = session.model
    geo = geo_of(model)
    borders = solara.use_memo(lambda: [] if geo is not None else border_segments(model.district_of_cell),
                              [id(model)])
    maps = solara.use_memo(lambda: {MAP_NAME: geojson_text(geo)} if geo is not None else None,
                           [id(model)])

    def cell_of(event: dict[str, Any]) -> tuple[int, int] | None:
        data = event.get("data")
        if event.get("seriesIndex") != 0 or not isinstance(data, list | tuple) or len(data) < 2:
            return None
        if geo is not None:  # [lon, lat, value, row, col]
            return (int(data[3]), int(data[4])) if len(data) >= 5 else None
        return int(data[1]), int(data[0])

    def on_hover(event: dict[str, Any]) -> None:
        cell = cell_of(event)
        if cell is not None and pinned.value is None:
            hover.set(cell)

    def on_click(event: dict[str, Any]) -> None:
        if geo is not None and event.get("componentType") == "geo":
            d = district_of_name(geo, event.get("name"))
            district.set(None if d == district.value else d)
            return
        cell = cell_of(event)
        pinned.set(None if cell == pinned.value else cell)
        if cell is not None:
            hover.set(cell)

    with solara.Card(classes=["cr-map"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Tooltip(t("map_tip", lang)):
                solara.Text(t("map", lang) + " ⓘ",
                            style={"font-size": "16px", "font-weight": "600"})
            solara.ToggleButtonsSingle(value=layer, on_value=set_layer, values=[],
                                       children=[solara.Button(layer_label(k, lang), value=k,
                                                               small=True) for k in LAYERS[:PICKER_LAYERS]],
                                       classes=["cr-layer"])
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"flex": "2 1 380px", "min-width": "320px"}):
                with session.lock:
                    if geo is not None:
                        option = geo_map_option(model, layer, lang, district.value)
                        table = district_table_html(district_summary(model), lang, district.value)
                    else:
                        option = map_option(model, layer, lang, borders, pinned.value)
                EChart(option, version=session.day, height="420px", css_class="cr-map-chart",
                       on_click=on_click, on_mouseover=on_hover,
                       maps=maps)
                if geo is not None:
                    solara.HTML(tag="div", unsafe_innerHTML=table, classes=["cr-districts"])
            with solara.Column(style={"flex": "1 1 220px"}):
                GridInfo(session, pinned if pinned.value is not None else hover, lang, version)
                solara.Text(t("map_tip", lang), style={"font-size": "12px", "color": "#666"})


@solara.component
def LiveCharts(session: AppSession, lang: str, version: int) -> None:
    """The six live charts in a two-column grid."""
    df = session.frame()
    options = all_options(df, lang, session.band_frames())
    shown = bool(session.band_models)

    def toggle(on: bool) -> None:
        session.set_bands(BAND_RUNS - 1 if on else 0)
        set_bands(on)

    _, set_bands = solara.use_state(shown)
    with solara.Tooltip(t("bands_tip", lang)):
        solara.v.Checkbox(label=t("bands", lang), v_model=shown, on_v_model=toggle,
                          class_="cr-bands", dense=True, hide_details=True)
    with solara.GridFixed(columns=2):
        for chart in CHARTS:
            with solara.v.Sheet(elevation=2, class_=f"cr-chart cr-chart-{chart.key}",
                                style_="padding: 8px; border-radius: 4px"):
                EChart(options[chart.key], version=session.day, height="260px",
                       css_class=f"cr-echart-{chart.key}")


@solara.component
def Exports(session: AppSession, lang: str) -> None:
    """Download buttons (the files are made when clicked, from the model as it is then)."""
    name = f"cityrisk-{session.scenario_name}"

    def png() -> bytes:
        caption = f"{session.scenario_name} · " + t("day", lang, d=session.day)
        return charts_png(session.frame(), lang, caption)

    with solara.Row(style={"flex-wrap": "wrap"}, classes=["cr-exports"]):
        solara.FileDownload(png, filename=f"{name}-charts.png", label=t("export_png", lang),
                            mime_type="image/png")
        solara.FileDownload(lambda: kpi_csv(session, lang), filename=f"{name}-kpis.csv",
                            label=t("export_csv", lang), mime_type="text/csv")
        solara.FileDownload(lambda: daily_csv(session),
                            filename=f"{name}-daily.csv", label=t("export_ts", lang),
                            mime_type="text/csv")


@solara.component
def LiveView(session: AppSession, lang: str, sim_version: solara.Reactive) -> None:
    """Everything on the "Live city" tab; re-rendered after each simulated day."""
    version = sim_version.value
    with session.lock:
        kpis = session.model.kpis() if session.day > 0 else {}
    if session.day == 0:
        solara.Info(t("no_data", lang))
    solara.HTML(tag="div", unsafe_innerHTML=tiles_html(kpis, lang))
    if kpis.get("saturated_levels"):
        solara.Warning(saturation_text(kpis, lang), classes=["cr-saturated"])
    CityMap(session, lang, version)
    LiveCharts(session, lang, version)
    Exports(session, lang)
