"""Click → redraw on the ``town`` page in a real browser (target: median ≤ 150 ms, p90 ≤ 250 ms
on a quiet machine): "Next day" is clicked inside the page and the time until the day counter
and all seven charts show the new day is taken. Printed with the machine's load, never asserted.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_app_click.py [--clicks 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_app_browser import ARGS, CHARTS_AT, CHROMIUM, DAY, MEASURE, VIEW, _free_port  # noqa: E402


def main() -> None:
    """Start the app, click "Next day" ``--clicks`` times, print median and p90."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clicks", type=int, default=40)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--scenario", "town", "--port",
                             str(port), "--lang", "en"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport=VIEW)
            page.goto(url)
            page.wait_for_function(CHARTS_AT, arg=0, timeout=90_000)
            for _ in range(3):  # warm up
                page.evaluate(MEASURE)
            load0 = os.getloadavg()[0]
            times = [page.evaluate(MEASURE) for _ in range(args.clicks)]
            day = page.evaluate(DAY)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ok = sorted(x for x in times if x is not None)
    p90 = ok[min(len(ok) - 1, int(round(0.9 * (len(ok) - 1))))]
    print(f"town click→redraw over {len(ok)} clicks (to day {day}): "
          f"median {statistics.median(ok):.0f} ms, p90 {p90:.0f} ms, max {ok[-1]:.0f} ms; "
          f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after, "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
