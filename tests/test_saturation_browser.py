"""Real-browser test of the saturation warning in ``cityrisk app`` (same harness as
``test_app_browser.py``): with one judge per court (a lever set in the page's address, as a shared
link would) the court's queue grows, and after six simulated weeks the live view names it; with
the default staff the page shows no such warning."""

from __future__ import annotations

import pytest
from test_app_browser import CHARTS_AT, app_server, open_page, server_errors, sync_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _run_weeks(page, weeks: int) -> None:
    for w in range(1, weeks + 1):
        page.locator(".cr-week").click()
        page.wait_for_function(CHARTS_AT, arg=7 * w, timeout=60_000)


def test_a_saturated_court_is_named_on_the_live_view(tmp_path_factory) -> None:
    with app_server(tmp_path_factory) as (url, log, _proc), sync_api.sync_playwright() as pw:
        from test_app_browser import ARGS, CHROMIUM

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        outside: list[str] = []
        errors: list[str] = []
        page = open_page(browser, url, outside, errors, query="?scenario=town&lang=en&legal_capacity=1")
        _run_weeks(page, 6)
        warning = page.locator(".cr-saturated")
        sync_api.expect(warning).to_contain_text("Saturated: Court (100% busy, queue +")
        sync_api.expect(warning).to_contain_text("grow with every day simulated")
        plain = open_page(browser, url, outside, errors, query="?scenario=town&lang=en")
        _run_weeks(plain, 6)
        assert plain.locator(".cr-saturated").count() == 0
        browser.close()
        assert outside == [] and errors == [], (outside, errors)
        assert server_errors(log) == []
