"""Real-browser test of the app on a real geography (``city.geometry``): the district outlines are
registered with ECharts and drawn, the districts are named in Chinese and English, and clicking
on the map shows a district's numbers. Same harness as ``test_app_browser.py`` (Debian chromium
driven by Playwright, every request kept on the server).

Screenshots go to ``$CITYRISK_APP_SCREENSHOTS`` (docs/img when refreshing the docs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_app_browser import (
    ARGS,
    CHARTS_AT,
    CHROMIUM,
    ROOT,
    _free_port,
    open_page,
    server_errors,
    snap,
    sync_api,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXAMPLE = ROOT / "docs" / "examples" / "mycity" / "mycity.toml"
REGIONS = """() => {
  const el = document.querySelector('.cr-map-chart');
  if (!el || !el.__chart) return null;
  const geo = el.__chart.getModel().getComponent('geo');
  return geo && geo.coordinateSystem ? geo.coordinateSystem.regions.map(r => r.name) : null;
}"""
PIXEL = """([lon, lat]) => {
  const el = document.querySelector('.cr-map-chart');
  if (!el || !el.__chart || !el.__chart.getModel() || !el.__chart.getModel().getComponent('geo')) {
    return null;
  }
  const p = el.__chart.convertToPixel({geoIndex: 0}, [lon, lat]);
  const r = el.getBoundingClientRect();
  return [p[0] + r.left, p[1] + r.top];
}"""


def _serve(scenario: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--scenario", scenario,
                                 "--port", str(port), "--lang", "en"], cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("server did not start:\n" + log.read_text()) from None
            time.sleep(0.5)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    path = Path(os.environ.get("CITYRISK_APP_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("scenario, names, probe, shot", [
    (str(EXAMPLE), [("老城区", "Old Town"), ("河西区", "Hexi"), ("东山县", "Dongshan")],
     (109.22, 34.35), "app-geo-mycity.png"),
    ("xian", [("碑林区", "Beilin"), ("雁塔区", "Yanta"), ("周至县", "Zhouzhi"), ("长安区", "Chang'an")],
     (108.95, 34.10), "app-geo-xian.png"),
])
def test_real_map_shows_districts_by_name(scenario, names, probe, shot, browser, shots,
                                          tmp_path) -> None:
    log = tmp_path / "server.log"
    proc, url = _serve(scenario, log)
    try:
        outside: list[str] = []
        errors: list[str] = []
        page = open_page(browser, url, outside, errors)
        page.locator(".cr-step").click()
        page.wait_for_function(CHARTS_AT, arg=1, timeout=60_000)
        regions = page.wait_for_function(REGIONS, timeout=60_000).json_value()
        for zh, en in names:  # the outlines are registered and labelled in both languages
            assert f"{zh}\n{en}" in regions, regions
        table = page.locator(".cr-district-table")
        for zh, en in names:
            sync_api.expect(table).to_contain_text(f"{zh} {en}")
        # click inside a district: its grid's numbers (or the district's row) come up
        page.locator(".cr-map-chart").scroll_into_view_if_needed()
        x, y = page.wait_for_function(PIXEL, arg=list(probe), timeout=30_000).json_value()
        page.mouse.click(x, y)
        page.wait_for_timeout(800)
        info = page.locator(".cr-grid-info").inner_text()
        selected = page.locator(".cr-district-row[style]").count()
        assert selected == 1 or any(zh in info for zh, _ in names), info
        snap(page, shots / shot, height=1400)
        assert not outside, outside
        assert not errors, errors
        assert not server_errors(log), server_errors(log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
