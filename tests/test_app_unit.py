"""Fast tests of the app's pieces: translations, lever bounds, sessions, comparison statistics,
map borders, chart options, exports and the ``cityrisk app`` command line."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest

import sim
from sim.app import cli as app_cli
from sim.app.charts import CHARTS, all_options, charts_png, thin
from sim.app.citymap import border_segments, cell_info, grid_stories, map_option
from sim.app.compare import KpiDiff, paired_interval, run_compare, sentence, summarise, summary
from sim.app.i18n import (
    CAPACITIES,
    LANGS,
    LAYER_TEXT,
    LEVER_TEXT,
    STRINGS,
    kpi_name,
    t,
)
from sim.app.levers import slider_range
from sim.app.live import grid_html, kpi_csv
from sim.app.session import AppSession, check_lever
from sim.config.params import ScenarioError

ARTICLE_TERMS = ("多网合一", "枫桥经验", "雪亮工程", "群防群治", "综治中心", "三级联动")
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- translations ------------------------------------------------------------------------------
def test_every_lever_has_label_and_tooltip_in_both_languages() -> None:
    assert set(LEVER_TEXT) == set(sim.LEVERS)
    for key, text in LEVER_TEXT.items():
        for lang in LANGS:
            label, tip = text[lang]
            assert label and len(tip) > 20, (key, lang)
        assert CJK.search(text["zh"][0]) and CJK.search(text["zh"][1]), key


def test_levers_grouped_by_four_capacities_each_exactly_once() -> None:
    assert list(CAPACITIES) == ["risk_prevention", "resource_integration", "conflict_resolution",
                                "information_processing"]
    grouped = [k for keys in CAPACITIES.values() for k in keys]
    assert sorted(grouped) == sorted(sim.LEVERS)


def test_tooltips_use_the_articles_terms() -> None:
    zh = " ".join(v["zh"][1] + v["zh"][0] for v in LEVER_TEXT.values())
    en = " ".join(v["en"][1] for v in LEVER_TEXT.values())
    for term in ARTICLE_TERMS:
        assert term in zh, term
        assert term in en, term  # English tooltips keep the Chinese term next to the gloss


def test_every_string_in_both_languages_with_same_placeholders() -> None:
    for table in (STRINGS,):
        for key, entry in table.items():
            assert set(entry) == set(LANGS), key
            ph = {lang: set(re.findall(r"{(\w+)}", entry[lang])) for lang in LANGS}
            assert ph["zh"] == ph["en"], key
            if key not in ("lang", "lang_tip"):  # these name the *other* language
                assert CJK.search(entry["zh"]), key
    for table in (LAYER_TEXT,):  # KPI labels: tests/test_outcomes_registry.py
        for key, entry in table.items():
            assert set(entry) == set(LANGS), key


def test_t_formats_and_kpi_names() -> None:
    assert t("day", "zh", d=3) == "第 3 天"
    assert t("day", "en", d=3) == "Day 3"
    assert kpi_name("escalated_share", "zh") == "升级比例"


# -- levers: bounds are enforced on the server ---------------------------------------------------
@pytest.mark.parametrize("key,value", [
    ("levers.grid_workers_per_grid", 21), ("levers.grid_workers_per_grid", -1),
    ("levers.grid_workers_per_grid", 2.5), ("levers.video_coverage", 1.5),
    ("levers.video_coverage", "lots"), ("levers.latency_hours_per_hop", float("nan")),
    ("levers.no_such_lever", 1),
])
def test_out_of_bounds_lever_values_are_rejected(key: str, value: object) -> None:
    with pytest.raises(ScenarioError, match=re.escape(key)):
        check_lever(key, value)


def test_lever_values_are_converted() -> None:
    assert check_lever("levers.grid_workers_per_grid", "7") == 7
    assert check_lever("levers.grid_workers_per_grid", 7.0) == 7
    assert check_lever("levers.video_coverage", "0.5") == 0.5


def test_slider_ranges_cover_the_default_and_stay_in_bounds() -> None:
    for key, field in sim.LEVERS.items():
        lo, hi, step = slider_range(key, field.default, field.default)
        assert field.lo <= lo <= field.default <= hi <= field.hi, key
        assert 0 < step <= (hi - lo) or hi == lo, key


@pytest.fixture(scope="module")
def town() -> AppSession:
    s = AppSession("town")
    s.step(3)
    return s


def test_session_set_lever_writes_the_running_model_and_rejects_bad_values() -> None:
    s = AppSession("town")
    s.set_lever("levers.grid_workers_per_grid", 8)
    assert s.model.levers.grid_workers_per_grid == 8
    assert s.changed_levers() == {"levers.grid_workers_per_grid": 8}
    with pytest.raises(ScenarioError, match=r"\[0, 20\]"):
        s.set_lever("levers.grid_workers_per_grid", 99)
    assert s.model.levers.grid_workers_per_grid == 8  # unchanged
    s.step(2)
    assert s.day == 2
    s.reset()  # restart keeps the current levers
    assert s.day == 0 and s.model.levers.grid_workers_per_grid == 8
    s.restore_defaults()
    assert s.changed_levers() == {} and s.model.levers.grid_workers_per_grid == 5


def test_two_sessions_are_independent() -> None:
    a, b = AppSession("town"), AppSession("town")
    a.set_lever("levers.mediators_per_street", 30)
    a.step(2)
    assert b.day == 0 and b.model.levers.mediators_per_street == a.defaults[
        "levers.mediators_per_street"]
    assert a.model is not b.model


def test_frame_adds_p90_and_cost_rate(town: AppSession) -> None:
    df = town.frame()
    assert len(df) == 3
    assert {"p90_hours_to_resolution", "cost_rate", "open_severity_0"} <= set(df.columns)
    assert df["cost_rate"].iloc[-1] > 0


# -- map -----------------------------------------------------------------------------------------
def test_border_segments_outline_and_district_line() -> None:
    d = np.array([[0, 0, 1], [0, 0, 1], [-1, -1, 1]])
    segs = border_segments(d)
    # the vertical line between districts 0 | 1 (rows 0-1) and outside | 1 (row 2) is one segment
    assert [[1.5, -0.5], [1.5, 2.5]] in segs
    assert [[-0.5, 1.5], [1.5, 1.5]] in segs  # bottom of district 0
    # every segment is axis-parallel
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in segs)


def test_map_option_and_cell_info(town: AppSession) -> None:
    m = town.model
    opt = map_option(m, "trust", "zh", border_segments(m.district_of_cell), selected=(0, 0))
    cells = int((m.district_of_cell >= 0).sum())
    assert len(opt["series"][0]["data"]) == cells
    assert opt["series"][0]["name"].startswith("群众信任度")
    json.dumps(opt)  # JSON-serialisable for the browser
    info = cell_info(m, 0, 0)
    assert info is not None and 0 <= info["trust"] <= 100
    assert cell_info(m, -1, 0) is None


def test_grid_panel_tells_recent_stories_in_both_languages() -> None:
    s = AppSession("town")
    s.step(20)
    m = s.model
    grid = int(m.stories.cols["grid"][m.stories.head - 1])  # the grid of the latest closure
    r, c = divmod(int(m.layout.cell_of_grid[grid]), m.layout.cols)
    en, zh = grid_stories(m, r, c, "en"), grid_stories(m, r, c, "zh")
    assert en and len(en) == len(zh) <= 4
    assert en[0].startswith("#") and "day" in en[0] and "第" in zh[0]
    page = grid_html(cell_info(m, r, c), r, c, "en", stories=en)
    assert "cr-grid-stories" in page and "Recent stories" in page
    assert "cr-grid-stories" not in grid_html(cell_info(m, r, c), r, c, "en")
    assert grid_stories(m, -1, 0, "en") == []


# -- charts and exports -------------------------------------------------------------------------
def test_chart_options_have_translated_titles_and_data(town: AppSession) -> None:
    df = town.frame()
    for lang in LANGS:
        opts = all_options(df, lang)
        assert set(opts) == {c.key for c in CHARTS}
        for chart in CHARTS:
            o = opts[chart.key]
            assert o["title"]["text"] == chart.heading(lang)
            assert o["series"] and all(len(s["data"]) == 3 for s in o["series"]), chart.key
            json.dumps(o)
    assert len(thin(10_000)) <= 400 and thin(10_000)[-1] == 9_999


def test_png_and_csv_exports(town: AppSession) -> None:
    png = charts_png(town.frame(), "zh", "town · 第 3 天")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    rows = list(csv.reader(io.StringIO(kpi_csv(town, "zh"))))
    keys = {r[0] for r in rows}
    assert {"escalated_share", "safety_index", "levers.grid_workers_per_grid"} <= keys
    assert ["day", "天", "3"] in rows


# -- compare -------------------------------------------------------------------------------------
def test_paired_interval_matches_t_distribution() -> None:
    m, lo, hi = paired_interval(np.array([1.0, 2.0, 3.0]))
    assert m == 2.0 and lo == pytest.approx(2 - 2.919986 / np.sqrt(3)) and hi > m


def test_sentence_format() -> None:
    d = KpiDiff("escalated_share", base=0.10, policy=0.082, diff=-0.018, diff_lo=-0.024,
                diff_hi=-0.011, rel=-0.18, rel_lo=-0.24, rel_hi=-0.11, n=5)
    assert sentence(d, "en") == "Escalated (severity ≥ 2) \u221218% (\u221224% to \u221211%)"
    assert sentence(d, "zh") == "升级比例 \u221218%(\u221224% 至 \u221211%)"
    assert d.verdict() == "better"


def test_summarise_and_summary_on_fake_runs() -> None:
    rng = np.random.default_rng(0)
    base = [{"collective_incidents": 100 + rng.normal(0, 5), "staff_cost": 1e7,
             "mean_trust": 0.6 + rng.normal(0, 0.01)} for _ in range(5)]
    pol = [{"collective_incidents": b["collective_incidents"] * 0.8, "staff_cost": 1.2e7,
            "mean_trust": b["mean_trust"]} for b in base]
    diffs = {d.key: d for d in summarise(base, pol)}
    assert diffs["collective_incidents"].rel == pytest.approx(-0.2)
    assert diffs["collective_incidents"].verdict() == "better"
    assert diffs["staff_cost"].verdict() == "worse"
    assert diffs["mean_trust"].verdict() == "unclear"
    lines = summary(list(diffs.values()), "en")
    assert lines[0][0].startswith("Collective incidents (severity ≥ 2) \u221220%")
    assert any("million yuan" in text for text, _ in lines)


def test_run_compare_uses_the_same_seeds_in_both_arms() -> None:
    calls = []

    def fake_run(scenario, params=None, seed=0, days=None):
        calls.append((params, seed, days))
        return {"x": float(seed)}

    base, pol = run_compare(fake_run, "town", {"levers.video_coverage": 0.9}, 30, 3)
    assert [c[1] for c in calls] == [0, 0, 1, 1, 2, 2]
    assert [c[0] for c in calls[::2]] == [None] * 3 and all(c[2] == 30 for c in calls)
    assert [b["x"] for b in base] == [p["x"] for p in pol] == [0.0, 1.0, 2.0]
    done = []
    base, pol = run_compare(fake_run, "town", {}, 30, 5,
                            progress=lambda i, n: done.append(i) or i < 3)
    assert len(base) == len(pol) == 1  # cancelled after the second replication started


@pytest.mark.slow
def test_compare_on_town_with_common_random_numbers() -> None:
    base, pol = run_compare(sim.run, "town", {"levers.grid_workers_per_grid": 10}, 20, 2)
    same, _ = run_compare(sim.run, "town", {}, 20, 2)
    assert [r["cases_total"] for r in base] == [r["cases_total"] for r in same]
    d = {x.key: x for x in summarise(base, pol)}
    assert d["staff_cost"].diff > 0


# -- command line --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,needle", [
    (["--scenario", "nope"], "nope"),
    (["--port", "0"], "--port"),
    (["--port", "http"], "--port"),
    (["--lang", "fr"], "--lang"),
])
def test_cli_bad_input_exits_2_with_message(argv, needle, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        code = app_cli.main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


def test_cli_defaults_bind_loopback_and_set_env() -> None:
    import argparse

    p = argparse.ArgumentParser()
    app_cli.register(p.add_subparsers())
    args = p.parse_args(["app"])
    assert (args.host, args.port, args.lang, args.scenario) == ("127.0.0.1", 8765, "zh", "town")
    cmd = app_cli.server_command(args.host, args.port)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd
    env = app_cli.server_env("town", "en")
    assert env["CITYRISK_APP_LANG"] == "en" and env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_offline_assets_installed() -> None:
    """The JavaScript/CSS the page needs is in solara's local cache (.ci/install_solara_assets.sh),
    so the app works on an intranet with no internet."""
    assert app_cli.missing_assets() == []


def test_cli_registered_in_cityrisk() -> None:
    from sim.cli import build_parser

    args = build_parser().parse_args(["app", "--scenario", "baseline", "--lang", "en"])
    assert args.func is app_cli.handler and args.lang == "en"


def test_play_survives_a_brief_disconnect_but_stops_for_a_closed_tab() -> None:
    # a websocket that drops and reconnects under load must not stop the play loop (the user's
    # next Pause click would restart it); a page gone for the grace period does stop it
    import time
    from unittest import mock

    from solara.server import kernel_context

    from sim.app.app import _page_connected

    ctx = mock.Mock(page_status={"p": kernel_context.PageStatus.CONNECTED})
    with mock.patch.object(kernel_context, "get_current_context", return_value=ctx):
        connected = _page_connected(grace_seconds=0.3)
        assert connected()
        ctx.page_status = {"p": kernel_context.PageStatus.DISCONNECTED}
        assert connected()  # within the grace period
        time.sleep(0.4)
        assert not connected()
        ctx.page_status = {"p": kernel_context.PageStatus.CONNECTED}
        assert connected()
