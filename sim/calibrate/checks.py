"""Checks of values read from a calibration spec; each error names key path, value and rule."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Optuna samplers a spec may name (``calibrate.method``).
METHODS = ("tpe", "random", "qmc")


class SpecError(ValueError):
    """Bad calibration spec: the message names the key path, the value and what is allowed."""


BIG = 1e300  #: a bound that means "no bound"


def number(path: str, value: Any, lo: float, hi: float, integer: bool = False,
         positive: bool = False) -> float:
    """``value`` as a number in ``[lo, hi]`` (an integer, or > 0, when asked); else SpecError."""
    what = "an integer" if integer else "a number"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and isinstance(value, float) and not value.is_integer():
        ok = False
    if ok and positive and value <= 0:
        ok = False
    if not ok or not math.isfinite(value) or not lo <= value <= hi:
        if positive:
            rng = "> 0"
        elif lo <= -BIG and hi >= BIG:
            rng = "(finite)"
        elif hi >= BIG:
            rng = f">= {lo:g}"
        else:
            rng = f"in [{lo:g}, {hi:g}]"
        raise SpecError(f"{path} = {value!r}: must be {what} {rng}")
    return int(value) if integer else float(value)


def choice(path: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``; else SpecError."""
    if value not in choices:
        raise SpecError(f"{path} = {value!r}: must be one of {list(choices)}")
    return value


def table(path: str, value: Any) -> Mapping[str, Any]:
    """``value`` if it is a TOML table; else SpecError."""
    if not isinstance(value, Mapping):
        raise SpecError(f"{path} = {value!r}: must be a table ([{path}])")
    return value


def unknown_keys(path: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    """SpecError for the first key of ``raw`` not in ``allowed`` (a typo names its table)."""
    extra = sorted(set(raw) - allowed)
    if extra:
        where = f"{path}." if path else ""
        raise SpecError(f"{where}{extra[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A spec file through the one input gate (regular file, size, UTF-8, TOML, nesting depth)."""
    from sim.config.inputs import load_toml

    return load_toml(path, what, SpecError)

