"""The outcomes registry: what every KPI, time-series column and calibration statistic *is*.

Each outcome is declared once in :mod:`.catalogue` as an :class:`Outcome` — key, unit,
direction (higher is better / lower is better / neutral), the capacity group it reports on
(the article's four capacities, 四种能力, plus ``overall`` for the headline figures), a
Chinese and an English label and a one-sentence definition that names its denominator.
The terminal report, the figures, the app and the sweep analysis read labels, units and
directions from here, so a change made here shows up in all of them.

Keys are the flat keys of :func:`sim.flatten_kpis`, the time-series column names and the
statistics :mod:`sim.stats` (``sim.run(..., stats=...)``) adds. Families whose members depend on the scenario
(categories, departments, calendar months) are declared once with ``*`` standing for the
member's name (``by_category.*.cases``); :func:`get` matches a concrete key against them and
:func:`label` puts the member's name into the label (``{name}``).

This module computes nothing: the numbers come from :mod:`sim.outcomes.compute`, the model's
daily record and :mod:`sim.stats` (``sim.run(..., stats=...)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["CAPACITY_LABELS", "CAPACITY_ORDER", "Direction", "LEVEL_NAMES", "NOT_OUTCOMES",
           "Outcome", "SEVERITY_NAMES", "SOURCES", "UNITS", "UnknownOutcome", "describe_outcomes",
           "direction", "get", "is_declared", "label", "outcomes", "unit"]


class Direction(StrEnum):
    """Which way an outcome should move for the city to be better off."""

    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"
    NEUTRAL = "neutral"  # volume, workload or a descriptive statistic: neither way is better

    @property
    def sign(self) -> int:
        """+1 (higher is better), -1 (lower is better) or 0 (neutral)."""
        return {"higher_is_better": 1, "lower_is_better": -1}.get(self.value, 0)


# The report prints the groups in this order; the app's lever panels have their own order.
CAPACITY_ORDER: tuple[str, ...] = ("overall", "risk_prevention", "conflict_resolution",
                                   "information_processing", "resource_integration")
CAPACITY_LABELS: dict[str, dict[str, str]] = {
    "overall": {"en": "Outcome", "zh": "总体结果"},
    "risk_prevention": {"en": "Risk prevention", "zh": "风险防控能力"},
    "conflict_resolution": {"en": "Conflict resolution", "zh": "矛盾化解能力"},
    "information_processing": {"en": "Information processing", "zh": "信息处理能力"},
    "resource_integration": {"en": "Resource integration", "zh": "资源整合能力"},
}

# unit id -> lang -> how the unit reads; each face (report, app, figures) formats values by id.
UNITS: dict[str, dict[str, str]] = {
    "count": {"en": "cases", "zh": "件"},
    "share": {"en": "share (0-1)", "zh": "比例(0-1)"},
    "hours": {"en": "hours", "zh": "小时"},
    "yuan": {"en": "yuan", "zh": "元"},
    "index": {"en": "index (0-100)", "zh": "指数(0-100)"},
    "score": {"en": "score (0-1)", "zh": "得分(0-1)"},
    "day": {"en": "simulated day", "zh": "模拟天数"},
    "per_day": {"en": "cases per day", "zh": "件/天"},
    "ratio": {"en": "ratio", "zh": "比值"},
}
# Where an outcome is produced: model.kpis() (flattened), model.timeseries(), sim.stats.
SOURCES: tuple[str, ...] = ("kpis", "timeseries", "calibration")
# Keys that model.kpis() returns but that are not outcomes (flatten_kpis drops them).
NOT_OUTCOMES: tuple[str, ...] = ("provenance",)

# Names of the severity levels and of the handling levels (sim.config.params.LEVELS order):
# the labels of per-severity and per-level outcomes are built from them.
SEVERITY_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Minor", "Intensified", "Collective incident", "Major incident"),
    "zh": ("一般矛盾", "矛盾激化", "群体性事件", "重大事件"),
}
LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("On the spot (grid)", "Community mediation", "Street centre", "District department",
           "City department", "Court"),
    "zh": ("网格就地化解", "社区调解", "街道综治中心", "区县职能部门", "市级部门", "法院"),
}


class UnknownOutcome(KeyError):
    """A key that no declared outcome matches."""


@dataclass(frozen=True)
class Outcome:
    """One declared outcome (a KPI, a time-series column or a calibration statistic).

    ``key`` may contain ``*`` for a family member's name; ``en``/``zh`` may then contain
    ``{name}``. ``short`` is a compact English column header (tables, axes); it defaults to
    ``en``. ``definition_zh`` is optional (the English definition is used when it is empty).
    """

    key: str
    unit: str
    direction: Direction
    capacity: str
    en: str
    zh: str
    definition: str
    sources: tuple[str, ...] = ("kpis",)
    short: str = ""
    definition_zh: str = ""

    def __post_init__(self) -> None:
        # declaration errors surface at import, naming the key and what is allowed
        if self.unit not in UNITS:
            raise ValueError(f"outcome {self.key!r}: unit {self.unit!r} not in {sorted(UNITS)}")
        if self.capacity not in CAPACITY_LABELS:
            raise ValueError(f"outcome {self.key!r}: capacity {self.capacity!r} not in "
                             f"{list(CAPACITY_ORDER)}")
        bad = set(self.sources) - set(SOURCES)
        if bad or not self.sources:
            raise ValueError(f"outcome {self.key!r}: sources {self.sources} must be from {SOURCES}")

    @property
    def is_family(self) -> bool:
        """True when the key stands for many keys (it contains ``*``)."""
        return "*" in self.key

    def label(self, lang: str = "en", name: str = "") -> str:
        """The label in ``lang`` ("en" or "zh"), with a family member's ``name`` filled in."""
        text = self.zh if lang == "zh" else self.en
        return text.replace("{name}", name) if self.is_family else text

    def describe(self, lang: str = "en") -> str:
        """The one-sentence definition in ``lang`` (English when no Chinese one is written)."""
        return self.definition_zh if lang == "zh" and self.definition_zh else self.definition

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a table or JSON (what ``cityrisk outcomes`` will print)."""
        return {"key": self.key, "unit": self.unit, "direction": self.direction.value,
                "capacity": self.capacity, "en": self.en, "zh": self.zh,
                "short": self.short or self.en, "definition": self.definition,
                "definition_zh": self.definition_zh, "sources": list(self.sources)}


def _pattern(key: str) -> re.Pattern[str]:
    # a member name may itself contain dots (a department called "a.b"), so "*" takes any text
    return re.compile("^" + re.escape(key).replace(r"\*", "(.+)") + "$")


_EXACT: dict[str, Outcome] = {}
_FAMILIES: list[tuple[re.Pattern[str], Outcome]] = []


def _index() -> None:
    from .catalogue import OUTCOMES

    for o in OUTCOMES:
        if o.key in _EXACT or any(p.pattern == _pattern(o.key).pattern for p, _ in _FAMILIES):
            raise ValueError(f"outcome {o.key!r} is declared twice")
        if o.is_family:
            _FAMILIES.append((_pattern(o.key), o))
        else:
            _EXACT[o.key] = o


def outcomes(source: str | None = None) -> tuple[Outcome, ...]:
    """Every declared outcome in declaration order (only those ``source`` produces, if given)."""
    from .catalogue import OUTCOMES

    if source is not None and source not in SOURCES:
        raise ValueError(f"source {source!r} not in {SOURCES}")
    return tuple(o for o in OUTCOMES if source is None or source in o.sources)


def _match(key: str) -> tuple[Outcome, str] | None:
    if not _EXACT:
        _index()
    if key in _EXACT:
        return _EXACT[key], ""
    for pat, o in _FAMILIES:
        m = pat.match(key)
        if m:
            return o, m.group(1)
    return None


def get(key: str) -> Outcome:
    """The outcome declaring ``key`` (exact key, else the family it belongs to).

    Raises :class:`UnknownOutcome` naming the key when nothing declares it.
    """
    hit = _match(key)
    if hit is None:
        raise UnknownOutcome(f"{key!r} is not a declared outcome (see sim.outcomes.catalogue)")
    return hit[0]


def is_declared(key: str) -> bool:
    """True when some outcome declares ``key``."""
    return _match(key) is not None


def label(key: str, lang: str = "en", default: str | None = None) -> str:
    """Display label of ``key`` in ``lang``; ``default`` (else the key) when undeclared."""
    hit = _match(key)
    if hit is None:
        return key if default is None else default
    return hit[0].label(lang, hit[1])


def unit(key: str) -> str:
    """Unit id of ``key`` (a key of :data:`UNITS`); "" when undeclared."""
    hit = _match(key)
    return hit[0].unit if hit else ""


def direction(key: str) -> Direction:
    """Direction of ``key``; neutral when undeclared (a custom evaluator's output)."""
    hit = _match(key)
    return hit[0].direction if hit else Direction.NEUTRAL


def describe_outcomes(source: str | None = None) -> list[dict[str, Any]]:
    """Every declared outcome as a plain dict (key, unit, direction, capacity, labels, ...)."""
    return [o.as_dict() for o in outcomes(source)]
