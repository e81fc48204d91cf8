"""The calibration spec: a TOML file naming free parameters, targets, method and budget.

Example (every key: docs/calibration.md)::

    [calibrate]
    scenario = "boston"          # scenario name or TOML path (relative to the spec file)
    method = "tpe"               # tpe | random | qmc
    trials = 200
    replications = 3             # seeds per trial (common random numbers across trials)
    stats = ["arrivals"]         # optional statistics sim.run adds (sim/stats.py)
    executor = "processes"       # serial | processes | local | dask
    [parameters."world.overdispersion"]
    lo = 0.0
    hi = 2.0
    [targets]
    file = "targets/boston_2015_jan_jun.toml"   # [targets."<kpi key>"] value / sd / weight
    [holdout]                    # optional out-of-sample check, never used in the fit
    file = "targets/boston_2015_jul_aug.toml"

Every error is a :class:`SpecError` whose message names the key path, the value and what is
allowed; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config.params import ScenarioError, field_for
from sim.executors.base import KINDS as EXECUTORS
from sim.runner import LIST_ELEMENT
from sim.stats import STATS

from .checks import BIG, METHODS, SpecError, choice, number, read_toml, table, unknown_keys

#: Simulators whose parameters are the core's scenario keys (checked against sim.config.params).
CORE_SIMULATORS = ("sim:run",)
_CAL_KEYS = {
    "scenario", "simulator", "days", "method", "trials", "replications", "seed", "executor",
    "workers", "batch", "dask_address", "level", "refine_top", "refine_replications",
    "overrides", "name", "description", "polish_steps", "stats",
}
_PARAM_KEYS = {"lo", "hi", "log", "int", "doc"}
_TARGET_KEYS = {"value", "sd", "weight", "source", "doc", "check"}
_TOP_KEYS = {"calibrate", "parameters", "targets", "holdout"}


@dataclass(frozen=True)
class Parameter:
    """A free parameter: dotted scenario key, bounds, log scale, integer."""

    key: str
    lo: float
    hi: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Target:
    """A target: output key, observed value, scale ``sd`` (data SE + model discrepancy), weight.

    ``check`` targets are reported but not fitted (weight 0), e.g. inputs taken from sources.
    """

    key: str
    value: float
    sd: float
    weight: float = 1.0
    source: str = ""
    check: bool = False


@dataclass(frozen=True)
class Holdout:
    """Out-of-sample check: its own targets, run length, scenario overrides and (optionally)
    its own scenario (e.g. one extending the fitted one with another start date)."""

    targets: tuple[Target, ...]
    days: int | None
    overrides: dict[str, Any]
    scenario: str = ""
    #: the naive forecast ("the future looks like the fit window"): key -> value, read from
    #: ``naive = "<target file>"`` (the fit window's statistics); reported beside the model
    naive: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration spec."""

    scenario: str
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    days: int | None = None
    simulator: str = "sim:run"
    stats: tuple[str, ...] = ()
    method: str = "tpe"
    trials: int = 100
    replications: int = 2
    seed: int = 0
    executor: str = "serial"
    workers: int = 1
    batch: int = 0
    dask_address: str = ""
    level: float = 0.95
    refine_top: int = 5
    refine_replications: int = 8
    polish_steps: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)
    holdout: Holdout | None = None
    name: str = "calibration"
    description: str = ""
    path: str = ""

    @property
    def fitted_targets(self) -> tuple[Target, ...]:
        """Targets that enter the loss (weight > 0, not checks)."""
        return tuple(t for t in self.targets if t.weight > 0 and not t.check)

    @property
    def hash(self) -> str:
        """sha256 of the spec's canonical JSON (provenance of a fit)."""
        return hashlib.sha256(json.dumps(to_dict(self), sort_keys=True,
                                         default=str).encode()).hexdigest()


def to_dict(spec: CalibrationSpec) -> dict[str, Any]:
    """Plain-dict form of a spec (for the JSON report)."""
    from dataclasses import asdict

    d = asdict(spec)
    d.pop("path", None)
    return d


_CHECK_SCHEMA = [True]  # False while parsing a spec whose simulator is not sim.run


def _schema_field(key: str, where: str = "parameters") -> Any:
    """The core's Field for a scenario key; None when the spec's simulator is not the core's
    (its keys are then the simulator's business)."""
    if not _CHECK_SCHEMA[0]:
        return None
    try:
        return field_for(key)
    except ScenarioError as exc:
        raise SpecError(f"{where}.{exc}") from None


