"""Outcomes: how they are computed (:mod:`.compute`) and what each one is (:mod:`.registry`)."""

from .registry import (
    CAPACITY_LABELS,
    CAPACITY_ORDER,
    Direction,
    Outcome,
    UnknownOutcome,
    describe_outcomes,
    direction,
    get,
    is_declared,
    label,
    outcomes,
    unit,
)

__all__ = ["CAPACITY_LABELS", "CAPACITY_ORDER", "Direction", "Outcome", "UnknownOutcome",
           "describe_outcomes", "direction", "get", "is_declared", "label", "outcomes", "unit"]
