"""Scenario files: load TOML, inherit (``meta.extends``), override (``--set``), validate, hash.

A scenario is a nested dict that is complete (every default filled in) and valid. Every error is a
:class:`ScenarioError` whose message names the key path, the offending value and the allowed range.
Files are read through :mod:`sim.config.inputs` (size, UTF-8, nesting depth); ``extends`` cycles
are found by resolved path; ``--set`` values get the same row checks as file values.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .geometry_io import PATH_KEYS, resolve_path
from .inputs import load_toml
from .params import (
    CATEGORY_SCHEMA,
    DEFAULT_CATEGORIES,
    SCHEMA,
    SHOCK_SCHEMA,
    Field,
    ScenarioError,
    field_for,
)


def scenario_names() -> list[str]:
    """Names of the scenarios on the search path (``./scenarios``, ``$CITYRISK_SCENARIOS``,
    the shipped ones; see :mod:`sim.resources`)."""
    from ..resources import scenario_dirs

    return sorted({p.stem for d in scenario_dirs() for p in d.glob("*.toml")})


def scenario_path(name_or_path: str | Path) -> Path:
    """Resolve a scenario name (file stem on the search path) or a path to a TOML file."""
    from ..resources import scenario_dirs

    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise ScenarioError(f"scenario file {str(p)!r} does not exist")
        return p
    dirs = scenario_dirs()
    for d in dirs:
        cand = d / f"{name_or_path}.toml"
        if cand.is_file():
            return cand
    where = ", ".join(str(d) for d in dirs) or "no scenario folder found"
    raise ScenarioError(f"scenario {str(name_or_path)!r}: no such file or name (names: "
                        f"{', '.join(scenario_names())}; searched {where})")


def _read_toml(path: Path) -> dict[str, Any]:
    return load_toml(path, "scenario", ScenarioError)


def defaults() -> dict[str, Any]:
    """The complete default scenario."""
    def build(tree: dict[str, Any], prefix: str) -> dict[str, Any]:
        # defaults go through check() too, so 1 and 1.0 hash the same whichever way they arrive
        return {k: (v.check(prefix + k, copy.deepcopy(v.default)) if isinstance(v, Field)
                    else build(v, f"{prefix}{k}.")) for k, v in tree.items()}

    data = build(SCHEMA, "")
    data["world"]["categories"] = {n: _category(f"world.categories.{n}", c)
                                   for n, c in DEFAULT_CATEGORIES.items()}
    data["world"]["shocks"] = []
    return data


def _category(path: str, row: Any, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise ScenarioError(f"{path} = {row!r}: must be a table of category fields")
    out = dict(base) if base else {k: f.check(k, copy.deepcopy(f.default)) for k, f in CATEGORY_SCHEMA.items()}
    for key, val in row.items():
        if key not in CATEGORY_SCHEMA:
            raise ScenarioError(f"{path}.{key}: unknown key (allowed: {', '.join(CATEGORY_SCHEMA)})")
        out[key] = CATEGORY_SCHEMA[key].check(f"{path}.{key}", val)
    _check_row(path, out)
    return out


def _check_row(path: str, row: Mapping[str, Any]) -> None:
    """Checks that span fields of one category row (run for files and for ``--set`` alike)."""
    if abs(sum(row["severity_probs"]) - 1.0) > 1e-6:
        raise ScenarioError(f"{path}.severity_probs = {row['severity_probs']!r}: must sum to 1")
    if row["pair_share"] + row["collective_share"] > 1.0:
        raise ScenarioError(f"{path}: pair_share + collective_share = "
                            f"{row['pair_share'] + row['collective_share']:g}: must be in [0, 1]")


def _shock(path: str, row: Any) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise ScenarioError(f"{path} = {row!r}: must be a table of shock fields")
    out = {k: f.check(k, copy.deepcopy(f.default)) for k, f in SHOCK_SCHEMA.items()}
    for key, val in row.items():
        if key not in SHOCK_SCHEMA:
            raise ScenarioError(f"{path}.{key}: unknown key (allowed: {', '.join(SHOCK_SCHEMA)})")
        out[key] = SHOCK_SCHEMA[key].check(f"{path}.{key}", val)
    return out


def _merge(data: dict[str, Any], raw: Mapping[str, Any], schema: dict[str, Any], prefix: str,
           inherit_tables: bool) -> None:
    """Validate ``raw`` against ``schema`` and write it into ``data`` (in place)."""
    for key, val in raw.items():
        path = f"{prefix}{key}"
        if prefix == "world." and key == "categories":
            if not isinstance(val, Mapping) or not val:
                raise ScenarioError(f"{path}: must be a non-empty table of categories")
            cats = dict(data["categories"]) if inherit_tables else {}
            for name, row in val.items():
                cats[name] = _category(f"{path}.{name}", row, cats.get(name))
            data["categories"] = cats
            continue
        if prefix == "world." and key == "shocks":
            if not isinstance(val, list):
                raise ScenarioError(f"{path}: must be an array of tables ([[world.shocks]])")
            data["shocks"] = [_shock(f"{path}[{i}]", r) for i, r in enumerate(val)]
            continue
        if key not in schema:
            allowed = ", ".join(list(schema)[:8]) + (" ..." if len(schema) > 8 else "")
            raise ScenarioError(f"{path}: unknown key (allowed here: {allowed})")
        sub = schema[key]
        if isinstance(sub, Field):
            data[key] = sub.check(path, val)
        else:
            if not isinstance(val, Mapping):
                raise ScenarioError(f"{path} = {val!r}: must be a table ([{path}])")
            _merge(data[key], val, sub, path + ".", inherit_tables)


def _check_consistency(data: dict[str, Any]) -> None:
    for name, row in data["world"]["categories"].items():
        _check_row(f"world.categories.{name}", row)
    for i, shock in enumerate(data["world"]["shocks"]):
        if shock["category"] and shock["category"] not in data["world"]["categories"]:
            raise ScenarioError(f"world.shocks[{i}].category = {shock['category']!r}: must be '' or one "
                                f"of {sorted(data['world']['categories'])}")
    levels = data["handling"]["entry_level_by_severity"]
    if any(not float(x).is_integer() for x in levels):
        raise ScenarioError(f"handling.entry_level_by_severity = {levels!r}: must be whole numbers in [0, 5]")
    ratio = branching_ratio(data["world"])
    if ratio >= 1.0:
        w = data["world"]
        raise ScenarioError(
            f"world.contagion_magnitude = {w['contagion_magnitude']:g}, world.contagion_escalation_magnitude = "
            f"{w['contagion_escalation_magnitude']:g}, world.recurrence_share = {w['recurrence_share']:g}: "
            f"branching ratio magnitude + 3 × escalation magnitude + recurrence share = {ratio:g} must be "
            "< 1 (else contagion explodes; docs/ODD.md §7.16)")


MAX_SEVERITY_STEPS = 3  # severity steps a case can take (0 → 3)


def branching_ratio(world: Mapping[str, Any]) -> float:
    """Upper bound on the expected offspring of one case (docs/ODD.md §7.16): new-case contagion,
    three severity steps of escalation contagion and a return; 0 when contagion is off (returns
    alone make at most one case per case: they never explode)."""
    m, m_esc = float(world["contagion_magnitude"]), float(world["contagion_escalation_magnitude"])
    if m <= 0 and m_esc <= 0:
        return 0.0
    return m + MAX_SEVERITY_STEPS * m_esc + float(world["recurrence_share"])


def _resolve_paths(data: dict[str, Any], raw: Mapping[str, Any], base: Path) -> None:
    """File paths set by this scenario file are relative to its folder (``sim:`` = package data)."""
    city = raw.get("city", {})
    for key in PATH_KEYS:
        if isinstance(city, Mapping) and key in city:
            data["city"][key] = resolve_path(data["city"][key], base)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.path=value`` (value in TOML syntax; bare words are strings)."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected KEY=VALUE, e.g. levers.grid_workers_per_grid=6")
    key, rhs = (s.strip() for s in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {rhs}")["v"]
    except tomllib.TOMLDecodeError:
        value = rhs
    except RecursionError:
        raise ScenarioError(f"--set {key}: value nested too deeply") from None
    return key, value


def _apply_override(data: dict[str, Any], key: str, value: Any) -> None:
    if key == "meta.extends":  # inheritance happens when a file is read; an override is too late
        raise ScenarioError(f"meta.extends = {value!r}: cannot be set with --set; write a "
                            "scenario file with meta.extends and run that file")
    field = field_for(key)  # raises on unknown keys
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        if p not in node:
            raise ScenarioError(f"{key}: unknown category {p!r} (categories: {sorted(node)})")
        node = node[p]
    node[parts[-1]] = field.check(key, value)
    if parts[0] == "city" and parts[-1] in PATH_KEYS:  # --set paths are relative to the cwd
        node[parts[-1]] = resolve_path(node[parts[-1]], Path.cwd())


class Scenario:
    """A complete, validated scenario: ``.name``, ``.data`` (nested dict), ``.hash``."""

    def __init__(self, data: dict[str, Any], name: str | None = None) -> None:
        self.data = data
        self.name = name or data["meta"]["name"]

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the data (meta excluded): equal hash = equal model."""
        body = {k: v for k, v in self.data.items() if k != "meta"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> Any:
        """Value at a dotted key."""
        node: Any = self.data
        for p in key.split("."):
            if not isinstance(node, Mapping) or p not in node:
                field_for(key)
                raise ScenarioError(f"{key}: not present in scenario {self.name!r}")
            node = node[p]
        return node

    def with_overrides(self, overrides: Mapping[str, Any] | Sequence[str] | None) -> Scenario:
        """A new scenario with dotted-key overrides applied and validated."""
        data = copy.deepcopy(self.data)
        for key, value in _normalise_overrides(overrides):
            _apply_override(data, key, value)
        _check_consistency(data)
        return Scenario(data, self.name)

    def to_toml(self) -> str:
        """The full scenario as TOML (loadable by :func:`load_scenario`)."""
        return to_toml(self.data)

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, hash={self.hash[:12]})"


