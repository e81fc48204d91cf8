"""The naive forecast beside every fit, and the per-type closure profiles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.calibrate.profiles import fit_profile
from sim.calibrate.report import naive_comparison
from sim.calibrate.spec import parse_spec


def _row(key: str, target: float, after: float) -> dict[str, float | str]:
    return {"key": key, "target": target, "after": after, "abs_error_after": abs(after - target)}


def test_naive_comparison_groups_and_verdict() -> None:
    rows = [_row("by_department.a.closed_within_24h", 0.50, 0.52),
            _row("by_department.b.closed_within_24h", 0.30, 0.31),
            _row("by_department.a.closed_within_168h", 0.70, 0.60),
            _row("by_department.b.closed_within_168h", 0.80, 0.70),
            _row("arrivals.per_day", 375.0, 360.0)]
    naive = {"by_department.a.closed_within_24h": 0.45, "by_department.b.closed_within_24h": 0.36,
             "by_department.a.closed_within_168h": 0.69, "by_department.b.closed_within_168h": 0.81,
             "arrivals.per_day": 321.0}
    out = naive_comparison(rows, naive)
    g24, g168 = out["groups"]["closed_within_24h"], out["groups"]["closed_within_168h"]
    assert g24["mae_model"] == pytest.approx(0.015) and g24["mae_naive"] == pytest.approx(0.055)
    assert g24["model_beats_naive"] and not g168["model_beats_naive"]
    assert "does NOT beat" in out["verdict"] and "closed_within_168h" in out["verdict"]
    vol = out["relative"]["arrivals.per_day"]
    assert vol["model_rel_error"] == pytest.approx(-0.04) and vol["naive_rel_error"] == pytest.approx(-0.144)
    assert rows[0]["naive"] == 0.45  # rows gain the naive value for the figure


def test_spec_reads_the_naive_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fit.toml").write_text('[targets."share"]\nvalue = 0.3\nsd = 0.1\n')
    spec = parse_spec({
        "calibrate": {"scenario": "toy", "simulator": "sim.calibrate.testing:toy_run"},
        "parameters": {"toy.a": {"lo": 0.0, "hi": 2.0}},
        "targets": {"share": {"value": 0.4, "sd": 0.05}},
        "holdout": {"share": {"value": 0.5, "sd": 0.05}, "naive": "fit.toml"},
    }, base=tmp_path)
    assert spec.holdout is not None and spec.holdout.naive == {"share": 0.3}


@pytest.mark.parametrize("shares,never", [((0.264, 0.446, 0.585), 0.35),
                                          ((0.092, 0.431, 0.831), 0.03),
                                          ((0.067, 0.075, 0.085), 0.90)])
def test_profile_reproduces_closure_shares(shares: tuple[float, float, float], never: float) -> None:
    p = fit_profile(shares, (24, 168, 720), never)
    assert p.p_fast + p.p_slow + p.p_never == pytest.approx(1.0)
    assert p.m_fast <= p.m_slow
    for s, h in zip(shares, (24, 168, 720), strict=True):
        assert p.closed_within(h) == pytest.approx(s, abs=0.005)
    assert math.isclose(fit_profile((0, 0, 0), (24, 168, 720), 1.0).p_never, 1.0)


def test_parameter_draws_follow_the_fit() -> None:
    from sim.calibrate.draws import parameter_draws

    rep = {"parameters": {
        "a": {"value": 0.5, "bounds": [0.0, 1.0], "log": False},
        "b": {"value": 10.0, "bounds": [1.0, 100.0], "log": True},
        "c": {"value": 1.0, "bounds": [0.0, 1.0], "log": False}},  # at its bound
        "covariance_unit_box": [[0.01, 0.0, 0.0], [0.0, 0.0025, 0.0], [0.0, 0.0, 0.0001]]}
    d = parameter_draws(rep, 2000, seed=1)
    a = np.array([x["a"] for x in d])
    lb = np.log10([x["b"] for x in d])
    c = np.array([x["c"] for x in d])
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.std() - 0.1) < 0.01
    assert abs(lb.mean() - 1.0) < 0.01 and abs(lb.std() - 0.1) < 0.01  # sd 0.05 of 2 decades
    assert c.min() < 0.05 and c.max() > 0.95  # not identified: uniform over its bounds
    assert parameter_draws(rep, 5, seed=3) == parameter_draws(rep, 5, seed=3)
