"""Small validation helpers for sweep specs: messages name key path, value and what is allowed."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SpecError", "check_range", "default_field_lookup", "field_is_int", "fmt", "int_min",
           "lookup_field", "num", "unknown", "where"]


class SpecError(ValueError):
    """An invalid sweep spec; the message names key path, value and allowed range."""


def where(src: str, path: str) -> str:
    """``"file: key.path"`` (or just the path)."""
    return f"{src}: {path}" if src else path


def fmt(v: Any) -> str:
    """A value as it would be written in TOML/JSON."""
    return json.dumps(v) if isinstance(v, str | list | dict | bool) else repr(v)


def num(value: Any, path: str, src: str, *, integer: bool = False) -> float:
    """``value`` if it is a finite number (an integer with ``integer``), else SpecError."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        want = "an integer" if integer else "a finite number"
        raise SpecError(f"{where(src, path)} = {fmt(value)}: must be {want}")
    if integer and int(value) != value:
        raise SpecError(f"{where(src, path)} = {fmt(value)}: must be an integer")
    return value


def int_min(d: Mapping[str, Any], key: str, src: str, default: int | None, lo: int,
             prefix: str = "") -> int:
    path = f"{prefix}{key}"
    if key not in d:
        if default is None:
            raise SpecError(f"{where(src, path)}: required key missing (an integer >= {lo})")
        return default
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise SpecError(f"{where(src, path)} = {fmt(v)}: must be an integer >= {lo}")
    return v


def unknown(d: Mapping[str, Any], allowed: set[str], prefix: str, src: str) -> None:
    """SpecError naming the first key of ``d`` not in ``allowed``."""
    for k in d:
        if k not in allowed:
            raise SpecError(f"{where(src, prefix + k)}: unknown key (allowed: "
                            f"{', '.join(sorted(allowed))})")


def default_field_lookup() -> Callable[[str], Any] | None:
    """``sim.config.params.field_for`` if the core is importable, else None (no schema checks)."""
    try:
        from sim.config.params import field_for
    except ImportError:
        return None
    return field_for


def field_is_int(fld: Any) -> bool:
    """True if a schema Field takes integers."""
    kind = str(getattr(fld, "kind", "")).lower()
    if kind in {"int", "integer", "count"}:
        return True
    default = getattr(fld, "default", None)
    return isinstance(default, int) and not isinstance(default, bool)


def lookup_field(lookup: Callable[[str], Any] | None, key: str, path: str, src: str) -> Any:
    """The schema Field of ``key`` (None without a schema); SpecError if unknown or not numeric."""
    if lookup is None:
        return None
    try:
        fld = lookup(key)
    except Exception as exc:  # sim.ScenarioError or KeyError from the schema
        raise SpecError(f"{where(src, path)}: unknown parameter {key!r} ({exc})") from None
    kind = str(getattr(fld, "kind", "float")).lower()
    if kind not in {"int", "integer", "count", "float"}:
        raise SpecError(f"{where(src, path)}: {key} is a {kind} parameter; only numbers can be "
                        "varied (set it in [fixed])")
    return fld


def check_range(fld: Any, key: str, value: float, path: str, src: str) -> None:
    """SpecError if ``value`` lies outside the Field's [lo, hi] or is fractional for an int."""
    if fld is None:
        return
    lo, hi = getattr(fld, "lo", None), getattr(fld, "hi", None)
    if lo is not None and hi is not None and not (lo <= value <= hi):
        raise SpecError(f"{where(src, path)} = {fmt(value)}: outside the allowed range "
                        f"[{lo}, {hi}] of {key}")
    if field_is_int(fld) and int(value) != value:
        raise SpecError(f"{where(src, path)} = {fmt(value)}: {key} takes integers")


# -- limits checked before anything is built (a typo must not end in a MemoryError) ------------
MAX_DAYS = 3650  # the range of run.days in the scenario schema
MAX_GRID_NUM = 100_000  # values of one { lo, hi, num } grid axis
_ANALYSIS_KEYS = {"kpis", "x", "confidence", "prim"}
_PRIM_KEYS = {"kpi", "threshold", "direction", "min_coverage"}


def design_runs(spec: Any) -> int:
    """Runs a sweep spec asks for (points x replications), computed without building it."""
    d = spec.design
    k = len(d.parameters)
    if d.kind == "grid":
        points = math.prod(len(p.values) for p in d.parameters)
    elif d.kind == "list":
        points = len(d.points)
    elif d.kind == "lhs":
        points = d.samples
    elif d.kind == "sobol":
        points = d.samples * (2 * k + 2 if d.second_order else k + 2)
    else:  # morris: one trajectory of k + 1 points per sample
        points = d.samples * (k + 1)
    return points * spec.replications


