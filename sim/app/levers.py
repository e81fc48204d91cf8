"""Lever panel: one slider (plus an exact-value box) per lever, grouped by the four capacities.

A moved lever is written to the running model at once (``AppSession.set_lever``) and applies from
the next simulated day; it does not need a restart. Values are checked on the server.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import reacton.ipyvuetify as v
import solara

from sim.config.params import ScenarioError

from .i18n import CAPACITIES, capacity_label, lever_label, lever_tip, t
from .session import AppSession, lever_field

UNITS: dict[str, dict[str, str]] = {
    "levers.latency_hours_per_hop": {"en": "h", "zh": "小时"},
    "levers.silo_penalty_hours": {"en": "h", "zh": "小时"},
}


def _nice_ceiling(x: float) -> float:
    """Smallest of 1, 2, 2.5, 5 × 10^k that is >= x."""
    if x <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= x - 1e-9:
            return m * k
    return 10 * k


def slider_range(key: str, default: float, value: float) -> tuple[float, float, float]:
    """(min, max, step) of a lever's slider: the whole range for shares, else a range around the
    scenario's own value (exact values up to the schema bound go in the box beside it)."""
    f = lever_field(key)
    lo, hi = float(f.lo or 0.0), float(f.hi if f.hi is not None else 1.0)
    if hi <= 1.0:
        return lo, hi, 0.05
    top = _nice_ceiling(max(4.0 * max(default, value), 10.0 if f.kind == "int" else 2.0))
    top = min(hi, top)
    if f.kind == "int":
        step = max(1.0, _nice_ceiling(top / 200.0)) if top > 200 else 1.0
    else:
        step = _nice_ceiling(top / 100.0) if top > 10 else 0.1
        if key == "levers.screening_per_week":
            step = 0.5
    return lo, top, step


def fmt_lever(key: str, value: float, lang: str) -> str:
    """A lever value for display (shares in per cent)."""
    f = lever_field(key)
    if f.kind == "int":
        return f"{int(value):,}"
    if (f.hi or 0) <= 1.0:
        return f"{value * 100:.0f}%"
    if key == "levers.budget_million_yuan" and value == 0:
        return "∞"
    unit = UNITS.get(key, {}).get(lang, "")
    return f"{value:,.10g}" + (f" {unit}" if unit else "")


def is_share(key: str) -> bool:
    """True for levers shown and typed in per cent (floats between 0 and 1)."""
    f = lever_field(key)
    return f.kind == "float" and (f.hi or 0) <= 1.0


def snap(x: float, lo: float, step: float) -> float:
    """``x`` rounded to the slider's step (what the slider would show)."""
    return lo + round((x - lo) / step) * step


def box_text(key: str, value: float) -> str:
    """A lever value as the exact-value box shows it (shares in per cent, no unit)."""
    if lever_field(key).kind == "int":
        return str(int(value))
    return f"{value * 100:.10g}" if is_share(key) else f"{value:.10g}"


def parse_box(key: str, text: str | None) -> float | int | str:
    """The lever value typed in the box (shares in per cent), or a message key's text ("" when
    the value is a number out of range, to be explained by :func:`lever_error_text`)."""
    raw = (text or "").strip().replace(",", "").rstrip("%").strip()
    try:
        x = float(raw)
    except ValueError:
        return ""
    if not math.isfinite(x):
        return ""
    if lever_field(key).kind == "int":
        return int(x) if x.is_integer() else ""
    return x / 100 if is_share(key) else x


def lever_error_text(key: str, typed: Any, lang: str) -> str:
    """One line saying why a typed value was not applied (whole numbers named as such)."""
    f = lever_field(key)
    lo_, hi_ = f.lo or 0.0, f.hi or 0.0
    if is_share(key):
        bounds = (f"{lo_ * 100:.0f}%", f"{hi_ * 100:.0f}%")
    else:
        bounds = (f"{lo_:,.10g}", f"{hi_:,.10g}")
    name = "lever_error_int" if f.kind == "int" else "lever_error"
    return t(name, lang, lo=bounds[0], hi=bounds[1])


