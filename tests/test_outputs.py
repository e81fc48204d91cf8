"""Run outputs (sim.io.outputs, sim.io.figures) and the terminal summary (sim.io.report)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.io.outputs import FIGURES, jsonable, main, redraw, write_outputs
from sim.io.report import format_summary
from sim.io.sinks import ParquetSink

SMALL = {"city.residents": 20000}
DAYS = 20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_with_outputs(out: Path, seed: int = 1, days: int = DAYS, parquet: bool = True):
    """A small town run, written the way ``cityrisk run --out`` writes it."""
    out.mkdir(parents=True, exist_ok=True)
    sink = ParquetSink(str(out / "cases.parquet")) if parquet else None
    model = sim.CityModel("town", rng=seed, case_sink=sink, overrides=SMALL)
    model.run(days)
    if sink:
        sink.close()
    kpis = model.kpis()
    return model, kpis, write_outputs(model, out, kpis)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    model, kpis, paths = run_with_outputs(out)
    return out, model, kpis, paths


def test_files_exist_and_pngs_are_real(written):
    out, _, _, paths = written
    names = {p.name for p in paths}
    assert {"summary.json", "timeseries.csv", "grids.csv", "scenario.toml"} <= names
    assert {f"{f}.png" for f in FIGURES} <= names
    assert "cases.parquet" not in names  # the CLI's sink writes it, not write_outputs
    for p in paths:
        assert p.exists() and p.stat().st_size > 0, p
    for f in FIGURES:
        data = (out / f"{f}.png").read_bytes()
        assert data[:8] == PNG_MAGIC
        assert len(data) > 20_000, f  # a drawn figure, not an empty canvas


def test_summary_json_round_trips(written):
    out, model, kpis, _ = written
    loaded = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert loaded == jsonable(kpis)
    assert loaded["provenance"]["seed"] == 1
    assert loaded["provenance"]["scenario_hash"] == model.spec.hash
    assert loaded["cases_total"] == kpis["cases_total"]
    assert set(loaded["resolved_by_level"]) == set(sim.LEVELS)


def test_summary_json_is_strict_json(tmp_path):
    from sim.io.outputs import write_summary

    path = write_summary(tmp_path / "s.json", {"a": float("nan"), "b": {"c": math.inf}, "d": 1.5})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": {"c": None}, "d": 1.5}


def test_timeseries_csv_matches_model(written):
    out, model, _, _ = written
    csv = pd.read_csv(out / "timeseries.csv")
    ts = model.timeseries()
    assert len(csv) == DAYS
    assert list(csv.columns) == list(ts.columns)
    pd.testing.assert_frame_equal(csv, ts, check_dtype=False, atol=1e-9)


def test_grids_csv_and_scenario(written):
    out, model, _, _ = written
    grids = pd.read_csv(out / "grids.csv")
    assert len(grids) == model.layout.n_grids
    assert grids["escalations"].sum() == model.escalation.escalations_by_grid.sum()
    reloaded = sim.load_scenario(out / "scenario.toml")
    assert reloaded.hash == model.spec.hash


def test_redraw_from_files(written, tmp_path):
    out = written[0]
    for name in ("summary.json", "timeseries.csv", "grids.csv", "scenario.toml", "cases.parquet"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    paths = redraw(tmp_path)
    assert [p.name for p in paths] == [f"{f}.png" for f in FIGURES]
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in paths)
    assert main([str(tmp_path)]) == 0
    assert main([]) == 2


def test_same_seed_same_files(written, tmp_path):
    out = written[0]
    run_with_outputs(tmp_path, seed=1)
    for name in ("summary.json", "timeseries.csv", "grids.csv", "dashboard.png", "escalation_map.png"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_without_case_table_and_without_days(tmp_path):
    _, _, paths = run_with_outputs(tmp_path / "nopq", days=5, parquet=False)
    assert all(p.stat().st_size > 0 for p in paths)
    _, _, paths = run_with_outputs(tmp_path / "zero", days=0, parquet=False)
    assert all(p.stat().st_size > 0 for p in paths)


def test_format_summary(written):
    _, _, kpis, _ = written
    text = format_summary(kpis)
    assert "scenario town" in text and "seed 1" in text
    assert f"{kpis['cases_total']:,}" in text
    assert f"{100 * kpis['resolved_share']:.1f}%" in text
    for name in kpis["by_category"]:
        assert name in text
    for name in kpis["by_department"]:
        assert name in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_format_summary_tolerates_missing_and_nan():
    text = format_summary({"cases_total": 0, "median_hours_to_resolution": float("nan"),
                           "new_kpi": 2.5})
    assert "n/a" in text and "new_kpi" in text
    assert format_summary({}).startswith("cityrisk run")


def test_time_to_resolution_names_the_largest_categories_only():
    """With many categories (Boston: 150 request types) the cumulative panel names the largest
    MAX_NAMED_CATEGORIES and draws the rest under one grey entry, so its legend leaves the axes
    room (constrained layout used to give up with a warning and the panels overlapped)."""
    import io
    import warnings

    import numpy as np

    from sim.io.figures import DPI, MAX_NAMED_CATEGORIES, fig_time_to_resolution

    rng = np.random.default_rng(0)
    n_cat, n = 40, 2_000
    cat = np.minimum(rng.geometric(0.08, n) - 1, n_cat - 1)
    t_detect = rng.uniform(0, 100, n)
    cases = pd.DataFrame({"stage": 4, "level": rng.integers(0, 6, n), "category": cat,
                          "t_detect": t_detect, "t_close": t_detect + rng.lognormal(3, 1.5, n)})
    kpis = {"cases_total": n, "by_category": {f"type_{c}": {} for c in range(n_cat)}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # constrained layout warns when the axes collapse
        fig = fig_time_to_resolution(cases, kpis, None)
        fig.savefig(io.BytesIO(), dpi=DPI)  # as written (with every category named: a warning)
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    largest = pd.Series(cat).value_counts().index[:MAX_NAMED_CATEGORIES]
    assert len(labels) == MAX_NAMED_CATEGORIES + 2  # the named, the others, all
    assert {f"type {c}" for c in largest} == {label.split(" (")[0] for label in labels[:MAX_NAMED_CATEGORIES]}
    n_others = len(set(cat.tolist())) - MAX_NAMED_CATEGORIES
    assert labels[-2] == f"{n_others} other categories ({int((~np.isin(cat, largest)).sum()):,})"
    assert labels[-1] == f"all ({n:,})"
