"""``cityrisk levers [SCENARIO] [--json]`` and ``cityrisk outcomes [--json]``: every lever and every
outcome, from the one schema (:mod:`sim.config.levers`) and the one registry
(:mod:`sim.outcomes.registry`)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``levers`` and ``outcomes`` subcommands."""
    p = subparsers.add_parser(
        "levers", help="list every policy lever: range, unit, group, mechanism, expected effect",
        description="Every policy lever with its range, unit, capacity group, the mechanism it acts "
                    "through and the outcome it is expected to move (and which way); with SCENARIO, "
                    "its value there.")
    p.add_argument("scenario", nargs="?", help="show each lever's value in this scenario")
    p.add_argument("--json", action="store_true", help="one JSON list")
    p.set_defaults(func=cmd_levers)
    o = subparsers.add_parser("outcomes", help="list every outcome: unit, direction, definition",
                              description="Every outcome a run reports: key, unit, which way is better, "
                                          "capacity group and definition (denominator stated).")
    o.add_argument("--json", action="store_true", help="one JSON list")
    o.set_defaults(func=cmd_outcomes)


def cmd_levers(args: argparse.Namespace) -> int:
    """Print the lever table."""
    from .config.levers import describe_levers
    from .config.scenario import load_scenario

    values = load_scenario(args.scenario).data["levers"] if args.scenario else None
    rows = describe_levers(values)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        value = f"  = {r['value']:g}" if "value" in r else ""
        eff = r["effect"]
        print(f"{r['key']:<34} [{r['min']:g}, {r['max']:g}] {r['unit']}{value}\n"
              f"    {r['group']}: {r['acts_on']}\n"
              f"    raising it moves {eff['outcome']} {eff['direction']}"
              + ("".join(f" (where {k} = {v:g})" for k, v in eff["when"].items()) if eff["when"] else ""))
    return 0


def cmd_outcomes(args: argparse.Namespace) -> int:
    """Print the outcome table."""
    from .outcomes import describe_outcomes

    rows = describe_outcomes()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        print(f"{r['key']:<44} {r['unit']:<8} {r['direction']:<17} {r['capacity']}\n    {r['definition']}")
    return 0
