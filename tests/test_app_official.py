"""Issue 15 ("app for an official"), in-process: the defects, save and share, run to day N,
several policies side by side. Real-browser checks of the same: test_app_official_browser.py."""

from __future__ import annotations

import csv
import io
import json

import ipyvuetify as v
import pytest
import solara
from test_app_render import _find, _inside

from sim.app import session as session_mod
from sim.app.app import Page, open_session
from sim.app.charts import CHARTS, all_options
from sim.app.citymap import map_option
from sim.app.compare import run_policies
from sim.app.levers import parse_box
from sim.app.live import daily_csv, kpi_csv
from sim.app.pacing import Players, play_pause
from sim.app.session import AppSession
from sim.app.share import levers_from_query, read_settings, settings_json, share_query
from sim.config.params import ScenarioError


@pytest.fixture()
def page(monkeypatch):
    """The page rendered for town in English, and its session."""
    sessions: list[AppSession] = []
    real = session_mod.AppSession

    class Spy(real):  # type: ignore[misc, valid-type]
        def __post_init__(self) -> None:
            super().__post_init__()
            sessions.append(self)

    monkeypatch.setattr("sim.app.app.AppSession", Spy)
    monkeypatch.setenv("CITYRISK_APP_LANG", "en")
    monkeypatch.setenv("CITYRISK_APP_SCENARIO", "town")
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    yield rc, sessions[0]
    rc.close()


def _type(rc, lever: str, text: str) -> None:
    (box,) = _inside(rc, f"cr-lever-{lever}", v.TextField)
    box.v_model = text
    box.fire_event("keyup.enter", None)


def _lever_error(rc, lever: str) -> str:
    errs = _inside(rc, f"cr-lever-{lever}", v.Html, "cr-lever-error")
    return errs[0].children[0] if errs else ""


def test_exact_box_value_is_not_snapped_to_the_slider_step(page) -> None:
    rc, s = page
    _type(rc, "video_coverage", "33")
    assert s.levers["levers.video_coverage"] == pytest.approx(0.33)
    (slider,) = _inside(rc, "cr-lever-video_coverage", v.Slider)
    slider.v_model = slider.v_model  # the slider reporting its rounded position back
    slider.v_model = 0.35
    assert s.levers["levers.video_coverage"] == pytest.approx(0.33)
    slider.v_model = 0.5  # a real move still applies
    assert s.levers["levers.video_coverage"] == pytest.approx(0.5)


def test_nan_in_a_decimal_box_is_one_line_and_the_next_value_applies(page) -> None:
    rc, s = page
    _type(rc, "video_coverage", "nan")
    assert "Not applied" in _lever_error(rc, "video_coverage")
    assert s.levers["levers.video_coverage"] == s.defaults["levers.video_coverage"]
    _type(rc, "video_coverage", "40")
    assert s.levers["levers.video_coverage"] == pytest.approx(0.40)
    assert _lever_error(rc, "video_coverage") == ""


@pytest.mark.parametrize("text", ["7.5", "abc"])
def test_whole_number_lever_says_whole_number(page, text) -> None:
    rc, s = page
    _type(rc, "grid_workers_per_grid", text)
    assert _lever_error(rc, "grid_workers_per_grid") == (
        "Not applied: enter a whole number from 0 to 20.")
    assert s.levers["levers.grid_workers_per_grid"] == 5


def test_parse_box() -> None:
    assert parse_box("levers.video_coverage", "33%") == pytest.approx(0.33)
    assert parse_box("levers.grid_workers_per_grid", "7") == 7
    assert parse_box("levers.grid_workers_per_grid", "7.5") == ""
    assert parse_box("levers.latency_hours_per_hop", "inf") == ""


def test_scenario_picker_shows_the_new_city_when_paused(page) -> None:
    rc, s = page
    (picker,) = _find(rc, v.Select, "cr-scenario")
    picker.v_model = "understaffed"
    assert s.scenario_name == "understaffed"
    (picker,) = _find(rc, v.Select, "cr-scenario")
    assert picker.v_model == "understaffed"
    texts = [w.children[0] for w in _find(rc, v.Html) if w.children
             and isinstance(w.children[0], str)]
    assert any("1,000,000 residents" in x for x in texts)


def test_map_tooltip_is_not_a_raw_template_and_legend_has_units() -> None:
    s = AppSession("town")
    s.step(2)
    opt = map_option(s.model, "open_cases", "en", [])
    assert "{@" not in json.dumps(opt)
    assert opt["tooltip"]["crValue"] == {"index": 2, "unit": "cases"}
    assert opt["visualMap"]["text"][0].endswith(" cases")
    assert map_option(s.model, "trust", "zh", [])["visualMap"]["text"][0].endswith("%")


def test_chart_legends_stay_on_one_line_above_the_plot() -> None:
    s = AppSession("town")
    s.step(2)
    opts = all_options(s.frame(), "en")
    for chart in CHARTS:
        o = opts[chart.key]
        if o["legend"].get("show", True):
            assert o["legend"]["type"] == "scroll"
            assert o["grid"]["top"] >= o["legend"]["top"] + 24
        assert o["grid"]["containLabel"] is True


def test_csv_exports_match_their_labels_and_the_page_day() -> None:
    s = AppSession("town")
    s.step(7)
    rows = {r[0]: r for r in csv.reader(io.StringIO(kpi_csv(s, "en")))}
    cost = s.model.kpis()["staff_cost"]
    assert "million yuan" in rows["staff_cost"][1]
    assert float(rows["staff_cost"][2]) == pytest.approx(cost / 1e6)
    daily = list(csv.DictReader(io.StringIO(daily_csv(s))))
    assert [int(r["day"]) for r in daily] == list(range(1, 8))


