"""Small validation helpers for sweep specs: messages name key path, value and what is allowed."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
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