@solara.component
def LeverRow(session: AppSession, key: str, lang: str, version: int,
             on_change: Callable[[], None]) -> None:
    """One lever: label with tooltip, changed marker, slider and exact-value box."""
    error, set_error = solara.use_state("")
    value = session.levers[key]
    default = session.defaults[key]
    lo, hi, step = slider_range(key, default, value)

    def apply(new: Any) -> None:
        try:
            session.set_lever(key, new)
            set_error("")
        except ScenarioError:
            set_error(lever_error_text(key, new, lang))
        on_change()

    def from_slider(new: Any) -> None:
        # the slider rounds a typed value to its step and reports it back: not a user move
        if new is None or abs(float(new) - snap(min(value, hi), lo, step)) < step / 2:
            return
        apply(new)

    def from_box(text: str | None) -> None:
        parsed = parse_box(key, text)
        if isinstance(parsed, str):
            set_error(parsed if parsed else lever_error_text(key, text, lang))
            return
        apply(parsed)

    slug = key.split(".", 1)[1]
    with solara.Column(gap="0px", classes=["cr-lever", f"cr-lever-{slug}"]):
        with solara.Row(gap="4px", style={"align-items": "center"}):
            with solara.Tooltip(lever_tip(key, lang)):
                solara.Text(lever_label(key, lang) + " ⓘ",
                            style={"font-size": "13px", "font-weight": "500", "cursor": "help"})
            if value != default:
                v.Chip(x_small=True, color="amber lighten-3", children=[t("changed", lang)],
                       class_="cr-changed")
        with solara.Row(gap="6px", style={"align-items": "center"}):
            with solara.Column(style={"flex": "1 1 auto", "min-width": "120px"}):
                v.Slider(v_model=snap(min(value, hi), lo, step), min=lo, max=hi, step=step,
                         dense=True, hide_details=True, thumb_label=False, class_="cr-slider",
                         on_v_model=from_slider)
            # a plain text box, parsed on the server: "nan", "7.5" for a whole number or text
            # get a one-line message instead of a widget stuck on an unequal value
            solara.InputText("", value=box_text(key, value), on_value=from_box,
                             continuous_update=False, classes=["cr-exact"],
                             style={"max-width": "84px"})
        status = t("scenario_value", lang, v=fmt_lever(key, default, lang))
        if value != default:
            status += " → " + t("now_value", lang, v=fmt_lever(key, value, lang))
        solara.Text(status, classes=["cr-lever-status"],
                    style={"font-size": "11px", "color": "#666"})
        if error:
            solara.Text(error, classes=["cr-lever-error"],
                        style={"font-size": "11px", "color": "#c62828"})


@solara.component
def LeverPanel(session: AppSession, lang: str, lever_version: solara.Reactive,
               on_change: Callable[[], None]) -> None:
    """All levers, in four expandable groups (the article's four capacities)."""
    version = lever_version.value  # re-render the panel (only) when a lever changes
    # Only the open groups' sliders are in the page: every element in the page is walked on
    # each simulated day, so fewer elements means a faster update.
    open_panels, set_open = solara.use_state([0])
    cuts = session.budget_cuts()
    with solara.Column(gap="4px", classes=["cr-levers"]):
        with solara.Tooltip(t("levers_tip", lang)):
            solara.Text(t("levers", lang), style={"font-size": "16px", "font-weight": "600"})
        if cuts:  # the model scales staff down to fit the cap: say so
            parts = "; ".join(f"{lever_label(k, lang)} {w:,} → {g:,}" for k, (w, g) in cuts.items())
            solara.Warning(t("budget_cut", lang, cap=fmt_lever(
                "levers.budget_million_yuan", session.levers["levers.budget_million_yuan"], lang),
                cuts=parts), dense=True, classes=["cr-budget-cut"])
        with v.ExpansionPanels(multiple=True, v_model=open_panels, accordion=False, flat=True,
                               on_v_model=lambda x: set_open(list(x or []))):
            for i, (cap, keys) in enumerate(CAPACITIES.items()):
                title, desc = capacity_label(cap, lang)
                n_changed = sum(session.levers[k] != session.defaults[k] for k in keys)
                badge = f"  ({n_changed} {t('changed', lang)})" if n_changed else ""
                with v.ExpansionPanel(class_=f"cr-cap cr-cap-{cap}"):
                    with v.ExpansionPanelHeader(class_="cr-cap-header"):
                        solara.Text(title + badge, style={"font-weight": "600"})
                    with v.ExpansionPanelContent():
                        if i in open_panels:
                            solara.Text(desc, style={"font-size": "12px", "color": "#555"})
                            for key in keys:
                                LeverRow(session, key, lang, version, on_change)
