"""Boston 311 statistics (sim.calibrate.boston) on the real file and on small synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import boston as b


@pytest.fixture(scope="module")
def data() -> b.BostonData:
    return b.load()


def _frame(open_dt: list[str], closed_dt: list[str | None],
           subject: str = "Public Works Department",
           source: str = "Constituent Call") -> b.BostonData:
    df = pd.DataFrame({"OPEN_DT": pd.to_datetime(open_dt),
                       "CLOSED_DT": pd.to_datetime(closed_dt),
                       "SUBJECT": subject, "TYPE": "Pothole", "Source": source})
    df["hours_to_close"] = ((df["CLOSED_DT"] - df["OPEN_DT"]).dt.total_seconds() / 3600).clip(lower=0)
    df["is_open"] = df["CLOSED_DT"].isna()
    df["proactive"] = df["Source"].isin(b.PROACTIVE_SOURCES)
    df["department"] = df["SUBJECT"].map(b.department_name)
    df["opened_at"], df["closed_at"] = df["OPEN_DT"], df["CLOSED_DT"]
    return b.BostonData(df, pd.Timestamp("2016-01-01"))


def test_file_shape_and_extraction(data: b.BostonData) -> None:
    df = data.frame
    assert len(df) == 81_408
    assert df["is_open"].sum() == 12_096
    assert df["OPEN_DT"].min() >= pd.Timestamp("2015-01-01")
    assert df["OPEN_DT"].max() < pd.Timestamp("2015-09-01")
    assert data.extraction == pd.Timestamp("2016-01-12 13:58:43")
    assert (df["hours_to_close"].dropna() >= 0).all()  # clock jitter clipped


def test_fit_window_statistics(data: b.BostonData) -> None:
    s = b.statistics(data, *b.FIT_WINDOW)
    assert s["cases_total"] == 58_119
    assert s["days"] == 181
    assert s["weekly_var_mean"] == pytest.approx(55.50, abs=0.01)
    assert s["weekly_var_mean_late"] == pytest.approx(14.92, abs=0.01)  # Apr-Jun: no snow
    assert s["proactive_share"] == pytest.approx(0.2137, abs=1e-3)
    assert s["censored_before_horizon"] == 0
    assert np.mean([s[f"weekday_multiplier.{i}"] for i in range(7)]) == pytest.approx(1, abs=0.02)
    assert s["weekday_multiplier.5"] < 0.5 and s["weekday_multiplier.1"] > 1.2  # weekends quiet
    assert set(k for k in s if k.startswith("month_multiplier")) == {
        f"month_multiplier.{m}" for m in range(1, 7)}
    pw = [s[f"by_department.public_works.closed_within_{h}h"] for h in b.HORIZONS_H]
    assert pw == sorted(pw) and 0 < pw[0] < pw[-1] < 1
    assert pw[0] == pytest.approx(0.458, abs=1e-3)  # by SUBJECT (0.471 by the PWDx code)


def test_agencies_are_subjects(data: b.BostonData) -> None:
    """Agency = the SUBJECT column: Animal Control has 2,299 requests by SUBJECT (Jan-Aug),
    360 by its ANML department code."""
    s = b.statistics(data, "2015-01-01", "2015-09-01")
    assert s["by_department.animal_control.cases"] == 2_299
    assert s["by_department.public_works.cases"] == 34_898
    assert 0 < s["by_department.public_works.admin_closure_share"] < 0.1


def test_closure_shares_is_the_statistic(data: b.BostonData) -> None:
    """One definition: closure_shares on the frame's opened_at/closed_at equals statistics()."""
    s = b.statistics(data, *b.FIT_WINDOW)
    c = b.closure_shares(data.frame, *b.FIT_WINDOW)
    for k, v in c.items():
        if "closed_within" in k:
            assert v == pytest.approx(s[k], abs=1e-12), k


def test_model_frame_counts_open_and_failed_as_not_closed() -> None:
    cases = pd.DataFrame({
        "opened_at": pd.to_datetime(["2015-01-01 00:00"] * 4 + [None]),
        "closed_at": pd.to_datetime(["2015-01-01 05:00", "2015-01-01 01:00", None,
                                     "2015-01-03 00:00", "2015-01-02 00:00"]),
        "stage_label": ["resolved", "unresolved", "queued", "resolved", "faded"],
        "department": ["parks"] * 5})
    f = b.model_frame(cases)
    assert len(f) == 4  # the undetected (faded) case was never a request
    s = b.closure_shares(f, "2015-01-01", "2015-01-02")
    assert s["by_department.parks.closed_within_24h"] == 0.25
    assert s["by_department.parks.closed_within_168h"] == 0.5
    with pytest.raises(ValueError, match="start_date"):
        b.model_frame(cases.drop(columns="department"))


