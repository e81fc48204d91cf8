"""Real-browser test of the early-warning layer and the capacity index in ``cityrisk app`` (same
harness as ``test_app_browser.py``: Debian chromium driven by Playwright, every request kept on
the server). After a simulated week the forecaster has scored every grid: the map can be
coloured by it, and the key figures show the capacity index beside the safety index."""

from __future__ import annotations

import pytest
from test_app_browser import CHARTS_AT, app_server, open_page, server_errors, sync_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_SERIES = """() => {
  const el = document.querySelector('.cr-map-chart');
  if (!el || !el.__chart) return null;
  const s = el.__chart.getOption().series[0];
  return {name: s.name, values: s.data.map(d => d[2])};
}"""


def test_warning_layer_and_capacity_index(tmp_path_factory) -> None:
    with app_server(tmp_path_factory) as (url, log, _proc), \
            sync_api.sync_playwright() as pw:
        from test_app_browser import ARGS, CHROMIUM

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        outside: list[str] = []
        errors: list[str] = []
        page = open_page(browser, url, outside, errors)
        page.locator(".cr-week").click()  # the first weekly forecast is issued on day 7
        page.wait_for_function(CHARTS_AT, arg=7, timeout=60_000)
        sync_api.expect(page.locator(".cr-tile-capacity_index")).to_contain_text("Capacity index")
        sync_api.expect(page.locator(".cr-tile-safety_index")).to_be_visible()
        page.get_by_role("button", name="Early warning (risk percentile)").click()
        page.wait_for_function("() => { const el = document.querySelector('.cr-map-chart');"
                               " return el && el.__chart && el.__chart.getOption().series[0].name"
                               ".startsWith('Early warning'); }", timeout=30_000)
        got = page.evaluate(MAP_SERIES)
        assert got["name"] == "Early warning (risk percentile) (%)"
        values = got["values"]
        # each grid's share of the other grids scored lower, in per cent
        assert len(values) == 100 and min(values) == 0 and 50 < max(values) <= 100, values
        browser.close()
        assert outside == [] and errors == [], (outside, errors)
        assert server_errors(log) == []
