"""Plain-text summary of a run's KPIs for the terminal (``cityrisk run`` prints it after a run).

The KPIs are grouped by the article's four capacities (四种能力): risk prevention, conflict
resolution, information processing and resource integration, after the headline outcome, then
where cases were resolved, staff utilisation per level, a table per category, a table per
department and the provenance line. Which KPI goes in which group, its label and its unit all
come from the outcomes registry (:mod:`sim.outcomes.registry`); this module only lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..outcomes import registry

WIDTH = 44  # label column
# registry unit -> how a value of that unit is printed (fmt_value kinds)
KIND = {"count": "int", "share": "share", "hours": "hours", "yuan": "yuan", "score": "float3",
        "index": "float", "day": "int", "per_day": "float", "ratio": "float"}
NESTED = ("resolved_by_level", "utilisation_by_level", "recent_utilisation_by_level", "queue_growth_by_level",
          "by_category", "by_department")


def kind_of(key: str) -> str:
    """The fmt_value kind of a KPI key, from its registry unit ("float" when undeclared)."""
    return KIND.get(registry.unit(key), "float")


def label_of(key: str) -> str:
    """English label of a KPI key, with the scale of a 0-1 score (printed as a plain number)."""
    text = registry.label(key)
    return f"{text} (0-1)" if registry.unit(key) == "score" and "(0-1)" not in text else text


def sections() -> list[tuple[str, list[str]]]:
    """(title, top-level KPI keys) per capacity group, in the registry's order."""
    flat = [o for o in registry.outcomes("kpis") if not o.is_family and "." not in o.key
            and o.key != "days"]
    out = []
    for cap in registry.CAPACITY_ORDER:
        names = registry.CAPACITY_LABELS[cap]
        out.append((f"{names['en']} ({names['zh']})", [o.key for o in flat if o.capacity == cap]))
    return out


def fmt_value(value: Any, kind: str) -> str:
    """Format one KPI value (``n/a`` for missing or non-finite numbers)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a" if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "hours":
        return f"{value:,.1f} h" + (f"  ({value / 24:.1f} d)" if value >= 48 else "")
    if kind == "yuan":
        return f"{value / 1e6:,.2f} million yuan"
    if kind == "float3":
        return f"{value:.3f}"
    return f"{value:,.1f}"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    def line(r: list[str]) -> str:
        cells = enumerate(zip(r, widths, strict=True))
        return "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in cells)

    return [line(header), "  " + "  ".join("-" * w for w in widths), *[line(r) for r in rows]]


def _family_table(title: str, first: str, prefix: str, rows: Mapping[str, Any]) -> list[str]:
    """A table with one row per member (category, department) and one column per field the
    registry declares for ``prefix.*.<field>`` (compact headers, no day equivalents)."""
    fields = [o for o in registry.outcomes("kpis") if o.key.startswith(f"{prefix}.*.")]
    fields = [o for o in fields if any(o.key.rsplit(".", 1)[1] in r for r in rows.values())]
    compact = {"hours": "float"}  # a table column has no room for "(3.2 d)"
    body = [[name, *[fmt_value(r.get(o.key.rsplit(".", 1)[1]),
                               compact.get(o.unit, KIND.get(o.unit, "float"))) for o in fields]]
            for name, r in rows.items()]
    return [title, *_table(body, [first, *[o.short or o.en for o in fields]])]


def _level_line(title: str, prefix: str, values: Mapping[str, Any]) -> list[str]:
    return [title, "  " + "  ".join(f"{lv} {fmt_value(v, kind_of(f'{prefix}.{lv}'))}"
                                    for lv, v in values.items())]


def _saturation_lines(kpis: Mapping[str, Any]) -> list[str]:
    """The levels whose queue grew while their staff were busy ≥ 95% of the last 28 days."""
    util, growth = kpis.get("recent_utilisation_by_level") or {}, kpis.get("queue_growth_by_level") or {}
    from ..engine.saturation import UTILISATION_FLOOR, WINDOW_DAYS

    hot = [lv for lv in util if util[lv] >= UTILISATION_FLOOR and growth.get(lv, 0.0) > 0]
    if not util:
        return []
    if not hot:
        return [f"Saturated levels (last {WINDOW_DAYS} days: staff busy ≥ {UTILISATION_FLOOR:.0%} and queue "
                "growing): none"]
    return [f"Saturated levels (last {WINDOW_DAYS} days: staff busy ≥ {UTILISATION_FLOOR:.0%} and queue "
            "growing) — waits there, and",
            "the escalations they cause, grow with the run's length:",
            "  " + "  ".join(f"{lv} {util[lv]:.0%} busy, queue {growth[lv]:+.1f} a day" for lv in hot)]


def format_summary(kpis: Mapping[str, Any]) -> str:
    """A plain-text summary table of ``model.kpis()`` (or a ``summary.json``) for the terminal."""
    out: list[str] = []
    prov = kpis.get("provenance") or {}
    head = f"cityrisk run: scenario {prov.get('scenario', '?')}, seed {prov.get('seed', '?')}"
    if "days" in kpis:
        head += f", {kpis['days']} days"
    out += [head, "=" * len(head)]
    used: set[str] = {"provenance", "days", *NESTED}
    for title, keys in sections():
        present = [k for k in keys if k in kpis]
        if not present:
            continue
        out.append(title)
        for key in present:
            out.append(f"  {label_of(key):<{WIDTH}}{fmt_value(kpis[key], kind_of(key)):>22}")
            used.add(key)
    extra = [k for k, v in kpis.items() if k not in used and isinstance(v, int | float)]
    if extra:
        out.append("Other")
        out += [f"  {label_of(k):<{WIDTH}}{fmt_value(kpis[k], kind_of(k)):>22}"
                for k in extra]
    if kpis.get("resolved_by_level"):
        out += _level_line("Where cases were resolved (share of detected cases)",
                           "resolved_by_level", kpis["resolved_by_level"])
    if kpis.get("utilisation_by_level"):
        out += _level_line("Staff utilisation by level (share of handler time, to date)",
                           "utilisation_by_level", kpis["utilisation_by_level"])
    out += _saturation_lines(kpis)
    if kpis.get("by_category"):
        out += _family_table("By category", "category", "by_category", kpis["by_category"])
    if kpis.get("by_department"):
        out += _family_table("By department (share of detected cases resolved within)",
                             "department", "by_department", kpis["by_department"])
    if prov:
        commit = str(prov.get("git_commit") or "")
        where = (f", commit {commit[:12]}{' (dirty)' if commit.endswith('-dirty') else ''}"
                 if commit else " (installed)")
        out.append(f"provenance: cityrisk {prov.get('version', '?')}{where}, scenario hash "
                   f"{str(prov.get('scenario_hash', '?'))[:12]}, seed {prov.get('seed', '?')}")
    return "\n".join(out)