def parse_parameter(key: str, raw: Any) -> Parameter:
    """Validate one ``[parameters."<key>"]`` table."""
    path = f"parameters.{key}"
    raw = table(path, raw)
    unknown_keys(path, raw, _PARAM_KEYS)
    for need in ("lo", "hi"):
        if need not in raw:
            raise SpecError(f"{path}.{need}: missing (give lo and hi bounds)")
    elem = LIST_ELEMENT.match(key)
    fld = _schema_field(elem["key"] if elem else key)
    flo, fhi = -BIG, BIG
    integer = bool(raw.get("int", False))
    if fld is not None and elem:
        if fld.kind != "floats":
            raise SpecError(f"{path}: {elem['key']} is not a list (index only list fields)")
        if fld.length is not None and int(elem["i"]) >= fld.length:
            raise SpecError(f"{path}: index {elem['i']} out of range (list of {fld.length})")
        flo = fld.lo if fld.lo is not None else flo
        fhi = fld.hi if fld.hi is not None else fhi
    elif fld is not None:
        if fld.kind not in ("int", "float"):
            raise SpecError(f"{path}: a {fld.kind} parameter cannot be fitted (numbers only)")
        flo = fld.lo if fld.lo is not None else flo
        fhi = fld.hi if fld.hi is not None else fhi
        integer = integer or fld.kind == "int"
    lo = number(f"{path}.lo", raw["lo"], flo, fhi)
    hi = number(f"{path}.hi", raw["hi"], flo, fhi)
    if not lo < hi:
        raise SpecError(f"{path}.hi = {hi:g}: must be greater than lo = {lo:g}")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SpecError(f"{path}.log = {log!r}: must be true or false")
    if log and lo <= 0:
        raise SpecError(f"{path}.lo = {lo:g}: must be > 0 when log = true")
    if integer and math.ceil(lo) > math.floor(hi):
        raise SpecError(f"{path}: no integer in [{lo:g}, {hi:g}]")
    return Parameter(key, lo, hi, log, integer)


def parse_target(key: str, raw: Any, where: str = "targets") -> Target:
    """Validate one target table: ``value`` (required), ``sd`` (> 0), ``weight`` (>= 0)."""
    path = f"{where}.{key}"
    raw = table(path, raw)
    unknown_keys(path, raw, _TARGET_KEYS)
    if "value" not in raw:
        raise SpecError(f"{path}.value: missing (the observed value)")
    value = number(f"{path}.value", raw["value"], -BIG, BIG)
    default_sd = max(abs(value) * 0.05, 1e-3)
    sd = number(f"{path}.sd", raw.get("sd", default_sd), 0.0, BIG, positive=True)
    weight = number(f"{path}.weight", raw.get("weight", 1.0), 0.0, 1e6)
    check = raw.get("check", False)
    if not isinstance(check, bool):
        raise SpecError(f"{path}.check = {check!r}: must be true or false")
    return Target(key, value, sd, weight, str(raw.get("source", "")), check)


def load_targets(path: Path, where: str) -> list[Target]:
    """Targets from a target file: ``[targets."<key>"]`` tables (other top tables ignored)."""
    raw = read_toml(path, f"{where}.file")
    tab = table(f"{path}: targets", raw.get("targets", {}))
    return [parse_target(k, v, f"{path.name}: targets") for k, v in tab.items()]


def _targets(raw: Any, base: Path, where: str) -> list[Target]:
    raw = table(where, raw)
    out: dict[str, Target] = {}
    file = raw.get("file")
    if file is not None:
        if not isinstance(file, str):
            raise SpecError(f"{where}.file = {file!r}: must be a path string")
        out.update({t.key: t for t in load_targets(base / file, where)})
    include = raw.get("include")
    for key, val in raw.items():
        if key in ("file", "include"):
            continue
        t = parse_target(key, val, where)
        out[key] = t
    if include is not None:
        if not isinstance(include, list) or not all(isinstance(s, str) for s in include):
            raise SpecError(f"{where}.include = {include!r}: must be a list of key prefixes")
        out = {k: t for k, t in out.items() if any(k.startswith(p) for p in include)}
    return list(out.values())


def _overrides(path: str, raw: Any) -> dict[str, Any]:
    """Fixed scenario overrides (dotted key -> value), checked against the core's schema."""
    raw = dict(table(path, raw))
    for key, val in raw.items():
        fld = _schema_field(key, path)
        if fld is None:
            continue
        try:
            raw[key] = fld.check(f"{path}.{key}", val)
        except ScenarioError as exc:
            raise SpecError(str(exc)) from None
    return raw


def _stats(raw: Any) -> tuple[str, ...]:
    """``calibrate.stats``: names of optional statistics (checked for the core's simulator)."""
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise SpecError(f"calibrate.stats = {raw!r}: must be a list of statistic names")
    bad = [s for s in raw if s not in STATS] if _CHECK_SCHEMA[0] else []
    if bad:
        raise SpecError(f"calibrate.stats = {bad[0]!r}: must be one of {list(STATS)}")
    return tuple(raw)


def _scenario_ref(name: str, base: Path) -> str:
    """A scenario name, or a TOML path resolved against the spec's folder when it exists there."""
    if name.endswith(".toml") and not Path(name).is_absolute():
        cand = base / name
        return str(cand) if cand.exists() else name
    return name


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> CalibrationSpec:
    """Read and validate a spec file. ``overrides`` replace ``[calibrate]`` keys (CLI flags)."""
    path = Path(path)
    raw = read_toml(path, "spec")
    return parse_spec(raw, base=path.parent, overrides=overrides, path=str(path))


