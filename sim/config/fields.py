"""Schema building blocks: a typed, ranged ``Field`` and the shorthands the schema is written in.

``ScenarioError`` is the one error every bad input becomes (the CLI turns it into exit 2 with
the offending key and allowed range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class ScenarioError(ValueError):
    """Bad scenario input: the message names the key path, the value and what is allowed."""


@dataclass(frozen=True)
class Field:
    """One parameter: type (``int``, ``float``, ``bool``, ``str``, ``floats``), range, default, doc."""

    kind: str
    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    length: int | None = None  # for "floats": required list length (None = any length >= 1)
    choices: tuple[str, ...] | None = None
    optional: bool = False  # for "floats": an empty list is allowed (= inherit, see doc)

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return f"one of {list(self.choices)}" if self.choices else "a string"
        if self.kind == "date":
            return f"'' or a calendar date YYYY-MM-DD from {DATE_RANGE[0]} to {DATE_RANGE[1]}"
        rng = f"in [{_fmt(self.lo)}, {_fmt(self.hi)}]"
        if self.kind == "floats":
            n = f"{self.length} numbers" if self.length else "a list of numbers"
            return f"{n}, each {rng}" + (" (or [] to inherit)" if self.optional else "")
        return f"{'an integer' if self.kind == 'int' else 'a number'} {rng}"

    def check(self, path: str, value: Any) -> Any:
        """Return ``value`` converted to this field's type, or raise ScenarioError."""
        def bad(reason: str = "") -> ScenarioError:
            extra = f" ({reason})" if reason else ""
            return ScenarioError(f"{path} = {value!r}: must be {self.allowed()}{extra}")

        if self.kind == "bool":
            if not isinstance(value, bool):
                raise bad()
            return value
        if self.kind == "str":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise bad()
            return value
        if self.kind == "date":
            import datetime as dt

            if type(value) is dt.date:  # a TOML date (unquoted 2015-01-01)
                value = value.isoformat()
            if not isinstance(value, str) or (value and not _is_date(value)):
                raise bad()
            return value
        if self.kind == "floats":
            if self.optional and isinstance(value, list | tuple) and not value:
                return []
            if not isinstance(value, list | tuple) or not value:
                raise bad()
            if self.length is not None and len(value) != self.length:
                raise bad(f"got {len(value)} numbers")
            return [Field("float", 0.0, "", self.lo, self.hi).check(f"{path}[{i}]", v)
                    for i, v in enumerate(value)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise bad("not a whole number")
            value = int(value)
        else:
            value = float(value)
            if value != value:  # NaN
                raise bad()
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise bad()
        return value


DATE_RANGE = ("1900-01-01", "2100-12-31")


def _is_date(text: str) -> bool:
    """True for an ISO calendar date ``YYYY-MM-DD`` inside :data:`DATE_RANGE`."""
    import datetime as dt

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return DATE_RANGE[0] <= text <= DATE_RANGE[1]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}"


def F(default: float, lo: float, hi: float, doc: str) -> Field:  # noqa: N802 - schema shorthand
    """A float field."""
    return Field("float", float(default), doc, lo, hi)


def I(default: int, lo: int, hi: int, doc: str) -> Field:  # noqa: N802,E743 - schema shorthand
    """An int field."""
    return Field("int", int(default), doc, lo, hi)


def S(default: str, doc: str, choices: tuple[str, ...] | None = None) -> Field:  # noqa: N802
    """A string field."""
    return Field("str", default, doc, choices=choices)


def D(doc: str) -> Field:  # noqa: N802 - schema shorthand
    """A calendar-date field: ``""`` (none) or ``YYYY-MM-DD``."""
    return Field("date", "", doc)


def FL(default: list[float], lo: float, hi: float, doc: str, length: int | None,  # noqa: N802
       optional: bool = False) -> Field:
    """A list-of-floats field (``optional``: an empty list means "inherit")."""
    return Field("floats", list(default), doc, lo, hi, length, optional=optional)
