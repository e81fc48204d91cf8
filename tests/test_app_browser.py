"""Real-browser tests of ``cityrisk app``: Playwright drives Debian's chromium (/usr/bin/chromium,
installed by .ci/install_chromium.sh) against a server started with ``python -m sim app``.

Every request the page makes is checked to stay on the server (the app must work on an offline
intranet); anything else is aborted and fails the test. Screenshots go to
``$CITYRISK_APP_SCREENSHOTS`` (docs/img when refreshing the docs) or a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
VIEW = {"width": 1440, "height": 1000}
LOAD_TIMEOUT = 90_000

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it
    pytest.skip("chromium not installed (bash .ci/install_chromium.sh)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

DAY = "() => parseInt(document.querySelector('.cr-day').innerText.replace(/[^0-9]/g, ''))"
CHARTS_AT = """(d) => {
  const els = document.querySelectorAll('.cr-echart');
  return els.length >= 7
    && Array.from(els).every(e => e.getAttribute('data-version') === String(d));
}"""
CHART_TITLES = """() => Array.from(document.querySelectorAll('.cr-echart')).map(
  e => e.__chart ? (e.__chart.getOption().title || [{}])[0].text : null)"""
# click "Next day" inside the page and time until the day counter and all 7 charts are redrawn
MEASURE = """async () => {
  const day = () => parseInt(document.querySelector('.cr-day').innerText.replace(/[^0-9]/g, ''));
  const d0 = day(), t0 = performance.now();
  document.querySelector('.cr-step').click();
  const ok = () => Array.from(document.querySelectorAll('.cr-echart')).every(
      e => e.getAttribute('data-version') === String(d0 + 1));
  while (performance.now() - t0 < 20000) {
    await new Promise(r => requestAnimationFrame(r));
    if (day() === d0 + 1 && ok()) {
      await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - t0;
    }
  }
  return null;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    path = Path(os.environ.get("CITYRISK_APP_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def app_server(tmp_path_factory):
    """``python -m sim app --scenario town --lang en`` on a free port; yields (url, log path,
    process) once it answers HTTP, and stops it afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--scenario", "town",
                                 "--port", str(port), "--lang", "en"], cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("server did not start:\n" + log.read_text()) from None
                time.sleep(0.5)
        yield url, log, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app server; yields (url, log path)."""
    with app_server(tmp_path_factory) as (url, log, _proc):
        yield url, log


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, url: str, outside: list[str], errors: list[str], query: str = ""):
    """A new browser session on the app, all requests kept on the server."""
    ctx = browser.new_context(viewport=VIEW, accept_downloads=True)
    page = ctx.new_page()

    def route(r):
        if r.request.url.startswith(url.rstrip("/")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack}"))
    page.goto(url + query)
    page.locator(".cr-day").wait_for(timeout=LOAD_TIMEOUT)
    page.wait_for_function(CHARTS_AT, arg=0, timeout=LOAD_TIMEOUT)
    return page


def snap(page, path: Path, height: int = 1750) -> None:
    """Screenshot of the whole page from the top (the content scrolls inside a panel, so a tall
    window is used instead of Playwright's full-page mode)."""
    page.mouse.move(VIEW["width"] - 5, VIEW["height"] - 5)  # close tooltips
    page.set_viewport_size({"width": VIEW["width"], "height": height})
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) "
                  "e.scrollTop = 0; })")
    page.wait_for_timeout(800)  # charts follow their containers' new size
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEW)
    page.wait_for_timeout(300)


def server_errors(log: Path) -> list[str]:
    """Tracebacks (each with its last frame and the exception line, so a failure says what went
    wrong), errors, and asset fetches from the internet (a missing offline asset)."""
    bad = ("Traceback", "ERROR", "Could not load URL")
    lines = log.read_text().splitlines()
    found = []
    for i, ln in enumerate(lines):
        if not any(b in ln for b in bad):
            continue
        end = i + 1
        while ln.startswith("Traceback") and end < len(lines) and lines[end][:1] in (" ", "\t"):
            end += 1  # the indented frames; the exception line follows them
        found.append("\n".join([ln, *lines[max(i + 1, end - 2):end + 1]]))
    return found


