"""The fitter: parameter recovery on a toy with known parameters, determinism, outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.calibrate import fit as F
from sim.calibrate.spec import SpecError, Target, parse_spec
from sim.calibrate.testing import TRUTH, toy_means, toy_targets
from sim.cli import main
from sim.executors import make_executor

TOY = "sim.calibrate.testing:toy_run"


def recovery_spec(data_seed: int = 12345, trials: int = 80, **cal: Any):
    return parse_spec({
        "calibrate": {"scenario": "toy", "simulator": TOY, "trials": trials, "replications": 2,
                      "refine_replications": 8, "seed": data_seed % 1000, **cal},
        "parameters": {"toy.a": {"lo": 0.0, "hi": 2.0},
                       "toy.b": {"lo": 0.1, "hi": 10.0, "log": True},
                       "toy.c": {"lo": 0, "hi": 20, "int": True}},
        "targets": toy_targets(seed=data_seed),
    })


def test_parameter_recovery_within_reported_uncertainty() -> None:
    res = F.fit(recovery_spec(), progress=False)
    for key, truth in TRUTH.items():
        lo, hi = res.intervals[key]
        assert lo <= truth <= hi, (key, truth, res.intervals[key], res.best)
        assert lo < res.best[key] < hi or key == "toy.c"
    assert res.loss < res.loss_before
    assert res.interval_method == "delta"
    assert res.n_runs >= 80 * 2 + 6 * 8 + 6 * 8  # search + (5 refined + defaults) + 2k differences
    assert len(res.trials) == 80


def test_fit_is_deterministic() -> None:
    spec = recovery_spec(trials=20)
    a, b = F.fit(spec, progress=False), F.fit(spec, progress=False)
    assert a.best == b.best and a.intervals == b.intervals


def test_parallel_matches_serial() -> None:
    spec = recovery_spec(trials=8, batch=2)
    serial = F.fit(spec, progress=False)
    ex = make_executor("processes", 2)
    try:
        par = F.fit(spec, progress=False, executor=ex)
    finally:
        ex.close()
    assert par.best == serial.best
    assert par.loss == pytest.approx(serial.loss)


def test_unidentified_parameter_gets_its_bounds() -> None:
    spec = parse_spec({
        "calibrate": {"scenario": "toy", "simulator": TOY, "trials": 15},
        "parameters": {"toy.a": {"lo": 0.0, "hi": 2.0}, "toy.unused": {"lo": 0.0, "hi": 1.0}},
        "targets": {k: v for k, v in toy_targets().items() if k.startswith("y.")},
    })
    res = F.fit(spec, progress=False)
    assert res.intervals["toy.unused"] == (0.0, 1.0)
    assert any("toy.unused: not identified" in n for n in res.notes)


def test_unknown_target_key_is_a_spec_error() -> None:
    raw = {"calibrate": {"scenario": "toy", "simulator": TOY, "trials": 2},
           "parameters": {"toy.a": {"lo": 0.0, "hi": 2.0}},
           "targets": {"y.00": {"value": 1.0}}}
    with pytest.raises(SpecError, match=r"targets\.y\.00: not an output .* did you mean y\.0"):
        F.fit(parse_spec(raw), progress=False)


def test_loss_and_residuals() -> None:
    ts = [Target("x", 1.0, 0.5, 2.0), Target("y", 0.0, 1.0, 1.0)]
    assert F.residuals({"x": 2.0, "y": -1.0}, ts) == {"x": 2.0, "y": -1.0}
    assert F.loss({"x": 2.0, "y": -1.0}, ts) == pytest.approx(2 * 4 + 1)
    assert F.residuals({"x": math.nan, "y": 0.0}, ts)["x"] == F.NAN_PENALTY_Z


def test_unit_transform_roundtrip() -> None:
    spec = recovery_spec(trials=1)
    for p in spec.parameters:
        for x in (p.lo, (p.lo + p.hi) / 2, p.hi):
            assert F.from_unit(p, F.to_unit(p, x)) == pytest.approx(round(x) if p.integer else x)


def test_seeds_are_common_across_trials_and_distinct_across_streams() -> None:
    assert F.seed_for(1, 0, 0) == F.seed_for(1, 0, 0)
    assert len({F.seed_for(1, s, r) for s in (0, 1) for r in range(10)}) == 20


def test_cli_writes_every_output(tmp_path: Path) -> None:
    spec = tmp_path / "toy.toml"
    lines = ["[calibrate]", 'scenario = "toy"', f'simulator = "{TOY}"', "trials = 12",
             "replications = 1", "refine_replications = 2", "refine_top = 2",
             '[parameters."toy.a"]', "lo = 0.0", "hi = 2.0"]
    for k, v in toy_targets().items():
        lines += [f'[targets."{k}"]', f"value = {v['value']}", f"sd = {v['sd']}",
                  f'source = "toy at {TRUTH}"']
    lines += ["[holdout]", '[holdout."y.0"]', f"value = {toy_means(TRUTH)['y.0']}", "sd = 0.05"]
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["calibrate", str(spec), "--out", str(out), "--no-progress"]) == 0
    for name in ("fit.json", "trials.csv", "fitted_scenario.toml", "fit_targets.png",
                 "holdout.png", "parameters.png", "history.png"):
        assert (out / name).stat().st_size > 0, name
    rep = json.loads((out / "fit.json").read_text())
    assert set(rep["parameters"]) == {"toy.a"}
    assert rep["loss_after"] <= rep["loss_before"]
    assert rep["holdout"]["targets"][0]["key"] == "y.0"
    assert rep["provenance"]["spec_hash"]
    assert "toy.a" in (out / "fitted_scenario.toml").read_text()


@pytest.mark.slow
def test_interval_coverage_over_datasets() -> None:
    """Over independent data sets the 95% intervals cover the truth in most cases."""
    hits = {k: 0 for k in TRUTH}
    n = 12
    for i in range(n):
        res = F.fit(recovery_spec(data_seed=1000 * (i + 1), trials=100), progress=False)
        for k, truth in TRUTH.items():
            lo, hi = res.intervals[k]
            hits[k] += lo <= truth <= hi
    assert all(h >= n - 2 for h in hits.values()), hits


@pytest.mark.slow
def test_recovery_with_the_real_model(run_pool) -> None:
    """Targets simulated by the model at known parameters are recovered (a small Boston).

    The runs go to the session's process pool; ``batch = 1`` keeps the search's ask/tell
    sequence that of a serial fit (a batch defaults to one trial per worker), so the fit is
    the serial one, run for run (test_parallel_matches_serial)."""
    from sim import run
    from sim.executors import run_ordered

    truth = {"handling.success[3]": 0.6, "levers.latency_hours_per_hop": 6.0}
    fixed = {"city.residents": 150_000}
    keys = [f"by_department.{d}.closed_within_{h}h" for d in ("public_works", "transportation")
            for h in (24, 168, 720)]
    runs = run_ordered(run_pool, [(run, ("boston", {**fixed, **truth}, 900 + s, 120))
                                  for s in range(4)], "truth")
    targets = {k: {"value": float(np.mean([r[k] for r in runs])),
                   "sd": float(max(np.std([r[k] for r in runs], ddof=1), 0.005) / 2)}
               for k in keys}
    spec = parse_spec({
        "calibrate": {"scenario": "boston", "simulator": "sim:run", "days": 120,
                      "trials": 30, "replications": 2, "refine_replications": 4, "seed": 3,
                      "batch": 1, "overrides": fixed},
        "parameters": {"handling.success[3]": {"lo": 0.3, "hi": 1.0},
                       "levers.latency_hours_per_hop": {"lo": 0.0, "hi": 24.0}},
        "targets": targets,
    })
    res = F.fit(spec, progress=False, executor=run_pool)
    for k, v in truth.items():
        lo, hi = res.intervals[k]
        assert lo <= v <= hi, (k, v, res.intervals[k], res.best)