def check_limits(spec: Any, src: str, outcomes: bool = True) -> None:
    """Days, design size, [analysis] and (with ``outcomes``) output names of a parsed spec."""
    from sim.config.inputs import check_design_size

    if spec.days > MAX_DAYS:
        raise SpecError(f"{where(src, 'days')} = {spec.days}: must be an integer in "
                        f"[1, {MAX_DAYS}]")
    check_design_size(design_runs(spec), where(src, "design") + f" ({spec.design.kind}, "
                      f"{spec.replications} replications)", SpecError)
    a = spec.analysis
    unknown(a, _ANALYSIS_KEYS, "analysis.", src)
    kpis = a.get("kpis", [])
    if not isinstance(kpis, list) or not all(isinstance(x, str) for x in kpis):
        raise SpecError(f"{where(src, 'analysis.kpis')} = {fmt(kpis)}: must be a list of KPI names")
    if "x" in a and a["x"] not in spec.design.keys:
        raise SpecError(f"{where(src, 'analysis.x')} = {fmt(a['x'])}: must be a varied "
                        f"parameter ({', '.join(spec.design.keys)})")
    if "confidence" in a:
        c = num(a["confidence"], "analysis.confidence", src)
        if not 0 < c < 1:
            raise SpecError(f"{where(src, 'analysis.confidence')} = {fmt(c)}: must be in (0, 1)")
    prim = a.get("prim", {})
    if not isinstance(prim, dict):
        raise SpecError(f"{where(src, 'analysis.prim')} = {fmt(prim)}: must be a table "
                        "{ kpi = .., threshold = .., direction = \"below\" | \"above\" }")
    unknown(prim, _PRIM_KEYS, "analysis.prim.", src)
    if prim and ("kpi" not in prim or "threshold" not in prim):
        raise SpecError(f"{where(src, 'analysis.prim')}: needs kpi and threshold")
    if prim:
        num(prim["threshold"], "analysis.prim.threshold", src)
        if prim.get("direction", "below") not in ("below", "above"):
            raise SpecError(f"{where(src, 'analysis.prim.direction')} = "
                            f"{fmt(prim['direction'])}: must be \"below\" or \"above\"")
        if "min_coverage" in prim:
            m = num(prim["min_coverage"], "analysis.prim.min_coverage", src)
            if not 0 < m <= 1:
                raise SpecError(f"{where(src, 'analysis.prim.min_coverage')} = {fmt(m)}: must "
                                "be in (0, 1]")
    if outcomes and spec.run_function == "sim.run":  # other run functions name their own
        names = [*spec.outputs, *kpis, *([prim["kpi"]] if prim else [])]
        check_outcome_names_for(spec, names, src)


def check_outcome_names_for(spec: Any, names: list[str], src: str) -> None:
    """SpecError if a name in ``outputs``/``[analysis]`` is not a KPI of the spec's scenario.

    The list of outcomes is read off a tiny run (later: the outcomes registry).
    """
    if not names:
        return
    from sim.config.inputs import check_outcome_names
    from sim.runner import outcome_names

    scenario = spec.scenario_ref
    try:
        check_outcome_names(spec.outputs, where(src, "outputs"), outcome_names(scenario),
                            SpecError)
        # [analysis] may only name what the store keeps
        check_outcome_names(names, where(src, "analysis"),
                            spec.outputs or outcome_names(scenario), SpecError)
    except SpecError:
        raise
    except Exception as exc:  # the scenario itself does not load: say so in one line
        raise SpecError(f"{where(src, 'scenario')}: {exc}") from None


def check_store_kpis(store: str | Path, names: list[str], flag: str = "--kpi") -> None:
    """SpecError if a name given to ``analyze`` is not a KPI column of the store.

    Reads only the schema of one chunk; a store without chunks has nothing to check yet.
    """
    import pyarrow.parquet as pq

    from sim.config.inputs import check_outcome_names

    from .store import Store

    st = Store(store)
    manifest = st.read_manifest()
    parts = st.part_files()
    if not parts:
        return
    skip = {"run_id", "point_id", "replication", "seed", "wall_seconds", "spec_hash",
            *manifest.get("parameters", [])}
    known = [c for c in pq.read_schema(parts[0]).names if c not in skip]
    check_outcome_names(names, flag, known, SpecError)
