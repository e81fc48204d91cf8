"""Provenance of a result: package version, git commit, scenario hash, seed."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def version() -> str:
    """Installed package version (falls back to the source tree's)."""
    try:
        return metadata.version("cityrisk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def git_commit() -> str:
    """Commit of the source tree (with '-dirty' if it has uncommitted changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        if not sha:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(scenario: Any, seed: int | str) -> dict[str, Any]:
    """The provenance block attached to every result."""
    return {"version": version(), "git_commit": git_commit(), "scenario": scenario.name,
            "scenario_hash": scenario.hash, "seed": seed}