def parse_spec(raw: Mapping[str, Any], base: Path = Path("."),
               overrides: Mapping[str, Any] | None = None, path: str = "") -> CalibrationSpec:
    """Validate a spec given as a dict (what ``load_spec`` reads)."""
    unknown_keys("", raw, _TOP_KEYS)
    cal = dict(table("calibrate", raw.get("calibrate", {})))
    cal.update({k: v for k, v in (overrides or {}).items() if v is not None})
    unknown_keys("calibrate", cal, _CAL_KEYS)
    if "scenario" not in cal or not isinstance(cal["scenario"], str) or not cal["scenario"]:
        raise SpecError(f"calibrate.scenario = {cal.get('scenario')!r}: must name a scenario "
                        "(file stem in scenarios/ or a path to a TOML file)")
    scenario = _scenario_ref(cal["scenario"], base)
    simulator = cal.get("simulator", "sim:run")
    if not isinstance(simulator, str) or ":" not in simulator:
        raise SpecError(f"calibrate.simulator = {simulator!r}: must be 'module:function'")
    _CHECK_SCHEMA[0] = simulator in CORE_SIMULATORS
    try:
        return _parse(raw, cal, scenario, simulator, base, path)
    finally:
        _CHECK_SCHEMA[0] = True


def _parse(raw: Mapping[str, Any], cal: dict[str, Any], scenario: str, simulator: str,
           base: Path, path: str) -> CalibrationSpec:

    def opt_int(key: str, lo: int, hi: int, default: int) -> int:
        return int(number(f"calibrate.{key}", cal.get(key, default), lo, hi, integer=True))

    days = cal.get("days")
    days = None if days is None else opt_int("days", 1, 3650, 1)
    params_raw = table("parameters", raw.get("parameters", {}))
    if not params_raw:
        raise SpecError("parameters: empty (name at least one free parameter with lo and hi)")
    params = tuple(parse_parameter(k, v) for k, v in params_raw.items())
    if "targets" not in raw:
        raise SpecError("targets: missing (give [targets] file = ... or [targets.\"<key>\"] tables)")
    targets = tuple(_targets(raw["targets"], base, "targets"))
    if not any(t.weight > 0 and not t.check for t in targets):
        raise SpecError("targets: no target with weight > 0 (nothing to fit)")
    fixed = _overrides("calibrate.overrides", cal.get("overrides", {}))
    clash = sorted(set(fixed) & {p.key for p in params})
    if clash:
        raise SpecError(f"calibrate.overrides.{clash[0]}: also a free parameter (remove one)")
    holdout = None
    if "holdout" in raw:
        hraw = dict(table("holdout", raw["holdout"]))
        hdays = hraw.pop("days", None)
        hdays = None if hdays is None else int(number("holdout.days", hdays, 1, 3650, integer=True))
        hover = _overrides("holdout.overrides", hraw.pop("overrides", {}))
        hscen = hraw.pop("scenario", "")
        if not isinstance(hscen, str):
            raise SpecError(f"holdout.scenario = {hscen!r}: must be a scenario name or path")
        hscen = _scenario_ref(hscen, base) if hscen else ""
        naive_file = hraw.pop("naive", None)
        if naive_file is not None and not isinstance(naive_file, str):
            raise SpecError(f"holdout.naive = {naive_file!r}: must be a path to a target file")
        naive = {t.key: t.value for t in load_targets(base / naive_file, "holdout.naive")} \
            if naive_file else {}
        htargets = tuple(_targets(hraw, base, "holdout"))
        if not htargets:
            raise SpecError("holdout: no targets (give file = ... or target tables)")
        holdout = Holdout(htargets, hdays, hover, hscen, naive)
    level = number("calibrate.level", cal.get("level", 0.95), 0.5, 0.999)
    name = cal.get("name", Path(path).stem if path else "calibration")
    executor = choice("calibrate.executor", cal.get("executor", "serial"), EXECUTORS)
    if executor == "dask" and not cal.get("dask_address"):
        executor = "local"  # calibration has no [cluster]: dask without an address is local
    return CalibrationSpec(
        scenario=scenario, parameters=params, targets=targets, days=days, simulator=simulator,
        method=choice("calibrate.method", cal.get("method", "tpe"), METHODS),
        trials=opt_int("trials", 1, 1_000_000, 100),
        replications=opt_int("replications", 1, 10_000, 2),
        seed=opt_int("seed", 0, 2**63 - 1, 0),
        stats=_stats(cal.get("stats", [])), executor=executor,
        workers=opt_int("workers", 1, 4096, 1), batch=opt_int("batch", 0, 100_000, 0),
        dask_address=str(cal.get("dask_address", "")), level=level,
        refine_top=opt_int("refine_top", 0, 1000, 5),
        refine_replications=opt_int("refine_replications", 1, 10_000, 8),
        polish_steps=opt_int("polish_steps", 0, 100, 2),
        overrides=fixed, holdout=holdout, name=str(name),
        description=str(cal.get("description", "")), path=path,
    )
