"""Boston: do department queues that bind help the hold-out? A warm-start check (issue 12).

    .venv/bin/python experiments/boston_queues.py                 # staff 5000 2000 1600 1300
    .venv/bin/python experiments/boston_queues.py --staff 5000 1600 --seeds 2

The calibration's hold-out run starts on 1 July with empty queues, which hides a backlog carried
over from the fit window. Here the fitted city (calibration/fitted/boston.toml) runs without a
break from 1 January to 31 August 2015 (+30 days to observe the last requests; holidays, snow
season and winter seasons of the whole span, generated from Jan-Jun inputs as the fit's are) with
``levers.department_staff`` per department lowered until queues bind — public works, the
department with the most work in hand, binds first. Printed per staff level: the mean absolute
error over the ten agencies of the shares closed within 1, 7 and 30 days, for requests opened in
Jan-Jun (fit) and in Jul-Aug (hold-out), against the data; and the naive forecast's hold-out MAE.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import _common  # noqa: F401  (first: puts this checkout's sim ahead of an installed one)
import numpy as np
import pandas as pd

from sim.calibrate import boston as b
from sim.calibrate import boston_scenario as bs
from sim.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
SPAN = ("2015-01-01", "2015-09-01")


def continuous_scenario(data: b.BostonData, folder: Path) -> Path:
    """The fitted city run from 1 January to 31 August (+30 days), its calendar from Jan-Jun."""
    cats = bs.category_table(data, *b.FIT_WINDOW)
    seasons = bs.winter_categories(data, cats, *b.FIT_WINDOW)
    snowy = bs.snow_season(data, cats, seasons, *b.FIT_WINDOW)
    shocks = bs.calendar_shocks(*SPAN, bs.holiday_multiplier(data, *b.FIT_WINDOW),
                                bs.tracks(cats, seasons), snowy=snowy)
    days = (pd.Timestamp(SPAN[1]) - pd.Timestamp(SPAN[0])).days + bs.TAIL_DAYS
    fitted = (ROOT / "calibration" / "fitted" / "boston.toml").resolve()
    path = folder / "boston_jan_aug.toml"
    path.write_text("\n".join(["[meta]", 'name = "boston_jan_aug"', f'extends = "{fitted}"', "",
                               "[run]", f"days = {days}", f'start_date = "{SPAN[0]}"', "",
                               *shocks]), encoding="utf-8")
    return path


def mae(got: dict[str, float], want: dict[str, float]) -> list[float]:
    """Mean absolute error over the agencies, per horizon."""
    deps = b.AGENCIES.values()
    return [float(np.mean([abs(got.get(f"by_department.{d}.closed_within_{h}h", np.nan)
                               - want[f"by_department.{d}.closed_within_{h}h"]) for d in deps]))
            for h in b.HORIZONS_H]


def main(argv: list[str] | None = None) -> int:
    """Run the check and print one line per staff level."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--staff", type=int, nargs="+", default=[5000, 2000, 1600, 1300])
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args(argv)
    data = b.load()
    deps = list(b.AGENCIES.values())
    want = {w: b.statistics(data, *w, departments=deps) for w in (b.FIT_WINDOW, b.HOLDOUT_WINDOW)}
    naive = mae(want[b.FIT_WINDOW], want[b.HOLDOUT_WINDOW])
    print("naive forecast, hold-out MAE (1/7/30 d):", np.round(naive, 4))
    with tempfile.TemporaryDirectory() as tmp:
        scenario = continuous_scenario(data, Path(tmp))
        for staff in args.staff:
            errs: dict[tuple[str, str], list[list[float]]] = {w: [] for w in want}
            for seed in range(args.seeds):
                out = Path(tmp) / f"run-{staff}-{seed}"
                assert cli(["run", str(scenario), "--seed", str(seed), "--quiet", "--force",
                            "--set", f"levers.department_staff={staff}", "--out", str(out)]) == 0
                frame = b.model_frame(pd.read_parquet(out / "cases.parquet"))
                for w in want:
                    errs[w].append(mae(b.closure_shares(frame, *w), want[w]))
            fit, hold = (np.round(np.mean(errs[w], axis=0), 4) for w in want)
            print(f"department_staff {staff}: MAE Jan-Jun {fit}  MAE Jul-Aug {hold}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
