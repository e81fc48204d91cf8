"""Saturation report (sim/engine/saturation.py): levels busy ≥ 95% whose queue grows."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.app.live import saturation_text
from sim.engine.cases import BURIED, Stage
from sim.engine.levels import N_LEVELS, Level
from sim.engine.saturation import WINDOW_DAYS, SaturationMonitor, queued_per_level
from sim.io.report import format_summary


def _table(waiting_at_court: int) -> tuple[np.ndarray, np.ndarray]:
    """A case table with ``waiting_at_court`` queued court cases, one in service and one buried."""
    stage = np.array([Stage.QUEUED] * waiting_at_court + [Stage.IN_SERVICE, BURIED], np.int8)
    level = np.full(stage.size, int(Level.COURT), np.int8)
    return stage, level


def test_queued_per_level_counts_only_waiting_rows():
    stage = np.array([Stage.QUEUED, Stage.QUEUED, Stage.IN_SERVICE, BURIED, Stage.QUEUED], np.int8)
    level = np.array([0, 5, 5, 5, 2], np.int8)
    assert queued_per_level(stage, level).tolist() == [1, 0, 1, 0, 0, 1]


@pytest.mark.parametrize(("busy_share", "growth", "saturated"),
                         [(1.0, 2, True), (1.0, 0, False), (1.0, -1, False), (0.9, 2, False)])
def test_saturated_needs_full_staff_and_a_growing_queue(busy_share, growth, saturated):
    mon = SaturationMonitor()
    capacity = np.full(N_LEVELS, 240.0)
    days = 3 * WINDOW_DAYS
    for day in range(days):
        stage, level = _table(100 + growth * day)
        mon.record(day, busy_share * capacity, capacity, stage, level)
    rep = mon.report(days - 1, *_table(100 + growth * (days - 1)))["court"]
    assert rep["utilisation"] == pytest.approx(busy_share)
    assert rep["waiting"] == 100 + growth * (days - 1)
    assert rep["growth_per_day"] == pytest.approx(growth)  # the queue's slope over the window
    assert bool(rep["saturated"]) is saturated


def test_a_court_with_one_judge_is_reported_saturated_and_the_default_town_is_not():
    one = sim.CityModel("town", rng=3, legal_capacity=1).run(120).kpis()
    assert one["saturated_levels"] >= 1
    assert one["recent_utilisation_by_level"]["court"] >= 0.95
    assert one["queue_growth_by_level"]["court"] > 0
    assert "court 100% busy" in format_summary(one)
    assert saturation_text(one, "en").startswith("Saturated: Court (100% busy, queue +")
    assert saturation_text(one, "zh").startswith("已饱和:法院(负荷100%")
    default = sim.CityModel("town", rng=3).run(120).kpis()
    assert default["saturated_levels"] == 0
    assert default["recent_utilisation_by_level"]["court"] < 0.95
    assert "Saturated levels" in format_summary(default) and ": none" in format_summary(default)


def test_report_before_the_first_day_is_empty_not_an_error():
    m = sim.CityModel("town", rng=0)
    k = m.kpis()
    assert k["saturated_levels"] == 0
    assert all(v == 0 for v in k["queue_growth_by_level"].values())
