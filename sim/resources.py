"""Where cityrisk finds its shipped files: scenarios, calibration inputs, package data.

In a wheel the top-level ``scenarios/`` and ``calibration/`` folders are copied into the package
as ``sim/data/scenarios`` and ``sim/data/calibration`` by the build step in ``setup.py``; in a
source checkout (editable install or ``PYTHONPATH``) they are read in place, so there is one copy
in git and nothing to drift.

Scenario names are looked up along :func:`scenario_dirs`, first match wins:

1. ``./scenarios`` (the current directory's own scenarios),
2. each folder in ``$CITYRISK_SCENARIOS`` (``os.pathsep``-separated),
3. the scenarios shipped with cityrisk.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGE_DATA", "SOURCE_ROOT", "calibration_spec", "scenario_dirs", "shipped"]

#: ``sim/data``: package data (geography; in a wheel also scenarios and calibration inputs).
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
#: The folder holding the ``sim`` package: the repository root in a source checkout.
SOURCE_ROOT = Path(__file__).resolve().parents[1]
#: Environment variable naming extra scenario folders.
SCENARIO_ENV = "CITYRISK_SCENARIOS"


def shipped(name: str) -> Path:
    """The shipped folder ``name`` (``scenarios`` or ``calibration``): installed copy or checkout's."""
    installed = PACKAGE_DATA / name
    if installed.is_dir():
        return installed
    source = SOURCE_ROOT / name
    return source if source.is_dir() else installed


def scenario_dirs() -> list[Path]:
    """Folders searched for scenario names, in order (only existing ones, no duplicates)."""
    cands = [Path.cwd() / "scenarios"]
    cands += [Path(p).expanduser() for p in os.environ.get(SCENARIO_ENV, "").split(os.pathsep) if p]
    cands.append(shipped("scenarios"))
    out: list[Path] = []
    seen: set[Path] = set()
    for c in cands:
        try:
            key = c.resolve()
        except OSError:
            continue
        if key not in seen and c.is_dir():
            seen.add(key)
            out.append(c)
    return out


def calibration_spec(ref: str | Path) -> Path:
    """A calibration spec path: ``ref`` if it exists, else the shipped spec of that name.

    ``boston``, ``boston.toml`` and ``calibration/boston.toml`` all find the installed
    ``calibration/boston.toml`` when no such file is in the current directory.
    """
    p = Path(ref)
    if p.exists():
        return p
    parts = p.parts[1:] if p.parts[:1] == ("calibration",) else p.parts
    if not parts:
        return p
    cand = shipped("calibration").joinpath(*parts)
    if cand.suffix != ".toml":
        cand = cand.with_name(cand.name + ".toml")
    return cand if cand.is_file() else p
