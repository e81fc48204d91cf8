"""Issue 15 in a real browser (chromium + Playwright): each defect, a policy's URL round trip,
reload, run to day N and three policies side by side. Same server and rules as
test_app_browser.py (every request stays on the server)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from test_app_browser import (
    CHARTS_AT,
    CHROMIUM,
    DAY,
    _choose,
    app_server,
    browser,  # noqa: F401 - fixture
    open_page,
    server_errors,
    sync_api,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
assert Path(CHROMIUM).exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app server (``test_app_browser.app_server``); yields (url, log path, process)."""
    with app_server(tmp_path_factory) as running:
        yield running


def _cpu(pid: int) -> float:
    """CPU seconds used so far by a process (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def _type(page, lever: str, text: str) -> None:
    box = page.locator(f".cr-lever-{lever} .cr-exact input")
    box.fill(text)
    box.press("Enter")


def _open_group(page, cap: str) -> None:
    page.locator(f".cr-cap-{cap} .cr-cap-header").click()


def _status(page, lever: str):
    return page.locator(f".cr-lever-{lever} .cr-lever-status")


def test_lever_boxes(server, browser) -> None:  # noqa: F811
    """33% stays 33%; nan and 7.5/text get one line; the next value applies; budget cap said."""
    url, log, _ = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors)
    _type(page, "video_coverage", "33")
    sync_api.expect(_status(page, "video_coverage")).to_have_text(
        "Scenario value: 30% → now 33%")
    page.wait_for_timeout(1000)
    sync_api.expect(_status(page, "video_coverage")).to_have_text(
        "Scenario value: 30% → now 33%")
    _type(page, "video_coverage", "nan")
    sync_api.expect(page.locator(".cr-lever-video_coverage .cr-lever-error")).to_contain_text(
        "Not applied")
    _type(page, "video_coverage", "40")
    sync_api.expect(_status(page, "video_coverage")).to_have_text(
        "Scenario value: 30% → now 40%")
    for text in ("7.5", "abc"):
        _type(page, "grid_workers_per_grid", text)
        sync_api.expect(page.locator(".cr-lever-grid_workers_per_grid .cr-lever-error")
                        ).to_have_text("Not applied: enter a whole number from 0 to 20.")
        _type(page, "grid_workers_per_grid", "5")
    _open_group(page, "resource_integration")
    _type(page, "budget_million_yuan", "1")
    sync_api.expect(page.locator(".cr-budget-cut")).to_contain_text("staff cut to fit")
    page.context.close()
    assert outside == [] and errors == []
    assert not [ln for ln in log.read_text().splitlines() if "Too many renders" in ln]
    assert server_errors(log) == []


def test_picker_map_charts_and_exports(server, browser) -> None:  # noqa: F811
    url, log, _ = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors)
    page.locator(".cr-week").click()
    page.wait_for_function(CHARTS_AT, arg=7, timeout=30_000)
    # map: tooltip with a value and unit, legend with unit
    chart = page.locator(".cr-map-chart")
    box = chart.bounding_box()
    chart.hover(position={"x": box["width"] * 0.3, "y": box["height"] * 0.3})
    page.wait_for_timeout(600)
    tip = chart.inner_text()
    assert "{@" not in tip and "Open cases" in tip and "cases" in tip.split(":")[-1], tip
    legend = page.evaluate("() => document.querySelector('.cr-map-chart').__chart"
                           ".getOption().visualMap[0].text[0]")
    assert legend.endswith(" cases")
    kind = page.evaluate("() => document.querySelector('.cr-echart-open').__chart"
                         ".getOption().legend[0].type")
    assert kind == "scroll"
    # exports: cost in million yuan as labelled, days numbered like the page
    with page.expect_download() as dl:
        page.get_by_text("Download key figures (CSV)").click()
    rows = {r[0]: r for r in csv.reader(io.StringIO(Path(dl.value.path()).read_text()))}
    assert "million yuan" in rows["staff_cost"][1] and float(rows["staff_cost"][2]) < 1000
    with page.expect_download() as dl:
        page.get_by_text("Download daily series (CSV)").click()
    days = [int(r["day"]) for r in csv.DictReader(io.StringIO(Path(dl.value.path()).read_text()))]
    assert days[-1] == 7 == page.evaluate(DAY)
    # scenario picker while paused: the label follows
    page.locator(".cr-scenario").click()
    page.locator(".v-menu__content.menuable__content__active .v-list-item").filter(
        has_text="Understaffed").first.click()
    sync_api.expect(page.locator(".cr-controls")).to_contain_text("1,000,000 residents",
                                                                  timeout=60_000)
    sync_api.expect(page.locator(".cr-scenario")).to_contain_text("Understaffed")
    page.context.close()
    assert outside == [] and errors == []
    assert server_errors(log) == []


def test_url_round_trip_reload_and_run_to_day(server, browser) -> None:  # noqa: F811
    url, log, _ = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors)
    _type(page, "grid_workers_per_grid", "7")
    page.wait_for_function("() => location.search.includes('grid_workers_per_grid=7')",
                           timeout=10_000)
    shared = page.url
    assert "scenario=town" in shared and "lang=en" in shared
    page.reload()
    page.wait_for_function(CHARTS_AT, arg=0, timeout=60_000)
    sync_api.expect(_status(page, "grid_workers_per_grid")).to_have_text(
        "Scenario value: 5 → now 7")
    other = open_page(browser, "", outside, errors, query=shared)
    sync_api.expect(_status(other, "grid_workers_per_grid")).to_have_text(
        "Scenario value: 5 → now 7")
    # run to day 20: stops there
    box = other.locator(".cr-goal input")
    box.fill("20")
    box.press("Enter")
    sync_api.expect(other.locator(".cr-day")).to_have_text("Day 20", timeout=30_000)
    other.wait_for_timeout(800)
    assert other.evaluate(DAY) == 20
    sync_api.expect(other.locator(".cr-play")).to_have_text("Play")
    # uncertainty bands: 4 more runs caught up to day 20, drawn behind the lines
    other.locator(".cr-bands").click()
    other.wait_for_function("() => document.querySelector('.cr-echart-trust').__chart"
                            ".getOption().series.length === 3", timeout=30_000)
    other.locator(".cr-step").click()
    other.wait_for_function(CHARTS_AT, arg=21, timeout=30_000)
    # a refused lever in the URL: one line, the rest applies
    bad = open_page(browser, url, outside, errors,
                    query="?scenario=town&lang=en&grid_workers_per_grid=99&video_coverage=0.5")
    sync_api.expect(bad.locator(".cr-page-error")).to_contain_text("grid_workers_per_grid")
    sync_api.expect(_status(bad, "video_coverage")).to_have_text("Scenario value: 30% → now 50%")
    for p in (page, other, bad):
        p.context.close()
    assert [u for u in outside if "127.0.0.1" not in u] == [] and errors == []
    assert server_errors(log) == []


def test_three_policies_and_compare_kept_across_tabs(server, browser) -> None:  # noqa: F811
    url, log, proc = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors)
    page.get_by_role("tab", name="My policy vs. scenario").click()
    for i, value in enumerate(("6", "8", "10")):  # the levers stay in the sidebar
        _type(page, "grid_workers_per_grid", value)
        sync_api.expect(_status(page, "grid_workers_per_grid")).to_contain_text(f"now {value}")
        page.locator(".cr-cmp-add").click()
        sync_api.expect(page.locator(".cr-cmp-saved")).to_have_count(i + 1)
    sync_api.expect(page.locator(".cr-cmp-saved")).to_have_count(3)
    _choose(page, ".cr-cmp-days", "30")
    _choose(page, ".cr-cmp-reps", "3")
    page.locator(".cr-cmp-run").click()
    table = page.locator(".cr-cmp-multi")
    table.wait_for(timeout=120_000)
    for name in ("Policy A", "Policy B", "Policy C", "Escalations the system caused"):
        sync_api.expect(table).to_contain_text(name)
    page.get_by_role("tab", name="Live city").click()
    page.get_by_role("tab", name="My policy vs. scenario").click()
    sync_api.expect(page.locator(".cr-cmp-multi")).to_be_visible()
    # a long compare left by a tab switch stops (no orphaned CPU use)
    page.locator(".cr-cmp-clear").click()
    _choose(page, ".cr-cmp-days", "365")
    _choose(page, ".cr-cmp-reps", "20")
    logged = len(log.read_text())  # the server is shared: read only what comes after this
    page.locator(".cr-cmp-run").click()
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Live city").click()
    # the compare says it stopped (at its next run boundary: seconds, longer on a loaded
    # machine), then the server goes quiet: no orphaned CPU use
    deadline = time.monotonic() + 60
    while "compare stopped" not in log.read_text()[logged:] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "compare stopped" in log.read_text()[logged:], "the compare kept running after leaving its tab"
    quiet, deadline = False, time.monotonic() + 30
    while not quiet and time.monotonic() < deadline:
        c0 = _cpu(proc.pid)
        time.sleep(3)
        quiet = _cpu(proc.pid) - c0 < 1.0
    assert quiet, "the server kept working after the compare stopped"
    page.context.close()
    assert outside == [] and errors == []
    assert server_errors(log) == []