def test_policymaker_flow(server, browser, shots) -> None:
    url, log = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors)
    assert page.evaluate(DAY) == 0

    # move a lever with the keyboard: grid workers per grid 5 -> 7
    lever = page.locator(".cr-lever-grid_workers_per_grid")
    lever.locator("[role=slider]").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    sync_api.expect(lever.locator(".cr-lever-status")).to_have_text(
        "Scenario value: 5 → now 7", timeout=10_000)
    sync_api.expect(lever.locator(".cr-changed")).to_be_visible()

    # step a day, then a week: the day counter and every chart follow
    trust = page.locator(".cr-echart-trust")
    page.locator(".cr-step").click()
    page.wait_for_function(CHARTS_AT, arg=1, timeout=30_000)
    assert page.evaluate(DAY) == 1
    before = trust.screenshot()
    page.locator(".cr-week").click()
    page.wait_for_function(CHARTS_AT, arg=8, timeout=30_000)
    sync_api.expect(page.locator(".cr-day")).to_have_text("Day 8")
    page.wait_for_timeout(300)
    assert trust.screenshot() != before, "the trust chart did not change"

    # timing: one simulated day of town, page fully redrawn
    times = [page.evaluate(MEASURE) for _ in range(10)]
    assert all(x is not None for x in times)
    med = statistics.median(times)
    (shots / "app-timing.json").write_text(json.dumps(
        {"scenario": "town", "click_to_redrawn_ms": times, "median_ms": med}, indent=1))
    assert med < 1500, times  # a benchmark, not a timed test; measured value in docs/app.md

    # the map: clicking a grid shows its numbers
    chart = page.locator(".cr-map-chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    spot = {"x": box["width"] * 0.3, "y": box["height"] * 0.3}
    chart.hover(position=spot)
    page.wait_for_timeout(500)
    chart.click(position=spot)
    sync_api.expect(page.locator(".cr-grid-info")).to_contain_text("District 1", timeout=10_000)
    sync_api.expect(page.locator(".cr-grid-info")).to_contain_text("Trust in government")

    # exports
    with page.expect_download() as dl:
        page.get_by_text("Download key figures (CSV)").click()
    text = Path(dl.value.path()).read_text()
    assert "escalated_share" in text
    assert "levers.grid_workers_per_grid,Grid workers per grid,7" in text
    with page.expect_download() as dl:
        page.get_by_text("Download charts (PNG)").click()
    assert Path(dl.value.path()).read_bytes()[:4] == b"\x89PNG"
    snap(page, shots / "app-live-en.png")

    # switch to Chinese: labels, tooltips and chart titles follow
    day = page.evaluate(DAY)
    page.locator(".cr-lang").click()
    sync_api.expect(page.locator(".cr-day")).to_have_text(f"第 {day} 天")
    for text in ("政策杠杆", "风险防控能力", "下一天", "城市地图", "未结案件"):
        sync_api.expect(page.get_by_text(text).first).to_be_visible()
    titles = page.evaluate(CHART_TITLES)
    assert "群众信任度(%)" in titles and "未结案件(按严重程度)" in titles, titles
    page.get_by_text("每个网格的网格员 ⓘ").hover()
    sync_api.expect(page.locator(".v-tooltip__content").filter(has_text="枫桥经验")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "app-tooltip-zh.png"),
                    clip={"x": 0, "y": 0, "width": 960, "height": 560})
    snap(page, shots / "app-live-zh.png")

    # compare mode: my levers vs the scenario's, same seeds, several replications
    page.get_by_role("tab", name="政策对比").click()
    sync_api.expect(page.get_by_text("每个网格的网格员: 5 → 7")).to_be_visible()
    _choose(page, ".cr-cmp-days", "30")
    _choose(page, ".cr-cmp-reps", "3")
    page.locator(".cr-cmp-run").click()
    summary = page.locator(".cr-cmp-summary")
    summary.wait_for(timeout=300_000)
    sync_api.expect(summary).to_contain_text("每种设置模拟 30 天,配对运行 3 次")
    sync_api.expect(summary).to_contain_text("至")  # "−10%(−11% 至 −9%)"
    sync_api.expect(page.locator(".cr-cmp-table")).to_contain_text("升级比例")
    snap(page, shots / "app-compare-zh.png", height=1500)
    page.locator(".cr-lang").click()
    sync_api.expect(summary).to_contain_text("30 simulated days, 3 paired runs each")
    sync_api.expect(page.locator(".cr-cmp-table")).to_contain_text("Escalated")
    snap(page, shots / "app-compare-en.png", height=1500)

    assert outside == [], f"requests left the machine: {outside}"
    assert errors == [], errors
    assert server_errors(log) == []


_PICK_ITEM = """([text]) => {
    const items = document.querySelectorAll(".v-menu__content.menuable__content__active .v-list-item");
    const item = [...items].find((el) => el.textContent.trim() === text);
    if (item) { item.click(); return true; }
    return false;
}"""


def _choose(page, css: str, text: str) -> None:
    """Pick ``text`` in the select ``css``. The item is clicked from the page's side as soon as
    the open menu lists it: under load a re-render can detach the menu's items again and again
    while Playwright waits for them to hold still, which is not what is tested here."""
    for _ in range(3):
        page.locator(css).click()
        try:
            page.wait_for_function(_PICK_ITEM, arg=[text], timeout=15_000)
            sync_api.expect(page.locator(css)).to_contain_text(text, timeout=15_000)
            return
        except (AssertionError, sync_api.Error):
            page.keyboard.press("Escape")  # close a menu left open, and try again
    sync_api.expect(page.locator(css)).to_contain_text(text)


