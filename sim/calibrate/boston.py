"""Boston 311 (Jan–Aug 2015): load the request file and compute calibration statistics.

The statistics use the same flat, dotted key names as the KPIs of ``sim.run`` where one
exists (``by_department.<D>.closed_within_24h`` ...), so a statistic computed here and the
model's output for it can be compared key by key.

Definitions (all over requests *opened* in the half-open window ``[start, end)``):

* ``by_department.<D>.closed_within_{24,168,720}h`` — per agency (``SUBJECT``, named by
  ``AGENCIES``; :func:`closure_shares` is the one definition, shared with the model's
  ``cases.parquet`` through :func:`model_frame`), share of the agency's requests
  closed within 1, 7 and 30 days of opening. Requests still open at extraction count as
  *not closed* (right-censored). A request whose horizon reaches past the extraction time
  and is still open is counted as not closed too and reported in ``censored_before_horizon``
  (zero for this file: extraction is ~4 months after the last request). Administrative
  closures (duplicate, invalid, referred elsewhere: ``closure_class``) count as closed, as the
  City counts them (``CASE_STATUS`` = Closed); their share is ``.admin_closure_share``.
* ``weekly_var_mean`` — variance/mean (ddof=1) of arrivals in consecutive 7-day blocks
  counted from ``start``; a trailing partial block is dropped. 1 for Poisson arrivals.
  ``weekly_var_mean_late`` — the same over the window's second half (blocks from day
  ``days // 2``), apart from early-window events such as the snow season.
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

#: Agency (the file's ``SUBJECT``: the responsible City body, long name) -> the department
#: name used in the scenario and in target keys. Agencies with fewer than ~100 requests in
#: Jan-Aug (Youthline, City Hall Truck, Neighborhood Services, Police, Consumer Affairs,
#: Veterans) are pooled as ``other``. ``SUBJECT`` is the agency the City reports on; the
#: ``Department`` code is a queue owner and disagrees with it for ~2,000 requests (Animal
#: Control: 2,299 requests by SUBJECT, 360 by the ANML code).
AGENCIES: dict[str, str] = {
    "Public Works Department": "public_works",
    "Inspectional Services": "inspectional_services",
    "Transportation - Traffic Division": "transportation",
    "Mayor's 24 Hour Hotline": "mayors_hotline",
    "Parks & Recreation Department": "parks",
    "Property Management": "property_management",
    "Animal Control": "animal_control",
    "Civil Rights": "civil_rights",
    "Boston Water & Sewer Commission": "water_sewer",
    "Disability Department": "disability",
}
DEPARTMENTS = AGENCIES  # target keys say by_department: the model's name for an agency
OTHER = "other"
#: closure classes that are administrative closures (closed, counted as closed, as the City does)
ADMIN_CLOSURES: tuple[str, ...] = ("duplicate", "invalid", "referred_external")


def department_name(subject: str) -> str:
    """Scenario department name of an agency (``SUBJECT``; ``other`` for the small ones)."""
    return AGENCIES.get(subject, OTHER)


def closure_shares(frame: pd.DataFrame, start: str | pd.Timestamp, end: str | pd.Timestamp,
                   horizons_h: Iterable[float] = HORIZONS_H, by: str | None = "department"
                   ) -> dict[str, float]:
    """Share of requests opened in ``[start, end)`` closed within each horizon (hours).

    One definition for the data and the model: ``frame`` has ``opened_at``, ``closed_at``
    (NaT = not closed: still open when observation ended, or never closed) and, for ``by``,
    a ``department`` column. Requests not closed count as *not closed* (right-censored at the
    end of observation), so the denominator is every request opened in the window. Keys:
    ``closed_within_<h>h`` and ``cases``, prefixed ``by_department.<d>.`` per group when
    ``by`` is given (``<d>`` only, else the whole window).
    """
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    w = frame[(frame["opened_at"] >= s) & (frame["opened_at"] < e)]
    hours = (w["closed_at"] - w["opened_at"]).dt.total_seconds() / 3600.0
    groups = [("", w.index)] if by is None else \
        [(f"by_department.{d}.", g.index) for d, g in w.groupby(by, observed=True)]
    out: dict[str, float] = {}
    for prefix, idx in groups:
        h = hours.loc[idx]
        out[f"{prefix}cases"] = float(len(h))
        for x in horizons_h:
            out[f"{prefix}closed_within_{int(x)}h"] = float((h <= x).mean()) if len(h) \
                else float("nan")  # NaN (not closed) compares False
    return out


def model_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """A run's ``cases.parquet`` (scenario with ``run.start_date``) in the form
    :func:`closure_shares` reads: requests are the detected cases (``opened_at``); closed
    means *resolved* (a case closed as failed, e.g. never worked, is not closed)."""
    need = {"opened_at", "closed_at", "department", "stage_label"} - set(cases.columns)
    if need:
        raise ValueError(f"cases table lacks {sorted(need)}: run a scenario with run.start_date "
                         "and `cityrisk run --out`")
    det = cases[cases["opened_at"].notna()]
    closed = det["closed_at"].where(det["stage_label"].astype(str) == "resolved")
    return pd.DataFrame({"opened_at": det["opened_at"], "closed_at": closed,
                         "department": det["department"].astype(str)})


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
    missing = {"OPEN_DT", "CLOSED_DT", "SUBJECT", "TYPE", "Source"} - set(df.columns)
    if missing:
        raise ValueError(f"{path or DATA_FILE}: missing columns {sorted(missing)}")
    hours = (df["CLOSED_DT"] - df["OPEN_DT"]).dt.total_seconds() / 3600.0
    df["hours_to_close"] = hours.clip(lower=0.0)
    df["is_open"] = df["CLOSED_DT"].isna()
    df["proactive"] = df["Source"].isin(PROACTIVE_SOURCES)
    df["department"] = df["SUBJECT"].map(department_name)
    df["opened_at"], df["closed_at"] = df["OPEN_DT"], df["CLOSED_DT"].mask(
        df["CLOSED_DT"] < df["OPEN_DT"], df["OPEN_DT"])  # clock jitter: closed at opening
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
    mid = str((pd.Timestamp(start) + pd.Timedelta(days=n_days // 2)).date())  # second half
    out: dict[str, float] = {
        "cases_total": float(len(df)),
        "cases_per_day": len(df) / n_days,
        "days": float(n_days),
        "proactive_share": float(df["proactive"].mean()) if len(df) else float("nan"),
        "open_at_extraction": float(df["is_open"].mean()) if len(df) else float("nan"),
        "weekly_var_mean": dispersion(block_counts(df["OPEN_DT"], start, end, 7)),
        "weekly_var_mean_late": dispersion(block_counts(df.loc[df["OPEN_DT"] >= mid, "OPEN_DT"],
                                                        mid, end, 7)),
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
        if "closure_class" in g:
            out[f"{key}.admin_closure_share"] = float(g["closure_class"].isin(ADMIN_CLOSURES).mean()) \
                if len(g) else float("nan")
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
