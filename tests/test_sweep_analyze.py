"""`cityrisk analyze`: confidence intervals, Sobol / Morris indices, PRIM, figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.sweep import (
    analyze_store,
    load_results,
    load_spec,
    prim,
    run_sweep,
    sensitivity,
    summarize,
)

PI = 3.141592653589793
SAMPLED = f"""
scenario = "none"
days = 1
seed = 4
run_function = "sim.sweep.testing.ishigami_run"
[design]
kind = "{{kind}}"
samples = {{samples}}
[design.parameters]
x1 = {{{{ lo = {-PI}, hi = {PI} }}}}
x2 = {{{{ lo = {-PI}, hi = {PI} }}}}
x3 = {{{{ lo = {-PI}, hi = {PI} }}}}
[analysis]
kpis = ["ishigami", "lin"]
"""

GRID = """
scenario = "town"
days = 20
replications = 5
seed = 1
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 1, 2, 4, 8]
[analysis]
kpis = ["escalated_share", "staff_cost"]
[analysis.prim]
kpi = "escalated_share"
threshold = 0.06
"""


def sweep(tmp_path: Path, text: str, name: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    out = tmp_path / name
    run_sweep(load_spec(p), out, executor="serial", progress=False)
    return out


def test_summary_confidence_intervals():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"point_id": np.repeat([0, 1], 6), "a": np.repeat([1.0, 2.0], 6),
                         "k": rng.normal(size=12)})
    s = summarize(runs, ["a"], ["k"], confidence=0.9)
    g = runs[runs.point_id == 1]["k"]
    half = stats.t.ppf(0.95, 5) * g.std() / np.sqrt(6)
    row = s[s.point_id == 1].iloc[0]
    assert row["n"] == 6 and row["a"] == 2.0
    assert row["mean"] == pytest.approx(g.mean())
    assert row["ci_lo"] == pytest.approx(g.mean() - half)
    assert row["ci_hi"] == pytest.approx(g.mean() + half)


def test_sobol_indices_of_ishigami(tmp_path):
    out = sweep(tmp_path, SAMPLED.format(kind="sobol", samples=2048), "sobol")
    res = load_results(out)
    assert res.missing == 0 and len(res.runs) == 2048 * 5
    si = sensitivity(res, "ishigami").set_index("parameter")
    assert si.loc["x1", "S1"] == pytest.approx(0.314, abs=0.05)
    assert si.loc["x2", "S1"] == pytest.approx(0.442, abs=0.05)
    assert si.loc["x3", "S1"] == pytest.approx(0.0, abs=0.05)
    assert si.loc["x3", "ST"] > 0.15  # x3 acts only through its interaction with x1


def test_morris_ranks_linear_effects(tmp_path):
    out = sweep(tmp_path, SAMPLED.format(kind="morris", samples=20), "morris")
    mu = sensitivity(load_results(out), "lin").set_index("parameter")["mu_star"]
    assert mu["x1"] == pytest.approx(3 * mu["x2"], rel=1e-6)
    assert mu["x3"] == pytest.approx(0.0, abs=1e-9)


def test_prim_finds_the_box():
    rng = np.random.default_rng(2)
    x = pd.DataFrame({"a": rng.uniform(0, 10, 2000), "b": rng.uniform(0, 1, 2000),
                      "c": rng.uniform(0, 1, 2000)})
    y = (x["a"] > 6) & (x["b"] < 0.5)
    box = prim(x, y.to_numpy(), min_coverage=0.8)
    assert box["density"] > 0.9 and box["coverage"] >= 0.8
    assert set(box["restricted"]) >= {"a", "b"}
    assert box["restricted"]["a"][0] == pytest.approx(6, abs=0.5)
    assert box["restricted"]["b"][1] == pytest.approx(0.5, abs=0.06)


def test_analyze_grid_writes_tables_figures_and_prim(tmp_path, capsys):
    out = sweep(tmp_path, GRID, "grid")
    assert main(["analyze", str(out)]) == 0
    text = capsys.readouterr().out
    assert "25 runs, 0 missing" in text and "PRIM (escalated_share below 0.06)" in text
    a = out / "analysis"
    assert (a / "kpis_vs_lever.png").stat().st_size > 10_000
    s = pd.read_csv(a / "summary.csv")
    assert set(s["kpi"]) >= {"escalated_share", "staff_cost", "cases_total"}
    assert (s.groupby("kpi").size() == 5).all() and (s["n"] == 5).all()
    box = json.loads((a / "prim.json").read_text())
    assert box["restricted"]["levers.grid_workers_per_grid"][0] >= 2


def test_analyze_sampled_design_draws_sensitivity(tmp_path):
    out = sweep(tmp_path, SAMPLED.format(kind="sobol", samples=64), "s64")
    rep = analyze_store(out)
    names = {Path(f).name for f in rep["figures"]}
    assert names == {"kpis_scatter.png", "sensitivity.png"}
    assert set(rep["sensitivity"]) == {"ishigami", "lin"}


def test_sensitivity_refuses_incomplete_sweep(tmp_path):
    p = tmp_path / "part.toml"
    p.write_text(SAMPLED.format(kind="sobol", samples=16))
    run_sweep(load_spec(p), tmp_path / "part", executor="serial", progress=False, shard=(0, 2))
    with pytest.raises(ValueError, match="--resume"):
        sensitivity(load_results(tmp_path / "part"), "lin")