def _normalise_overrides(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[tuple[str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    return [parse_override(s) for s in overrides]


MAX_EXTENDS = 16  # inheritance chain length; real chains are 1-2 deep


def load_scenario(name_or_path: str | Path | Scenario,
                  overrides: Mapping[str, Any] | Sequence[str] | None = None,
                  _seen: tuple[Path, ...] = ()) -> Scenario:
    """Load, inherit, validate and override a scenario by name or path."""
    if isinstance(name_or_path, Scenario):
        return name_or_path.with_overrides(overrides)
    path = scenario_path(name_or_path)
    raw = _read_toml(path)
    meta = raw.get("meta", {})
    parent = meta.get("extends", "") if isinstance(meta, Mapping) else ""
    if parent:
        if not isinstance(parent, str):
            raise ScenarioError(f"meta.extends = {parent!r}: must be a scenario name")
        # compare resolved files, not stems: "a.toml" and "./x/../a.toml" are the same file
        chain = (*_seen, path.resolve())
        if scenario_path(parent).resolve() in chain:
            raise ScenarioError(f"meta.extends = {parent!r}: circular inheritance "
                                f"({' -> '.join(p.name for p in chain)} -> {parent})")
        if len(chain) > MAX_EXTENDS:
            raise ScenarioError(f"meta.extends = {parent!r}: more than {MAX_EXTENDS} levels")
        data = copy.deepcopy(load_scenario(parent, None, chain).data)
    else:
        data = defaults()
    _merge(data, raw, SCHEMA, "", inherit_tables=bool(parent))
    _resolve_paths(data, raw, path.parent)
    if "name" not in meta:
        data["meta"]["name"] = path.stem
    _check_consistency(data)
    return Scenario(data, data["meta"]["name"]).with_overrides(overrides)


def to_toml(data: Mapping[str, Any]) -> str:
    """Serialise a scenario dict to TOML with a real writer (``tomli-w``): keys that are not
    bare words (``劳动争议``, ``wage arrears``) are quoted, so :func:`load_scenario` reads the
    text back to the same scenario."""
    import tomli_w

    def plain(v: Any) -> Any:  # tomli-w takes dicts, lists and Python scalars only
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        return v.item() if hasattr(v, "item") else v

    return tomli_w.dumps(plain(data))
