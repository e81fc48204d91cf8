"""The outcomes registry: every output key is declared, every declaration is complete, and the
report, the app and the sweep analysis take their labels and directions from it."""

from __future__ import annotations

import dataclasses

import pytest

import sim
from sim.model import TIMESERIES_KEYS
from sim.outcomes import registry
from sim.outcomes.catalogue import OUTCOMES  # as declared (tests below patch a copy)


@pytest.fixture(scope="module")
def town_run() -> tuple[dict, dict[str, float], list[str]]:
    m = sim.CityModel("town", rng=3)
    m.run(15)
    kpis = m.kpis()
    return kpis, sim.flatten_kpis(kpis), list(m.timeseries().columns)


def test_every_kpi_and_timeseries_column_is_declared(town_run) -> None:
    _, flat, columns = town_run
    assert [k for k in flat if not registry.is_declared(k)] == []
    assert [c for c in columns if not registry.is_declared(c)] == []
    assert [c for c in TIMESERIES_KEYS if not registry.is_declared(c)] == []


def test_calibration_statistics_are_declared() -> None:
    import sim
    from sim.stats import STATS

    out = sim.run("town", None, 1, 21, stats=tuple(STATS))
    assert [k for k in out if not registry.is_declared(k)] == []
    for key in ("arrivals.per_day", "weekly_var_mean", "proactive_share", "mediation_success",
                "resolved_by_tier.court", "resolved_share_of_reported",
                "arrivals.month_multiplier.1"):
        assert "calibration" in registry.get(key).sources, key


def test_declarations_are_not_stale(town_run) -> None:
    """Every plain key declared for the KPIs or the time series is really produced."""
    _, flat, columns = town_run
    for o in registry.outcomes("kpis"):
        if not o.is_family:
            assert o.key in flat, o.key
    for o in registry.outcomes("timeseries"):
        assert o.key in columns, o.key


def test_every_outcome_is_complete_and_declared_once() -> None:
    keys = [o.key for o in OUTCOMES]
    assert len(keys) == len(set(keys))
    for o in OUTCOMES:
        assert o.en.strip() and o.zh.strip(), o.key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in o.zh), o.key  # a Chinese label
        assert o.unit in registry.UNITS, o.key
        assert isinstance(o.direction, registry.Direction), o.key
        assert o.capacity in registry.CAPACITY_ORDER, o.key
        assert o.definition.endswith(".") and len(o.definition) > 20, o.key
        assert o.is_family == ("{name}" in o.en) == ("{name}" in o.zh), o.key
    for cap in registry.CAPACITY_ORDER:
        assert set(registry.CAPACITY_LABELS[cap]) == {"en", "zh"}


def test_shares_state_a_denominator() -> None:
    for o in OUTCOMES:
        if o.unit == "share":
            assert " divided by " in o.definition, o.key


def test_lookup_families_and_unknown_keys() -> None:
    assert registry.get("by_category.wage arrears.detected").key == "by_category.*.detected"
    assert registry.label("by_department.a.b.closed_within_24h") == "a.b: resolved within 24 h"
    assert registry.label("resolved_by_level.court", "zh") == "法院化解比例"
    assert registry.direction("escalated_share") is registry.Direction.LOWER
    assert registry.direction("no_such_kpi") is registry.Direction.NEUTRAL
    assert registry.label("no_such_kpi") == "no_such_kpi"
    with pytest.raises(registry.UnknownOutcome, match="no_such_kpi"):
        registry.get("no_such_kpi")
    with pytest.raises(ValueError, match="'x'.*unit 'furlongs'"):
        registry.Outcome("x", "furlongs", registry.Direction.HIGHER, "overall", "X", "甲",
                         "Something.")


def test_describe_outcomes_is_plain_data() -> None:
    rows = registry.describe_outcomes()
    assert len(rows) == len(OUTCOMES)
    row = next(r for r in rows if r["key"] == "safety_index")
    assert row["direction"] == "higher_is_better" and row["capacity"] == "overall"
    assert row["unit"] == "index" and "0.25 R" in row["definition"]
    assert {r["key"] for r in registry.describe_outcomes("calibration")} >= {"proactive_share"}


def _relabel(monkeypatch: pytest.MonkeyPatch, key: str, **changes: object) -> None:
    """Change one declaration as if the catalogue said so (the lookup index is rebuilt)."""
    from sim.outcomes import catalogue

    new = tuple(dataclasses.replace(o, **changes) if o.key == key else o
                for o in catalogue.OUTCOMES)
    monkeypatch.setattr(catalogue, "OUTCOMES", new)
    monkeypatch.setattr(registry, "_EXACT", {})
    monkeypatch.setattr(registry, "_FAMILIES", [])


def test_report_reads_the_registry(town_run, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.io.report import format_summary

    kpis, _, _ = town_run
    text = format_summary(kpis)
    assert "Risk prevention (风险防控能力)" in text
    assert registry.label("backlog") in text
    _relabel(monkeypatch, "backlog", en="Cases waiting XYZ")
    _relabel(monkeypatch, "detection_rate", capacity="resource_integration")
    text = format_summary(kpis)
    assert "Cases waiting XYZ" in text and "Open detected cases" not in text
    part = text.split("Resource integration")[1]
    assert registry.label("detection_rate") in part  # moved to the group the registry names


def test_app_reads_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.app.compare import KpiDiff, fmt_value
    from sim.app.i18n import kpi_help, kpi_name

    assert kpi_name("escalated_share", "zh") == "升级比例"
    _relabel(monkeypatch, "escalated_share", zh="升级率XYZ")
    assert kpi_name("escalated_share", "zh") == "升级率XYZ"
    assert kpi_help("safety_index", "en") == registry.get("safety_index").definition
    assert fmt_value("staff_cost", 3.05e6, "en") == "3.0 million yuan"
    d = KpiDiff("backlog", 10, 8, -2, -3, -1, -0.2, -0.3, -0.1, 5)
    assert d.verdict() == "better"
    _relabel(monkeypatch, "backlog", direction=registry.Direction.HIGHER)
    assert d.verdict() == "worse"


def test_sweep_analysis_reads_the_registry() -> None:
    from sim.sweep.analyze import check_kpi, hit_verdict, outcome_meta
    from sim.sweep.figures import kpi_axis_label

    assert outcome_meta("escalated_share")["direction"] == "lower_is_better"
    assert hit_verdict("escalated_share", below=True) == "good"
    assert hit_verdict("safety_index", below=True) == "bad"
    assert kpi_axis_label("mean_trust").startswith("Trust in government [score (0-1)] ↑")
    assert kpi_axis_label("lin") == "lin"
    check_kpi("lin", ["lin", "cases_total"])
    with pytest.raises(ValueError, match="did you mean cases_total"):
        check_kpi("cases_totl", ["lin", "cases_total"])
    with pytest.raises(ValueError, match="declared outcome, but this sweep"):
        check_kpi("backlog", ["lin"])
