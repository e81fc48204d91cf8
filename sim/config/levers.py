"""What each policy lever is: unit, capacity group, the mechanism it acts through, and the
direction in which it moves an outcome — the promise ``tests/test_levers.py`` checks with
common random numbers on ``town`` between the two ``probe`` values.

Ranges, defaults and documentation live in the schema (:mod:`sim.config.params`); this table adds
what a policymaker and a referee ask next: *what does it act on, and which way should it move
things?* ``cityrisk levers`` prints both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .params import LEVERS


@dataclass(frozen=True)
class LeverInfo:
    """A lever's unit, group (one of the four capacities), mechanism (the ODD section it enters),
    the outcome it moves and in which direction as the lever rises (+1 up, −1 down), and two
    values of the lever between which that move is expected to show on ``town`` — in the
    ``context`` (scenario overrides) when the mechanism acts only in some regime."""

    unit: str
    group: str
    acts_on: str
    outcome: str
    direction: int
    probe: tuple[float, float]
    context: tuple[tuple[str, float], ...] = ()


_R, _I, _C, _P = "risk_prevention", "resource_integration", "conflict_resolution", "information_processing"

LEVER_INFO: dict[str, LeverInfo] = {
    "grid_workers_per_grid": LeverInfo(
        "workers per grid", _R, "patrol detection, screening and on-the-spot fixes (ODD 7.2, 7.3)",
        "mean_detection_delay_hours", -1, (1, 10)),
    "mediators_per_street": LeverInfo(
        "mediators per street", _C, "people's mediation capacity: waits, review referrals (7.5)",
        "caused_escalation_share", -1, (0, 12)),
    "centre_staff_per_street": LeverInfo(
        "handlers per street", _I, "street centre capacity: waits, review referrals (7.5)",
        "caused_escalation_share", -1, (0, 8)),
    "department_staff": LeverInfo(
        "handlers per district department", _I, "district department capacity (7.5)",
        "caused_escalation_share", -1, (0, 12)),
    "city_staff": LeverInfo(
        "handlers per city department", _I, "city department capacity (7.5)", "backlog", -1, (0, 20)),
    "legal_capacity": LeverInfo(
        "court staff per district", _C, "the legal channel's capacity (7.5, 7.7)", "backlog", -1, (0, 80)),
    "resource_integration": LeverInfo(
        "share (0-1)", _I, "all-purpose grids see every category, silo delay, misrouting, joint "
        "handling (7.2-7.4, 7.7)", "median_hours_to_resolution", -1, (0, 1)),
    "latency_hours_per_hop": LeverInfo(
        "hours per hop", _P, "reporting and referral delay (7.3)", "median_hours_to_resolution", +1, (0, 72)),
    "silo_penalty_hours": LeverInfo(
        "hours", _P, "delay across platform barriers at zero integration (7.3)",
        "median_hours_to_resolution", +1, (0, 96)),
    "mediator_training": LeverInfo(
        "share trained (0-1)", _C, "success of mediation at community and street (7.7)",
        "mediation_success", +1, (0, 1)),
    "screening_per_week": LeverInfo(
        "visits per grid-week", _R, "proactive dispute screening (7.2)", "mean_detection_delay_hours", -1,
        (0, 7)),
    "video_coverage": LeverInfo(
        "share of grids", _R, "video detection (7.2); cost", "mean_detection_delay_hours", -1, (0, 1)),
    "volunteer_participation": LeverInfo(
        "share (0-1)", _R, "volunteer detection (7.2)", "mean_detection_delay_hours", -1, (0, 1)),
    "responsibility_clarity": LeverInfo(
        "share (0-1)", _C, "misrouting between departments: bounce delays and the escalation pull of "
        "being passed around (7.4, 7.6)", "caused_escalation_share", -1, (0, 1)),
    "information_disclosure": LeverInfo(
        "share (0-1)", _P, "trust from good news (7.8); damps the escalation pull of open cases "
        "nearby (7.6)", "caused_escalation_share", -1, (0, 1)),
    "linkage": LeverInfo(
        "share (0-1)", _I, "三级联动: the district moves street-level backlog between streets (7.4)",
        # it can only act where street centres have backlogs to move: probed with 2 handlers per
        # street (4 at town's defaults, where their queues are short and it moves little)
        "p90_hours_to_resolution", -1, (0, 1), (("levers.centre_staff_per_street", 2),)),
    "prevention_million_yuan": LeverInfo(
        "million yuan per year", _R, "源头治理: lowers the emergence of preventable categories (7.1); cost",
        "cases_total", -1, (0, 20)),
    "budget_million_yuan": LeverInfo(
        "million yuan per year (0 = no cap)", _I, "caps the annual cost: staff are scaled down to fit (7.9)",
        "backlog", -1, (10, 100_000)),
    "warning_response_visits_per_week": LeverInfo(
        "visits per week", _R, "预测预警: pre-emptive mediation visits to flagged grids lower tension and "
        "find latent grievances there (7.15); cost", "caused_escalation_share", -1, (0, 100)),
}

missing = set(k.split(".", 1)[1] for k in LEVERS) ^ set(LEVER_INFO)
if missing:  # the schema and this table must list the same levers
    raise RuntimeError(f"lever table out of step with the schema: {sorted(missing)}")


def describe_levers(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every lever: key, range, unit, group, what it acts on, expected effect, documentation, and
    its value in ``values`` (a scenario's ``levers`` section) when given."""
    out = []
    for key, field in LEVERS.items():
        name = key.split(".", 1)[1]
        info = LEVER_INFO[name]
        row: dict[str, Any] = {
            "key": key, "kind": field.kind, "min": field.lo, "max": field.hi, "default": field.default,
            "unit": info.unit, "group": info.group, "acts_on": info.acts_on,
            "effect": {"outcome": info.outcome, "direction": "up" if info.direction > 0 else "down",
                       "when": dict(info.context)},
            "doc": field.doc}
        if values is not None:
            row["value"] = values[name]
        out.append(row)
    return out
