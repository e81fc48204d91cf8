"""Provenance of a result: package version, source commit, library versions, scenario, seed.

The git commit is recorded only when the code runs from cityrisk's own checkout (the folder
holding ``sim/`` has a ``pyproject.toml`` naming the project ``cityrisk`` and is the top of a
git work tree). Installed from a wheel — even inside someone else's repository — there is no
commit of ours to report, and the installed version (:func:`version`) identifies the code.

:func:`parquet_metadata` turns a provenance block into Parquet key-value metadata
(``cityrisk.provenance``, JSON), which every Parquet file cityrisk writes carries.
"""

from __future__ import annotations

import functools
import json
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: The folder holding the ``sim`` package: a checkout's root when run from source.
ROOT = Path(__file__).resolve().parents[2]
#: Libraries whose versions change results or files; recorded in every provenance block.
LIBRARIES = ("numpy", "numba", "mesa", "pandas", "pyarrow")
#: Parquet key-value metadata key holding the provenance JSON.
PARQUET_KEY = b"cityrisk.provenance"


def version() -> str:
    """Installed package version (falls back to ``sim.__version__`` in a bare source tree)."""
    try:
        return metadata.version("cityrisk")
    except metadata.PackageNotFoundError:
        from sim import __version__

        return __version__


def is_own_checkout(root: Path = ROOT) -> bool:
    """True if ``root`` is cityrisk's own source checkout (its pyproject names cityrisk)."""
    import tomllib

    try:
        with open(root / "pyproject.toml", "rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return name == "cityrisk" and (root / ".git").exists()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          timeout=5).stdout.strip()


@functools.cache
def git_commit(root: Path = ROOT) -> str | None:
    """Commit of cityrisk's own checkout (``-dirty`` with uncommitted changes), else None.

    None when the code is installed (a wheel in site-packages, or a checkout of another
    project that happens to contain it) or git is unavailable.
    """
    if not is_own_checkout(root):
        return None
    try:
        top = _git(root, "rev-parse", "--show-toplevel")
        if not top or Path(top).resolve() != root.resolve():
            return None
        sha = _git(root, "rev-parse", "HEAD")
        if not sha:
            return None
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions of Python and of :data:`LIBRARIES` (``"absent"`` if not installed)."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def code_provenance() -> dict[str, Any]:
    """What identifies the code: version, git commit (or None) and library versions."""
    return {"version": version(), "git_commit": git_commit(), "libraries": library_versions()}


def provenance(scenario: Any, seed: int | str) -> dict[str, Any]:
    """The provenance block attached to every result."""
    return {**code_provenance(), "scenario": scenario.name, "scenario_hash": scenario.hash,
            "seed": seed}


def parquet_metadata(prov: Mapping[str, Any] | None = None,
                     extra: Mapping[str, Any] | None = None) -> dict[bytes, bytes]:
    """Parquet key-value metadata: ``cityrisk.provenance`` (JSON) plus ``cityrisk.<key>`` extras."""
    meta = {PARQUET_KEY: json.dumps(dict(prov or code_provenance()), sort_keys=True,
                                    ensure_ascii=False, default=str).encode()}
    for key, value in (extra or {}).items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True,
                                                               ensure_ascii=False, default=str)
        meta[f"cityrisk.{key}".encode()] = text.encode()
    return meta


def read_parquet_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance block stored in a Parquet file's metadata ({} if none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(PARQUET_KEY)
    return json.loads(raw) if raw else {}
