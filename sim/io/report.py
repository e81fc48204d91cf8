"""Plain-text summary of a run's KPIs for the terminal (``cityrisk run`` prints it after a run).

The KPIs are grouped by the article's four capacities (四种能力): risk prevention, conflict
resolution, information processing and resource integration, followed by where cases were
resolved, a table per category, a table per department and the provenance line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# (key, label, kind) — kind: int, share, hours, float, index, yuan
SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Outcome", (
        ("cases_total", "cases", "int"),
        ("cases_resolved", "cases resolved", "int"),
        ("resolved_share", "resolved share", "share"),
        ("safety_index", "safety index (0-100)", "float"),
        ("mean_trust", "mean trust (0-1)", "float3"),
    )),
    ("Risk prevention (风险防控)", (
        ("escalated_share", "escalated share (severity >= 2)", "share"),
        ("collective_incidents", "collective incidents (severity >= 2)", "int"),
        ("major_incidents", "major incidents (severity 3)", "int"),
        ("backlog", "backlog (open, detected)", "int"),
    )),
    ("Conflict resolution (矛盾化解)", (
        ("grassroots_resolution_share", "resolved at grid/community/street", "share"),
        ("median_hours_to_resolution", "median time to resolution", "hours"),
        ("p90_hours_to_resolution", "p90 time to resolution", "hours"),
    )),
    ("Information processing (信息处理)", (
        ("detection_rate", "detection rate", "share"),
        ("mean_detection_delay_hours", "mean detection delay", "hours"),
        ("faded_share", "faded away undetected", "share"),
    )),
    ("Resource integration (资源整合)", (
        ("misrouted_share", "misrouted share (of detected)", "share"),
        ("staff_utilisation", "staff utilisation (mediators to city)", "share"),
        ("staff_cost", "staff cost", "yuan"),
    )),
)
WIDTH = 44  # label column


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


def format_summary(kpis: Mapping[str, Any]) -> str:
    """A plain-text summary table of ``model.kpis()`` (or a ``summary.json``) for the terminal."""
    out: list[str] = []
    prov = kpis.get("provenance") or {}
    head = f"cityrisk run: scenario {prov.get('scenario', '?')}, seed {prov.get('seed', '?')}"
    if "days" in kpis:
        head += f", {kpis['days']} days"
    out += [head, "=" * len(head)]
    used: set[str] = {"provenance", "days", "resolved_by_level", "by_category", "by_department"}
    for title, rows in SECTIONS:
        present = [(k, label, kind) for k, label, kind in rows if k in kpis]
        if not present:
            continue
        out.append(title)
        for key, label, kind in present:
            out.append(f"  {label:<{WIDTH}}{fmt_value(kpis[key], kind):>22}")
            used.add(key)
    extra = [k for k, v in kpis.items() if k not in used and isinstance(v, int | float)]
    if extra:
        out.append("Other")
        out += [f"  {k:<{WIDTH}}{fmt_value(kpis[k], 'float'):>22}" for k in extra]
    levels = kpis.get("resolved_by_level") or {}
    if levels:
        out.append("Where resolved cases were resolved (share of resolved)")
        out.append("  " + "  ".join(f"{lv} {fmt_value(v, 'share')}" for lv, v in levels.items()))
    cats = kpis.get("by_category") or {}
    if cats:
        out.append("By category")
        rows = [[name, fmt_value(c.get("cases"), "int"),
                 fmt_value(c.get("resolved_share"), "share"), fmt_value(c.get("escalated"), "int"),
                 fmt_value(c.get("major_incidents"), "int"),
                 fmt_value(c.get("mean_hours_to_resolution"), "float")] for name, c in cats.items()]
        out += _table(rows, ["category", "cases", "resolved", "escalated", "major", "mean h"])
    deps = kpis.get("by_department") or {}
    if deps:
        out.append("By department (share of detected cases closed within)")
        rows = [[name, fmt_value(d.get("cases"), "int"),
                 *[fmt_value(d.get(f"closed_within_{w}h"), "share") for w in (24, 168, 720)]]
                for name, d in deps.items()]
        out += _table(rows, ["department", "cases", "24 h", "7 d", "30 d"])
    if prov:
        commit = str(prov.get("git_commit", "?"))
        out.append(f"provenance: cityrisk {prov.get('version', '?')}, commit {commit[:12]}"
                   f"{' (dirty)' if commit.endswith('-dirty') else ''}, scenario hash "
                   f"{str(prov.get('scenario_hash', '?'))[:12]}, seed {prov.get('seed', '?')}")
    return "\n".join(out)
