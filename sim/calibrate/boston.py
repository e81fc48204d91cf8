"""Boston 311 (Jan–Aug 2015): load the request file and compute calibration statistics.

The statistics use the same flat, dotted key names as the KPIs of ``sim.run`` where one
exists (``by_department.<D>.closed_within_24h`` ...), so a statistic computed here and the
model's output for it can be compared key by key.

Definitions (all over requests *opened* in the half-open window ``[start, end)``):

* ``by_department.<D>.closed_within_{24,168,720}h`` — share of the department's requests
  closed within 1, 7 and 30 days of opening. Requests still open at extraction count as
  *not closed* (right-censored). A request whose horizon reaches past the extraction time
  and is still open is counted as not closed too and reported in ``censored_before_horizon``
  (zero for this file: extraction is ~4 months after the last request).
* ``weekly_var_mean`` — variance/mean (ddof=1) of arrivals in consecutive 7-day blocks
  counted from ``start``; a trailing partial block is dropped. 1 for Poisson arrivals.
* ``weekday_multiplier.<0..6>`` (Monday = 0) — mean arrivals on that weekday / mean daily
  arrivals; ``month_multiplier.<1..12>`` likewise per calendar month.
* ``proactive_share`` — share from staff-generated sources (``PROACTIVE_SOURCES``), the
  analogue of proactive grid detection.
* ``by_department.<D>.cases`` / ``.cases_per_day`` / ``.proactive_share`` /
  ``.open_at_extraction``; ``by_type.<slug>.cases_per_day`` (slug = lower-case type name,
  non-alphanumerics -> ``_``; ``type_names()`` maps slugs back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.resources import SOURCE_ROOT, shipped

REPO_ROOT = SOURCE_ROOT  # where `python -m sim.calibrate.boston_scenario` writes (a checkout)
DATA_FILE = shipped("calibration") / "data" / "boston311_2015_jan_aug.csv.gz"

#: Sources that are staff-generated (the analogue of proactive grid detection).
PROACTIVE_SOURCES: tuple[str, ...] = ("Employee Generated", "City Worker App")
#: Closure horizons (hours) reported per department: 1, 7 and 30 days.
HORIZONS_H: tuple[int, ...] = (24, 168, 720)
#: Fit and hold-out windows used by the Boston calibration (half-open, dates).
FIT_WINDOW = ("2015-01-01", "2015-07-01")
HOLDOUT_WINDOW = ("2015-07-01", "2015-09-01")

_DATE_COLS = ["OPEN_DT", "TARGET_DT", "CLOSED_DT"]

#: Department code in the file -> department name used in the scenario and in target keys.
#: Codes with fewer than ~100 requests in Jan-Aug (GEN_, HS_Y, CHT_, BPS_, HS_V, HS_D, No Q)
#: are pooled as ``other``.
DEPARTMENTS: dict[str, str] = {
    "PWDx": "public_works", "ISD": "inspectional_services", "BTDT": "transportation",
    "INFO": "mayors_hotline", "PARK": "parks", "PROP": "property_management",
    "HS_O": "civil_rights", "BWSC": "water_sewer", "DISB": "disability",
    "ANML": "animal_control",
}
OTHER = "other"


def department_name(code: str) -> str:
    """Scenario name of a department code (``other`` for the small ones)."""
    return DEPARTMENTS.get(code, OTHER)


@dataclass(frozen=True)
class BostonData:
    """The request table plus the extraction time (latest timestamp seen in the file)."""

    frame: pd.DataFrame
    extraction: pd.Timestamp


def slug(name: str) -> str:
    """Key-safe form of a name: lower case, runs of non-alphanumerics -> ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "unnamed"


def load(path: str | Path | None = None) -> BostonData:
    """Read the CSV(.gz); add ``hours_to_close`` (NaN if open, clock jitter < 0 -> 0),
    ``is_open`` and ``proactive`` columns. Extraction time = latest OPEN/CLOSED timestamp."""
    df = pd.read_csv(path or DATA_FILE, parse_dates=_DATE_COLS)
    missing = {"OPEN_DT", "CLOSED_DT", "Department", "TYPE", "Source"} - set(df.columns)
    if missing:
        raise ValueError(f"{path or DATA_FILE}: missing columns {sorted(missing)}")
    hours = (df["CLOSED_DT"] - df["OPEN_DT"]).dt.total_seconds() / 3600.0
    df["hours_to_close"] = hours.clip(lower=0.0)
    df["is_open"] = df["CLOSED_DT"].isna()
    df["proactive"] = df["Source"].isin(PROACTIVE_SOURCES)
    df["department"] = df["Department"].map(department_name)
    extraction = max(df["OPEN_DT"].max(), df["CLOSED_DT"].max())
    return BostonData(frame=df, extraction=pd.Timestamp(extraction))


