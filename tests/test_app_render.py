"""The page rendered in-process (no browser): per-session models, levers written to the running
model, a step redraws the charts, every visible label in the chosen language, update cost."""

from __future__ import annotations

import re
import time

import ipyvuetify as v
import pytest
import solara

from sim.app import session as session_mod
from sim.app.app import Page
from sim.app.echart import EChartWidget
from sim.app.i18n import CAPACITY_TEXT, LEVER_TEXT, t

ENGLISH_WORD = re.compile(r"\b[A-Z][a-z]{3,}\b")


@pytest.fixture()
def render(monkeypatch):
    """Render the page for language ``lang``; returns the render context."""
    made: list = []

    def _render(lang: str = "en", scenario: str = "town"):
        monkeypatch.setenv("CITYRISK_APP_LANG", lang)
        monkeypatch.setenv("CITYRISK_APP_SCENARIO", scenario)
        box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
        made.append(rc)
        return rc

    yield _render
    for rc in made:
        rc.close()


def _walk(rc) -> list:
    """Every widget in the page (Reacton's finder stops at the first match of a branch)."""
    seen, out = set(), []
    stack = [rc.container]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        kids = list(getattr(w, "children", None) or [])
        for slot in getattr(w, "v_slots", None) or []:
            kids += slot.get("children", []) if isinstance(slot.get("children"), list) \
                else [slot.get("children")]
        stack += [k for k in kids if hasattr(k, "keys")]
    return out


def _find(rc, cls, css: str | None = None) -> list:
    return [w for w in _walk(rc) if isinstance(w, cls)
            and (css is None or css in (getattr(w, "class_", "") or "").split())]


def _inside(rc, css: str, cls, inner: str | None = None) -> list:
    """Widgets of ``cls`` (with class ``inner``) inside the element with class ``css``."""
    (outer,) = [w for w in _walk(rc) if css in (getattr(w, "class_", "") or "").split()]

    class _Sub:
        container = outer

    return _find(_Sub, cls, inner)


def _texts(rc) -> list[str]:
    out = []
    for w in _find(rc, v.Html):
        out += [c for c in w.children if isinstance(c, str)]
    return out


def _charts(rc) -> list[EChartWidget]:
    return _find(rc, EChartWidget)


def test_page_in_chinese_shows_chinese_labels(render) -> None:
    rc = render("zh")
    texts = " ".join(_texts(rc))
    assert CAPACITY_TEXT["risk_prevention"]["zh"][0] in texts
    assert LEVER_TEXT["levers.grid_workers_per_grid"]["zh"][0] in texts
    buttons = [w.children[0] for w in _find(rc, v.Btn) if w.children
               and isinstance(w.children[0], str)]
    assert t("step", "zh") in buttons and t("reset", "zh") in buttons
    # no stray English label among the visible texts (scenario file names aside)
    stray = [s for s in _texts(rc) if ENGLISH_WORD.search(s)]
    assert stray == [], stray


def test_page_in_english(render) -> None:
    rc = render("en")
    texts = " ".join(_texts(rc))
    assert "Risk prevention" in texts and "Grid workers per grid" in texts


def test_step_redraws_every_chart_and_map(render) -> None:
    rc = render("en")
    charts = _charts(rc)
    assert len(charts) == 7  # map + six charts
    _find(rc, v.Btn, "cr-step")[0].click()
    _find(rc, v.Btn, "cr-week")[0].click()
    assert {c.version for c in _charts(rc)} == {8}
    trust = next(c for c in _charts(rc) if "cr-echart-trust" in c.attributes["class"])
    assert trust.option["title"]["text"] == "Trust in government (%)"
    assert len(trust.option["series"][0]["data"]) == 8
    tiles = [w for w in _find(rc, v.Html) if "cr-tiles" in str(getattr(w, "unsafe_innerHTML", ""))
             or "cr-tiles" in str(w.children)]
    assert tiles  # the key figures appear once there is a day to show


def test_moving_a_lever_writes_the_running_model(render, monkeypatch) -> None:
    sessions = []
    real = session_mod.AppSession

    class Spy(real):  # type: ignore[misc, valid-type]
        def __post_init__(self) -> None:
            super().__post_init__()
            sessions.append(self)

    monkeypatch.setattr("sim.app.app.AppSession", Spy)
    rc = render("en")
    (slider,) = _inside(rc, "cr-lever-grid_workers_per_grid", v.Slider)
    slider.v_model = 9
    (s,) = sessions
    assert s.model.levers.grid_workers_per_grid == 9
    assert s.changed_levers() == {"levers.grid_workers_per_grid": 9}
    chips = _find(rc, v.Chip, "cr-changed")
    assert chips, "a changed lever is marked"
    # a value out of range typed in the exact-value box is refused on the server
    (box,) = _inside(rc, "cr-lever-grid_workers_per_grid", v.TextField)
    box.v_model = "99"
    box.fire_event("keyup.enter", None)
    assert s.model.levers.grid_workers_per_grid == 9
    errors = _find(rc, v.Html, "cr-lever-error")
    assert errors and errors[0].children[0] == (
        "Not applied: enter a whole number from 0 to 20.")


def test_each_render_builds_its_own_session(render, monkeypatch) -> None:
    sessions = []
    real = session_mod.AppSession

    class Spy(real):  # type: ignore[misc, valid-type]
        def __post_init__(self) -> None:
            super().__post_init__()
            sessions.append(self)

    monkeypatch.setattr("sim.app.app.AppSession", Spy)
    a, b = render("en"), render("en")
    _find(a, v.Btn, "cr-week")[0].click()
    assert [s.day for s in sessions] == [7, 0]
    assert sessions[0].model is not sessions[1].model
    assert {c.version for c in _charts(b)} == {0}


def test_clicking_a_grid_shows_its_residents_stories(render, monkeypatch) -> None:
    sessions = []
    real = session_mod.AppSession

    class Spy(real):  # type: ignore[misc, valid-type]
        def __post_init__(self) -> None:
            super().__post_init__()
            sessions.append(self)

    monkeypatch.setattr("sim.app.app.AppSession", Spy)
    rc = render("en")
    for _ in range(3):
        _find(rc, v.Btn, "cr-week")[0].click()
    m = sessions[0].model
    grid = int(m.stories.cols["grid"][m.stories.head - 1])  # the grid of the latest closure
    r, c = divmod(int(m.layout.cell_of_grid[grid]), m.layout.cols)
    (chart,) = [w for w in _charts(rc) if "cr-map-chart" in w.attributes["class"]]
    chart.vue_on_click({"seriesIndex": 0, "data": [c, r, 0.0]})
    texts = [str(w.children) for w in _find(rc, v.Html) if "cr-grid-stories" in str(w.children)]
    assert texts and all("Recent stories" in x and "#" in x and " — " in x for x in texts)


def test_step_and_page_update_on_town_within_budget(render) -> None:
    """Server side of one step on town: simulate a day and re-render the page (no browser)."""
    rc = render("en")
    step = _find(rc, v.Btn, "cr-step")[0]
    step.click()  # warm up (first day compiles)
    cpu = []
    for _ in range(10):
        c = time.process_time()
        step.click()
        cpu.append(time.process_time() - c)
    cpu.sort()
    assert cpu[len(cpu) // 2] < 0.1, cpu  # measured ~0.03 s here
