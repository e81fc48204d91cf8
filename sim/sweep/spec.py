"""Sweep specification: a TOML file naming what varies, how, and how often.

Layout (every key optional unless marked)::

    name = "staffing_knee"            # default: file stem
    description = "..."
    scenario = "town"                 # required: scenario name or path (relative to the spec)
    days = 90                         # required
    replications = 8                  # runs per design point (default 1)
    seed = 20260427                   # root seed of SeedSequence(seed, spawn_key=(point, rep))
    run_function = "sim.run"          # dotted path of run(scenario, params, seed, days) -> dict
    outputs = ["escalated_share"]     # KPIs to keep (default: every numeric KPI)

    [fixed]                           # overrides applied to every run
    "city.residents" = 20000

    [design]
    kind = "grid"                     # grid | list | lhs | sobol | morris
    samples = 64                      # lhs: points, sobol: base N (power of 2), morris: trajectories
    levels = 4                        # morris grid levels
    second_order = false              # sobol second-order indices
    seed = 1                          # sampling seed (default: top-level seed)
    [design.parameters]
    "levers.grid_workers_per_grid" = [0, 2, 4, 8]                  # grid: values
    "levers.latency_hours_per_hop" = { lo = 0, hi = 72, num = 7 }  # grid: evenly spaced
    # lhs / sobol / morris: { lo = 0, hi = 1 } (integer = true rounds; default from the field)
    [[design.points]]                 # list design: one table per point
    "levers.grid_workers_per_grid" = 3

    [analysis]   kpis, x, confidence, [analysis.prim] kpi/threshold/direction
    [execution]  chunk_size, flush_seconds, allowed_failures, max_in_flight
    [cluster]    kind = "slurm" | "pbs", jobs, array_shards, + dask-jobqueue options

Errors raise :class:`SpecError` whose message names the key path, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import (
    MAX_GRID_NUM,
    SpecError,
    check_limits,
    check_range,
    default_field_lookup,
    field_is_int,
    fmt,
    int_min,
    lookup_field,
    num,
    unknown,
    where,
)

__all__ = [
    "ClusterSpec",
    "DesignSpec",
    "ExecutionSpec",
    "ParamSpec",
    "SpecError",
    "SweepSpec",
    "default_field_lookup",
    "load_spec",
    "parse_spec",
]

DESIGN_KINDS = ("grid", "list", "lhs", "sobol", "morris")
CLUSTER_KINDS = ("slurm", "pbs")
_TOP_KEYS = {
    "name", "description", "scenario", "days", "replications", "seed", "run_function", "outputs",
    "fixed", "design", "analysis", "execution", "cluster",
}
_DESIGN_KEYS = {"kind", "samples", "levels", "second_order", "seed", "parameters", "points"}
_EXEC_KEYS = {"chunk_size", "flush_seconds", "allowed_failures", "max_in_flight"}


@dataclass(frozen=True)
class ParamSpec:
    """One varied parameter: explicit ``values`` (grid) or a ``[lo, hi]`` range (sampled)."""

    key: str
    lo: float
    hi: float
    integer: bool = False
    values: tuple[float, ...] | None = None


@dataclass(frozen=True)
class DesignSpec:
    """How design points are generated."""

    kind: str
    parameters: tuple[ParamSpec, ...]
    points: tuple[dict[str, float], ...] = ()
    samples: int = 0
    levels: int = 4
    second_order: bool = False
    seed: int = 0

    @property
    def keys(self) -> tuple[str, ...]:
        """Varied parameter keys in design order."""
        return tuple(p.key for p in self.parameters)


@dataclass(frozen=True)
class ExecutionSpec:
    """Knobs that affect how, not what, is computed (not hashed)."""

    chunk_size: int = 200
    flush_seconds: float = 30.0
    allowed_failures: int = 5
    max_in_flight: int = 0


@dataclass(frozen=True)
class ClusterSpec:
    """A dask-jobqueue cluster section; ``options`` go to SLURMCluster/PBSCluster."""

    kind: str
    jobs: int = 1
    array_shards: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec."""

    name: str
    scenario: str
    days: int
    replications: int
    seed: int
    design: DesignSpec
    run_function: str = "sim.run"
    outputs: tuple[str, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    analysis: dict[str, Any] = field(default_factory=dict)
    execution: ExecutionSpec = ExecutionSpec()
    cluster: ClusterSpec | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the result-determining parts of the spec."""
        part = {
            "scenario": self.scenario, "days": self.days, "replications": self.replications,
            "seed": self.seed, "run_function": self.run_function, "outputs": list(self.outputs),
            "fixed": self.fixed, "design": self.raw.get("design"),
        }
        blob = json.dumps(part, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def scenario_ref(self) -> str:
        """The scenario as passed to the run function (paths resolved against the spec)."""
        s = self.scenario
        if self.source is not None and (s.endswith(".toml") or "/" in s):
            p = Path(s)
            if not p.is_absolute():
                p = (self.source.parent / p).resolve()
            return str(p)
        return s


def _parse_param(key: str, raw: Any, kind: str, fld: Any, src: str) -> ParamSpec:
    path = f'design.parameters."{key}"'
    integer = field_is_int(fld) if fld is not None else False
    if isinstance(raw, list):
        if kind != "grid":
            raise SpecError(f"{where(src, path)} = {fmt(raw)}: a {kind} design needs a range "
                            "{ lo = .., hi = .. }, not a list of values")
        if not raw:
            raise SpecError(f"{where(src, path)} = []: needs at least one value")
        vals = [num(v, f"{path}[{i}]", src) for i, v in enumerate(raw)]
        for i, v in enumerate(vals):
            check_range(fld, key, v, f"{path}[{i}]", src)
        if fld is None:
            integer = all(isinstance(v, int) for v in vals)
        return ParamSpec(key, min(vals), max(vals), integer, tuple(vals))
    if not isinstance(raw, dict):
        raise SpecError(f"{where(src, path)} = {fmt(raw)}: must be a list of values or a table "
                        "{ lo = .., hi = .. }")
    unknown(raw, {"lo", "hi", "num", "integer"}, path + ".", src)
    for k in ("lo", "hi"):
        if k not in raw:
            raise SpecError(f"{where(src, path)}.{k}: required key missing (a number)")
    lo = num(raw["lo"], f"{path}.lo", src)
    hi = num(raw["hi"], f"{path}.hi", src)
    if not lo < hi:
        raise SpecError(f"{where(src, path)} = {fmt(raw)}: lo must be < hi")
    check_range(fld, key, lo, f"{path}.lo", src)
    check_range(fld, key, hi, f"{path}.hi", src)
    if "integer" in raw:
        if not isinstance(raw["integer"], bool):
            raise SpecError(f"{where(src, path)}.integer = {fmt(raw['integer'])}: must be "
                            "true or false")
        integer = raw["integer"]
    if kind == "grid":
        count = int_min(raw, "num", src, None, 2, prefix=path + ".")
        if count > MAX_GRID_NUM:  # before the list of values is built
            raise SpecError(f"{where(src, path)}.num = {count}: must be in [2, {MAX_GRID_NUM:,}]")
        vals = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
        if integer:
            vals = sorted({round(v) for v in vals})
        return ParamSpec(key, lo, hi, integer, tuple(vals))
    if "num" in raw:
        raise SpecError(f"{where(src, path)}.num: only grid designs take num")
    return ParamSpec(key, lo, hi, integer)


def _parse_design(d: Any, src: str, top_seed: int,
                  lookup: Callable[[str], Any] | None) -> DesignSpec:
    if not isinstance(d, dict):
        raise SpecError(f"{where(src, 'design')}: required table missing")
    unknown(d, _DESIGN_KEYS, "design.", src)
    kind = d.get("kind")
    if kind not in DESIGN_KINDS:
        raise SpecError(f"{where(src, 'design.kind')} = {fmt(kind)}: must be one of "
                        f"{', '.join(DESIGN_KINDS)}")
    seed = int_min(d, "seed", src, top_seed, 0, prefix="design.")
    if kind == "list":
        if "parameters" in d:
            raise SpecError(f"{where(src, 'design.parameters')}: a list design takes "
                            "[[design.points]] tables instead")
        pts = d.get("points")
        if not isinstance(pts, list) or not pts or not all(isinstance(p, dict) for p in pts):
            raise SpecError(f"{where(src, 'design.points')}: a list design needs one or more "
                            "[[design.points]] tables")
        keys = list(pts[0])
        if not keys:
            raise SpecError(f"{where(src, 'design.points[0]')}: empty point")
        fields = {k: lookup_field(lookup, k, f'design.points[0]."{k}"', src) for k in keys}
        for i, p in enumerate(pts):
            if list(p) != keys and set(p) != set(keys):
                raise SpecError(f"{where(src, f'design.points[{i}]')}: keys {sorted(p)} differ "
                                f"from the first point's {sorted(keys)}")
            for k in keys:
                num(p[k], f'design.points[{i}]."{k}"', src)
                check_range(fields[k], k, p[k], f'design.points[{i}]."{k}"', src)
        params = tuple(
            ParamSpec(k, min(p[k] for p in pts), max(p[k] for p in pts),
                      field_is_int(fields[k]) if fields[k] is not None
                      else all(isinstance(p[k], int) for p in pts))
            for k in keys)
        return DesignSpec("list", params, tuple({k: p[k] for k in keys} for p in pts), seed=seed)
    if "points" in d:
        raise SpecError(f"{where(src, 'design.points')}: only list designs take points")
    raw_params = d.get("parameters")
    if not isinstance(raw_params, dict) or not raw_params:
        raise SpecError(f"{where(src, 'design.parameters')}: required table missing (one entry "
                        "per varied parameter)")
    params = tuple(
        _parse_param(k, v, kind, lookup_field(lookup, k, f'design.parameters."{k}"', src), src)
        for k, v in raw_params.items())
    samples = levels = 0
    if kind == "grid":
        for key in ("samples", "levels", "second_order"):
            if key in d:
                raise SpecError(f"{where(src, 'design.' + key)}: not used by grid designs")
    else:
        samples = int_min(d, "samples", src, None, 2, "design.")
        if kind == "sobol" and samples & (samples - 1):
            raise SpecError(f"{where(src, 'design.samples')} = {samples}: Sobol designs need a "
                            "power of two (e.g. 64, 128, 256)")
        levels = int_min(d, "levels", src, 4, 2, "design.")
        if "levels" in d and kind != "morris":
            raise SpecError(f"{where(src, 'design.levels')}: only morris designs take levels")
    second = d.get("second_order", False)
    if not isinstance(second, bool) or (second and kind != "sobol"):
        raise SpecError(f"{where(src, 'design.second_order')} = {fmt(second)}: true/false, "
                        "sobol designs only")
    return DesignSpec(kind, params, (), samples, levels, second, seed)


def _parse_cluster(c: Any, src: str) -> ClusterSpec:
    if not isinstance(c, dict):
        raise SpecError(f"{where(src, 'cluster')}: must be a table")
    kind = c.get("kind")
    if kind not in CLUSTER_KINDS:
        raise SpecError(f"{where(src, 'cluster.kind')} = {fmt(kind)}: must be one of "
                        f"{', '.join(CLUSTER_KINDS)}")
    jobs = int_min(c, "jobs", src, 1, 1, "cluster.")
    shards = int_min(c, "array_shards", src, 0, 0, "cluster.")
    opts = {k: v for k, v in c.items() if k not in {"kind", "jobs", "array_shards"}}
    return ClusterSpec(kind, jobs, shards, opts)


def parse_spec(data: Mapping[str, Any], source: str | Path | None = None,
               field_lookup: Callable[[str], Any] | None | str = "auto") -> SweepSpec:
    """Validate a parsed TOML mapping and return a :class:`SweepSpec`.

    ``field_lookup`` maps a dotted key to a schema Field (with ``lo``/``hi``); ``"auto"`` uses
    ``sim.config.params.field_for`` when the core is importable and the run function is ``sim.run``.
    """
    src = str(source) if source is not None else ""
    data = dict(data)
    unknown(data, _TOP_KEYS, "", src)
    run_function = data.get("run_function", "sim.run")
    if not isinstance(run_function, str) or "." not in run_function:
        raise SpecError(f"{where(src, 'run_function')} = {fmt(run_function)}: must be a dotted "
                        "path such as \"sim.run\"")
    check_scenario = field_lookup == "auto"
    if check_scenario:
        field_lookup = default_field_lookup() if run_function == "sim.run" else None
    lookup = field_lookup if callable(field_lookup) else None
    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise SpecError(f"{where(src, 'scenario')} = {fmt(scenario)}: required, a scenario "
                        "name (e.g. \"town\") or a path to a TOML file")
    days = int_min(data, "days", src, None, 1)
    reps = int_min(data, "replications", src, 1, 1)
    seed = int_min(data, "seed", src, 0, 0)
    outputs = data.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise SpecError(f"{where(src, 'outputs')} = {fmt(outputs)}: must be a list of KPI names")
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise SpecError(f"{where(src, 'fixed')} = {fmt(fixed)}: must be a table of overrides")
    design = _parse_design(data.get("design"), src, seed, lookup)
    clash = set(design.keys) & set(fixed)
    if clash:
        raise SpecError(f"{where(src, 'fixed')}: {sorted(clash)} also varied in [design]")
    ex = data.get("execution", {})
    if not isinstance(ex, dict):
        raise SpecError(f"{where(src, 'execution')}: must be a table")
    unknown(ex, _EXEC_KEYS, "execution.", src)
    fs = ex.get("flush_seconds", 30.0)
    if isinstance(fs, bool) or not isinstance(fs, int | float) or fs <= 0:
        raise SpecError(f"{where(src, 'execution.flush_seconds')} = {fmt(fs)}: must be > 0")
    execution = ExecutionSpec(
        chunk_size=int_min(ex, "chunk_size", src, 200, 1, "execution."),
        flush_seconds=float(fs),
        allowed_failures=int_min(ex, "allowed_failures", src, 5, 0, "execution."),
        max_in_flight=int_min(ex, "max_in_flight", src, 0, 0, "execution."),
    )
    analysis = data.get("analysis", {})
    if not isinstance(analysis, dict):
        raise SpecError(f"{where(src, 'analysis')}: must be a table")
    cluster = _parse_cluster(data["cluster"], src) if "cluster" in data else None
    name = data.get("name") or (Path(src).stem if src else "sweep")
    spec = SweepSpec(
        name=str(name), scenario=scenario, days=days, replications=reps, seed=seed,
        design=design, run_function=run_function, outputs=tuple(outputs), fixed=dict(fixed),
        description=str(data.get("description", "")), analysis=dict(analysis),
        execution=execution, cluster=cluster, raw=data,
        source=Path(src).resolve() if src else None,
    )
    if check_scenario and lookup is not None:
        _check_fixed(spec, src)
    check_limits(spec, src, outcomes=check_scenario and lookup is not None)
    return spec


def _check_fixed(spec: SweepSpec, src: str) -> None:
    """Let the core validate the scenario and the fixed overrides (ScenarioError -> SpecError)."""
    try:
        import sim
        load = sim.load_scenario
    except (ImportError, AttributeError):
        return
    try:
        load(spec.scenario_ref, dict(spec.fixed))
    except Exception as exc:
        raise SpecError(f"{where(src, 'scenario/fixed')}: {exc}") from None


def load_spec(path: str | Path, field_lookup: Callable[[str], Any] | None | str = "auto"
              ) -> SweepSpec:
    """Read and validate a sweep spec TOML file."""
    from sim.config.inputs import load_toml  # size, UTF-8, depth: one gate for every input

    p = Path(path)
    return parse_spec(load_toml(p, "spec", SpecError), p, field_lookup)