def test_two_sessions_are_independent(server, browser) -> None:
    url, log = server
    outside: list[str] = []
    errors: list[str] = []
    a = open_page(browser, url, outside, errors)
    b = open_page(browser, url, outside, errors)
    a.locator(".cr-lever-video_coverage [role=slider]").focus()
    a.keyboard.press("ArrowRight")
    sync_api.expect(a.locator(".cr-lever-video_coverage .cr-changed")).to_be_visible()
    a.locator(".cr-week").click()
    sync_api.expect(a.locator(".cr-day")).to_have_text("Day 7")
    b.wait_for_timeout(1000)
    sync_api.expect(b.locator(".cr-day")).to_have_text("Day 0")
    sync_api.expect(b.locator(".cr-lever-video_coverage .cr-changed")).to_have_count(0)
    sync_api.expect(b.locator(".cr-lever-video_coverage .cr-lever-status")).to_have_text(
        "Scenario value: 30%")
    b.locator(".cr-step").click()
    sync_api.expect(b.locator(".cr-day")).to_have_text("Day 1")
    sync_api.expect(a.locator(".cr-day")).to_have_text("Day 7")
    for p in (a, b):
        p.context.close()
    assert outside == [] and errors == []
    assert server_errors(log) == []


def test_ten_sessions_stepping_at_once(server, browser) -> None:
    url, log = server
    outside: list[str] = []
    errors: list[str] = []
    pages = [open_page(browser, url, outside, errors) for _ in range(10)]
    try:
        ten_sessions_step_play_and_pause(pages)
    finally:  # a failure must not leave ten sessions playing into the next test
        for p in pages:
            p.context.close()
    assert outside == [] and errors == []
    assert server_errors(log) == []


def ten_sessions_step_play_and_pause(pages: list) -> None:
    """Every session asks for a week at (nearly) the same moment, three times; then all ten play
    at once (the server shares its processors among them) and pause."""
    click = "(css) => document.querySelector(css).click()"
    for _ in range(3):
        for p in pages:
            p.evaluate(click, ".cr-week")
        for p in pages:
            p.wait_for_function(f"() => ({DAY})() % 7 === 0 && ({DAY})() > 0", timeout=60_000)
        time.sleep(0.2)
    for p in pages:
        sync_api.expect(p.locator(".cr-day")).to_have_text("Day 21", timeout=60_000)
        p.wait_for_function(CHARTS_AT, arg=21, timeout=60_000)
    for p in pages:
        p.evaluate(click, ".cr-play")
    for p in pages:  # as a user would: pause once the button offers it (under load it takes a while)
        sync_api.expect(p.locator(".cr-play")).to_have_text("Pause", timeout=60_000)
    time.sleep(3)
    for p in pages:
        p.evaluate(click, ".cr-play")
    for p in pages:
        sync_api.expect(p.locator(".cr-play")).to_have_text("Play", timeout=60_000)
        assert p.evaluate(DAY) > 21
        assert p.locator(".v-alert.error").count() == 0


def test_baseline_map_has_district_borders(server, browser, shots) -> None:
    """The 1M-resident city opens from the URL (?scenario=baseline&lang=zh), steps, and its map
    shows the district borders and the grid details."""
    url, log = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors, query="?scenario=baseline&lang=zh")
    sync_api.expect(page.locator(".cr-controls")).to_contain_text("1,000,000 名居民")
    page.locator(".cr-week").click()
    page.wait_for_function(CHARTS_AT, arg=7, timeout=60_000)
    borders = page.evaluate("() => document.querySelector('.cr-map-chart').__chart"
                            ".getOption().series[1].data.length")
    assert borders >= 5  # outline plus the lines between the five districts
    chart = page.locator(".cr-map-chart")
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.4})
    sync_api.expect(page.locator(".cr-grid-info")).to_contain_text("区")
    page.mouse.move(5, 5)
    page.wait_for_timeout(500)
    page.locator(".cr-map").screenshot(path=str(shots / "app-map-baseline-zh.png"))
    page.context.close()
    assert outside == [] and errors == []
    assert server_errors(log) == []


def test_scenario_path_in_url_is_refused_in_one_line(server, browser) -> None:
    """``?scenario=/etc/passwd`` (issue #14): the page opens the default scenario and says in one
    line that only scenario names are accepted; nothing of the file reaches the page."""
    url, log = server
    outside: list[str] = []
    errors: list[str] = []
    page = open_page(browser, url, outside, errors, query="?scenario=/etc/passwd&lang=en")
    msg = page.locator(".cr-page-error")
    sync_api.expect(msg).to_contain_text("not a scenario name")
    text = msg.inner_text()
    assert "/etc/passwd" in text and "\n" not in text.strip() and "Traceback" not in text
    body = page.locator("body").inner_text()
    assert "root:" not in body and "Traceback" not in body
    sync_api.expect(page.locator(".cr-day")).to_have_text("Day 0")  # the default city runs
    page.context.close()
    assert outside == [] and errors == []


def test_foreign_host_header_is_refused(server) -> None:
    """DNS rebinding: a request naming another host gets 400 from the guard."""
    url, _ = server
    req = urllib.request.Request(url, headers={"Host": "rebind.attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 400