def window(data: BostonData, start: str, end: str) -> pd.DataFrame:
    """Requests opened in ``[start, end)``."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    if e <= s:
        raise ValueError(f"window end {end} must be after start {start}")
    df = data.frame
    return df[(df["OPEN_DT"] >= s) & (df["OPEN_DT"] < e)]


def block_counts(open_dt: pd.Series, start: str, end: str, block_days: int = 7) -> np.ndarray:
    """Arrivals per consecutive ``block_days`` block from ``start``; partial tail dropped."""
    s = pd.Timestamp(start)
    n_days = (pd.Timestamp(end) - s).days
    n_blocks = n_days // block_days
    day = ((open_dt - s).dt.total_seconds() // 86400).astype(int).to_numpy()
    counts = np.bincount(day // block_days, minlength=n_blocks + 1)
    return counts[:n_blocks]


def dispersion(counts: np.ndarray) -> float:
    """Variance/mean (ddof=1) of counts; NaN with fewer than two blocks or zero mean."""
    counts = np.asarray(counts, dtype=float)
    if counts.size < 2 or counts.mean() == 0:
        return float("nan")
    return float(counts.var(ddof=1) / counts.mean())


def closed_within(df: pd.DataFrame, hours: float) -> float:
    """Share of requests closed within ``hours`` of opening; open ones count as not closed."""
    if len(df) == 0:
        return float("nan")
    return float((df["hours_to_close"] <= hours).mean())  # NaN (open) compares False


def _calendar_multipliers(df: pd.DataFrame, start: str, end: str) -> dict[str, float]:
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", inclusive="left")
    daily = df.groupby(df["OPEN_DT"].dt.normalize()).size().reindex(days, fill_value=0)
    mean = daily.mean()
    out: dict[str, float] = {}
    by_wd = daily.groupby(daily.index.day_of_week).mean() / mean
    for wd in range(7):
        out[f"weekday_multiplier.{wd}"] = float(by_wd.get(wd, np.nan))
    by_month = daily.groupby(daily.index.month).mean() / mean
    for m, v in by_month.items():
        out[f"month_multiplier.{int(m)}"] = float(v)
    return out


def statistics(
    data: BostonData | None = None,
    start: str = FIT_WINDOW[0],
    end: str = FIT_WINDOW[1],
    departments: Iterable[str] | None = None,
    min_cases: int = 1,
) -> dict[str, float]:
    """Flat dict of summary statistics for requests opened in ``[start, end)``.

    Departments are named by ``DEPARTMENTS`` (small ones pooled as ``other``); ``departments``
    restricts the per-department keys (default: every one with >= ``min_cases`` requests). Keys are described in the module docstring.
    """
    data = data if data is not None else load()
    df = window(data, start, end)
    n_days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    out: dict[str, float] = {
        "cases_total": float(len(df)),
        "cases_per_day": len(df) / n_days,
        "days": float(n_days),
        "proactive_share": float(df["proactive"].mean()) if len(df) else float("nan"),
        "open_at_extraction": float(df["is_open"].mean()) if len(df) else float("nan"),
        "weekly_var_mean": dispersion(block_counts(df["OPEN_DT"], start, end, 7)),
        "daily_var_mean": dispersion(block_counts(df["OPEN_DT"], start, end, 1)),
        "median_hours_to_close": float(df["hours_to_close"].median()),
        "p90_hours_to_close": float(df["hours_to_close"].quantile(0.9)),
    }
    for h in HORIZONS_H:
        out[f"closed_within_{h}h"] = closed_within(df, h)
    late = df["OPEN_DT"] + pd.Timedelta(hours=max(HORIZONS_H)) > data.extraction
    out["censored_before_horizon"] = float((late & df["is_open"]).sum())
    out.update(_calendar_multipliers(df, start, end))

    counts = df["department"].value_counts()
    names = list(departments) if departments is not None else [
        d for d, n in counts.items() if n >= min_cases
    ]
    for dep in names:
        g = df[df["department"] == dep]
        key = f"by_department.{dep}"
        out[f"{key}.cases"] = float(len(g))
        out[f"{key}.cases_per_day"] = len(g) / n_days
        out[f"{key}.proactive_share"] = float(g["proactive"].mean()) if len(g) else float("nan")
        out[f"{key}.open_at_extraction"] = float(g["is_open"].mean()) if len(g) else float("nan")
        for h in HORIZONS_H:
            out[f"{key}.closed_within_{h}h"] = closed_within(g, h)
    for t, n in df["TYPE"].value_counts().items():
        out[f"by_type.{slug(t)}.cases_per_day"] = n / n_days
    return out


def standard_errors(stats: dict[str, float]) -> dict[str, float]:
    """Sampling standard errors of the share statistics (binomial, sqrt(p(1-p)/n)).

    Keys ``by_department.<D>.closed_within_*h`` and ``proactive_share``; other keys omitted.
    """
    out: dict[str, float] = {}
    for key, p in stats.items():
        parts = key.split(".")
        if parts[0] == "by_department" and parts[-1].startswith("closed_within_"):
            n = stats.get(f"by_department.{parts[1]}.cases", 0.0)
        elif key in ("proactive_share",) or key.startswith("closed_within_"):
            n = stats.get("cases_total", 0.0)
        else:
            continue
        if n > 0 and np.isfinite(p):
            out[key] = float(np.sqrt(max(p * (1 - p), 0.25 / n) / n))
    return out


def type_table(data: BostonData | None = None, start: str = FIT_WINDOW[0],
               end: str = FIT_WINDOW[1]) -> pd.DataFrame:
    """Per (department name, request type): slug, cases, cases/day, proactive share, closure shares,
    open share and median hours to close (closed requests only). Sorted by cases."""
    data = data if data is not None else load()
    df = window(data, start, end)
    n_days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    rows = []
    for (dep, typ), g in df.groupby(["department", "TYPE"]):
        row = {"department": dep, "type": typ, "slug": slug(typ), "cases": len(g),
               "cases_per_day": len(g) / n_days, "proactive_share": g["proactive"].mean(),
               "open_at_extraction": g["is_open"].mean(),
               "median_hours_to_close": g["hours_to_close"].median()}
        for h in HORIZONS_H:
            row[f"closed_within_{h}h"] = closed_within(g, h)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("cases", ascending=False, ignore_index=True)


def type_names(data: BostonData | None = None) -> dict[str, str]:
    """Slug -> original request-type name."""
    data = data if data is not None else load()
    return {slug(t): t for t in data.frame["TYPE"].unique()}
