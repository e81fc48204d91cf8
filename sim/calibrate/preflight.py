"""What ``cityrisk calibrate --check`` verifies beyond the spec's own fields.

A spec can be well formed and still fail at the first trial: the scenario file is missing,
the overrides do not fit it, or the simulator's module cannot be imported. :func:`check_runnable`
tries each of those without running a simulation, so ``--check`` says "ok" only for a spec that
would start. Note that importing the simulator runs its module's code: a spec names code, like a
Makefile (docs/security.md).
"""

from __future__ import annotations

from ..executors.base import resolve
from .spec import CORE_SIMULATORS, CalibrationSpec, SpecError


def check_runnable(spec: CalibrationSpec) -> None:
    """SpecError (one line, naming the field) if the spec's runs could not start."""
    try:
        resolve(spec.simulator)
    except ImportError as exc:
        raise SpecError(f"calibrate.simulator = {exc}") from None
    if spec.simulator not in CORE_SIMULATORS:  # other simulators read scenarios their own way
        return
    from sim.config.params import ScenarioError
    from sim.config.scenario import load_scenario

    checks = [("calibrate.scenario", spec.scenario, spec.overrides)]
    if spec.holdout is not None:
        checks.append(("holdout.scenario", spec.holdout.scenario or spec.scenario,
                       {**spec.overrides, **spec.holdout.overrides}))
    for where, scenario, overrides in checks:
        try:
            load_scenario(scenario, dict(overrides))
        except ScenarioError as exc:
            raise SpecError(f"{where} = {scenario!r}: {exc}") from None