def test_whole_file_matches_design_figures(data: b.BostonData) -> None:
    s = b.statistics(data, "2015-01-01", "2015-09-01")
    assert s["weekly_var_mean"] == pytest.approx(65.3, abs=0.1)  # DESIGN.md: about 66
    assert s["open_at_extraction"] == pytest.approx(0.149, abs=1e-3)


def test_departments_renamed_and_pooled(data: b.BostonData) -> None:
    s = b.statistics(data, *b.FIT_WINDOW)
    names = {k.split(".")[1] for k in s if k.startswith("by_department.")}
    assert names == set(b.AGENCIES.values()) | {b.OTHER}
    total = sum(s[f"by_department.{n}.cases"] for n in names)
    assert total == s["cases_total"]


def test_open_cases_count_as_not_closed() -> None:
    d = _frame(["2015-01-01 00:00", "2015-01-01 00:00", "2015-01-01 00:00", "2015-01-02 00:00"],
               ["2015-01-01 12:00", "2015-01-05 00:00", None, None])
    s = b.statistics(d, "2015-01-01", "2015-01-15")
    assert s["by_department.public_works.closed_within_24h"] == pytest.approx(0.25)
    assert s["by_department.public_works.closed_within_168h"] == pytest.approx(0.5)
    assert s["by_department.public_works.closed_within_720h"] == pytest.approx(0.5)
    assert s["open_at_extraction"] == pytest.approx(0.5)


def test_censoring_before_horizon_is_reported() -> None:
    d = _frame(["2015-12-20"], [None])  # observed 12 days: 30-day outcome unknown
    s = b.statistics(d, "2015-12-01", "2016-01-01")
    assert s["censored_before_horizon"] == 1
    assert s["closed_within_720h"] == 0


def test_block_counts_drop_partial_week() -> None:
    open_dt = pd.Series(pd.to_datetime(["2015-01-01", "2015-01-08", "2015-01-09", "2015-01-15"]))
    counts = b.block_counts(open_dt, "2015-01-01", "2015-01-17")  # 16 days -> 2 full weeks
    assert counts.tolist() == [1, 2]


def test_dispersion_of_poisson_is_one() -> None:
    rng = np.random.default_rng(0)
    assert b.dispersion(rng.poisson(500, 2000)) == pytest.approx(1, abs=0.1)
    assert np.isnan(b.dispersion(np.array([3])))


def test_proactive_share() -> None:
    d = _frame(["2015-01-01", "2015-01-02"], [None, None], source="City Worker App")
    assert b.statistics(d, "2015-01-01", "2015-01-10")["proactive_share"] == 1.0


def test_standard_errors_binomial(data: b.BostonData) -> None:
    s = b.statistics(data, *b.FIT_WINDOW)
    se = b.standard_errors(s)
    key = "by_department.public_works.closed_within_24h"
    p, n = s[key], s["by_department.public_works.cases"]
    assert se[key] == pytest.approx(np.sqrt(p * (1 - p) / n))
    assert "weekly_var_mean" not in se


def test_type_table_and_slugs(data: b.BostonData) -> None:
    t = b.type_table(data, *b.FIT_WINDOW)
    assert t["cases"].sum() == 58_119
    pothole = t[t["type"] == "Pothole Repair (Internal)"]
    assert len(pothole) == 1 and pothole.iloc[0]["proactive_share"] == 1.0
    assert b.slug("Misc. Snow Complaint") == "misc_snow_complaint"
    assert b.type_names(data)["misc_snow_complaint"] == "Misc. Snow Complaint"


def test_bad_window() -> None:
    with pytest.raises(ValueError, match="after start"):
        b.window(b.BostonData(pd.DataFrame({"OPEN_DT": []}), pd.Timestamp(0)), "2015-02-01",
                 "2015-01-01")


def test_statistic_from_cases_parquet_matches_model_kpis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The case table carries calendar timestamps and each request's department (agency), so
    the data's statistic computed from cases.parquet equals the model's own KPI."""
    import json

    from sim.cli import main

    out = tmp_path / "run"
    assert main(["run", "boston", "--days", "40", "--seed", "4", "--set", "city.residents=30000",
                 "--out", str(out), "--quiet"]) == 0
    cases = pd.read_parquet(out / "cases.parquet")
    assert cases["opened_at"].min() >= pd.Timestamp("2015-01-01")
    frame = b.model_frame(cases)
    got = b.closure_shares(frame, "2015-01-01", "2015-03-01")
    kpis = json.loads((out / "summary.json").read_text())["by_department"]
    for dep, row in kpis.items():
        if row["cases"]:
            assert got[f"by_department.{dep}.cases"] == row["cases"], dep
            for h in b.HORIZONS_H:
                assert got[f"by_department.{dep}.closed_within_{h}h"] == pytest.approx(
                    row[f"closed_within_{h}h"], abs=1e-9), (dep, h)