def test_budget_cap_cutting_staff_is_said(page) -> None:
    rc, s = page
    assert _find(rc, v.Alert, "cr-budget-cut") == []
    s.set_lever("levers.budget_million_yuan", 1.0)
    _type(rc, "grid_workers_per_grid", "6")  # any lever change redraws the panel
    (alert,) = _find(rc, v.Alert, "cr-budget-cut")
    assert "staff cut to fit" in str(alert.children)
    assert s.budget_cuts()["levers.grid_workers_per_grid"] == (6, 0)


def test_compare_result_survives_a_tab_switch_and_leaving_cancels() -> None:
    from sim.app.compare_view import CompareResult, CompareView

    s = AppSession("town")
    s.compare = CompareResult("town", 30, 3, {})
    version = solara.reactive(0)
    _, rc = solara.render(CompareView(s, "en", version), handle_error=False)
    assert _find(rc, v.Card, "cr-cmp-summary")  # shown again when the tab is back
    rc.close()


def test_url_and_settings_round_trip() -> None:
    q = share_query("town", "en", {"levers.grid_workers_per_grid": 7,
                                    "levers.video_coverage": 0.33})
    assert q == "scenario=town&lang=en&grid_workers_per_grid=7&video_coverage=0.33"
    from urllib.parse import parse_qsl
    query = dict(parse_qsl(q))
    s, problem = open_session(query["scenario"], ["town"], query)
    assert problem == "" and s is not None
    assert s.changed_levers() == {"levers.grid_workers_per_grid": 7,
                                  "levers.video_coverage": 0.33}
    name, lang, levers = read_settings(settings_json("town", "zh", s.levers).encode())
    assert (name, lang, levers) == ("town", "zh", s.levers)


@pytest.mark.parametrize("query, words", [
    ({"grid_workers_per_grid": "99"}, "grid_workers_per_grid"),
    ({"grid_workers_per_grid": "nan"}, "grid_workers_per_grid"),
    ({"evil": "1"}, "not a lever"),
])
def test_bad_url_levers_are_refused_in_one_line(query, words) -> None:
    levers, problems = levers_from_query(query)
    assert levers == {} and len(problems) == 1 and words in problems[0]
    s, problem = open_session("town", ["town"], query)
    assert s is not None and s.changed_levers() == {} and "\n" not in problem


@pytest.mark.parametrize("data", [b"x" * 30_000, b"{}", b"\xff", json.dumps(
    {"kind": "cityrisk-app-settings", "scenario": "town", "levers": {"city_staff": -1}}).encode()])
def test_bad_settings_files_are_refused(data) -> None:
    with pytest.raises(ScenarioError):
        read_settings(data)


def test_play_speed() -> None:
    assert play_pause(5, 0.05, 1) == pytest.approx(0.15)
    assert play_pause(0, 0.05, 3) < 0.05


def test_many_players_share_the_processors() -> None:
    """Alone, a session rests only for its speed; with ten playing on two processors each rests
    until all together are busy at most BUSY_SHARE of them, and the count goes back down."""
    from sim.app.pacing import BUSY_SHARE

    players = Players(cpus=2)
    with players.playing():
        assert players.rest(0, 0.05, 3) == play_pause(0, 0.05, 3)
        assert players.rest(5, 0.05, 1) == pytest.approx(0.15)
    stack = [players.playing() for _ in range(10)]
    for block in stack:
        block.__enter__()
    took = 0.06
    rest = players.rest(0, took, 3)
    assert 10 * took / (took + rest) == pytest.approx(BUSY_SHARE * 2)
    assert players.rest(1, took, 1) == pytest.approx(1 - took)  # a slow speed rests longer still
    for block in stack:
        block.__exit__(None, None, None)
    assert players.count == 0


def test_three_policies_share_the_scenario_runs() -> None:
    calls = []

    def run(scenario, params, seed, days):
        calls.append((params, seed))
        return {"x": float(seed) + (params or {}).get("a", 0)}

    base, arms = run_policies(run, None, [{"a": 1}, {"a": 2}, {"a": 3}], 5, 2)
    assert len(base) == 2 and [len(a) for a in arms] == [2, 2, 2]
    assert [c for c in calls if c[0] is None] == [(None, 0), (None, 1)]
    assert arms[2][1]["x"] == 4.0


def test_bands_from_several_replications() -> None:
    s = AppSession("town")
    s.step(3)
    s.set_bands(2)
    assert [m.day for m in s.band_models] == [3, 3]
    s.set_lever("levers.grid_workers_per_grid", 7)
    s.step(2)
    assert all(m.day == 5 and m.levers.grid_workers_per_grid == 7 for m in s.band_models)
    opts = all_options(s.frame(), "en", s.band_frames())
    trust = opts["trust"]["series"]
    assert len(trust) == 3 and trust[1]["areaStyle"]  # lower edge, band, line
    lo, width = trust[0]["data"], trust[1]["data"]
    line = trust[2]["data"]
    assert all(a <= c + 1e-6 <= a + b + 2e-6 for a, b, c in zip(lo, width, line, strict=True))
    assert opts["trust"]["legend"] == {"show": False}
    s.set_bands(0)
    assert s.band_frames() == []
