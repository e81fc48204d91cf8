"""One browser session's simulation: its own model, lever values, and a lock.

Nothing here is shared between sessions: the page builds one :class:`AppSession` per browser
session (``solara.use_memo`` inside the page component), so two officials moving levers at the
same time never see each other's city. Every lever value goes through :meth:`AppSession.set_lever`,
which checks it against the parameter schema on the server, whatever the browser sent; a
scenario the browser asks for (URL or picker) must be a name from ``scenarios/`` (or the one the
operator started the app with), never a path (:func:`check_scenario_choice`). Errors reach the
page as one line (:func:`page_error`); the traceback goes to the server log only.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sim.config.params import LEVERS, Field, ScenarioError


def backend() -> SimpleNamespace:
    """The simulation core: ``CityModel``, ``load_scenario``, ``run``, ``scenario_names``.

    One indirection so tests can hand a session a stand-in core.
    """
    import sim

    return SimpleNamespace(CityModel=sim.CityModel, load_scenario=sim.load_scenario,
                           run=sim.run, scenario_names=sim.scenario_names)


MAX_ERROR_CHARS = 300  # a page message, not a dump


def page_error(exc: BaseException) -> str:
    """One line for the page; details go to the server log (stderr).

    ScenarioError messages are written for users (logged as one line); anything else is an
    internal error whose text may reveal server details, so the page shows only its type and
    the log gets the traceback.
    """
    if isinstance(exc, ScenarioError):
        text = " ".join(str(exc).split())
        print(f"cityrisk app: refused: {text}", file=sys.stderr, flush=True)
    else:
        traceback.print_exception(exc, file=sys.stderr)
        text = f"internal error ({type(exc).__name__}); details are in the server log"
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 1] + "…"


def allowed_scenarios(names: list[str]) -> list[str]:
    """Scenarios a browser may open: the shipped names plus the operator's ``--scenario``."""
    operator = os.environ.get("CITYRISK_APP_SCENARIO", "")
    return [*names, operator] if operator and operator not in names else list(names)


def check_scenario_choice(choice: str, names: list[str]) -> str:
    """``choice`` if a browser may open it, else ScenarioError (never reads the file)."""
    allowed = allowed_scenarios(names)
    if choice not in allowed:
        shown = choice if len(choice) <= 60 else choice[:59] + "…"
        raise ScenarioError(f"scenario {shown!r}: not a scenario name "
                            f"(names: {', '.join(names)})")
    return choice


def lever_field(key: str) -> Field:
    """Schema field of a lever (dotted key); ScenarioError for unknown keys."""
    if key not in LEVERS:
        raise ScenarioError(f"{key}: not a lever (levers: {', '.join(sorted(LEVERS))})")
    return LEVERS[key]


def check_lever(key: str, value: Any) -> int | float:
    """``value`` converted to the lever's type, or ScenarioError naming the allowed range."""
    f = lever_field(key)
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            raise ScenarioError(f"{key} = {value!r}: must be {f.allowed()}") from None
    if f.kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    return f.check(key, value)


@dataclass
class AppSession:
    """The model of one browser session and the lever values it runs with."""

    scenario_name: str
    seed: int = 0
    bk: SimpleNamespace = field(default_factory=backend)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.rendered = threading.Event()  # set when the page has shown the latest day
        self.last_step_seconds = 0.0
        self.compare: Any = None  # the last compare result, kept across tab switches
        self.policies: list[tuple[str, dict[str, Any]]] = []  # saved for a side-by-side compare
        self._load(self.scenario_name)

    # -- scenario and model ------------------------------------------------------------------
    def _load(self, name: str) -> None:
        self.scenario = self.bk.load_scenario(name)
        self.scenario_name = name
        self.defaults: dict[str, Any] = {k: self.scenario.get(k) for k in LEVERS}
        self.levers: dict[str, Any] = dict(self.defaults)
        self._new_model(self.scenario)

    def _new_model(self, scenario: Any) -> None:
        self.model = self.bk.CityModel(scenario, rng=self.seed)
        self.p90: list[float] = []  # p90 time to resolution after each day (not in timeseries())
        self.band_models: list[Any] = []  # other replications for the uncertainty bands

    def set_bands(self, n: int) -> None:
        """Keep ``n`` more replications (seeds ``seed+1 ..``, same levers) stepping alongside the
        page's model, caught up to its day; 0 drops them."""
        with self.lock:
            changed = self.changed_levers()
            scen = self.scenario.with_overrides(changed) if changed else self.scenario
            models = []
            for i in range(n):
                m = self.bk.CityModel(scen, rng=self.seed + 1 + i)
                for _ in range(self.day):
                    m.step()
                models.append(m)
            self.band_models = models

    def band_frames(self) -> list[pd.DataFrame]:
        """Daily timeseries of the band replications (empty when bands are off)."""
        with self.lock:
            return [m.timeseries() for m in self.band_models]

    def set_scenario(self, name: str) -> None:
        """Switch to another scenario: lever values become that scenario's own.

        ``name`` comes from the browser, so it must be one of :func:`allowed_scenarios`.
        """
        check_scenario_choice(name, list(self.bk.scenario_names()))
        with self.lock:
            self._load(name)

    def reset(self) -> None:
        """Restart the current scenario at day 0 with the current lever values."""
        with self.lock:
            changed = self.changed_levers()
            bands = len(self.band_models)
            self._new_model(self.scenario.with_overrides(changed) if changed else self.scenario)
            if bands:
                self.set_bands(bands)

    def restore_defaults(self) -> None:
        """Put every lever back to the scenario's own value (applies from the next step)."""
        with self.lock:
            for key, value in self.defaults.items():
                self._apply(key, value)

    # -- levers --------------------------------------------------------------------------------
    def set_lever(self, key: str, value: Any) -> int | float:
        """Validate ``value`` on the server and write it to the running model.

        Raises ScenarioError (message names key, value and allowed range) and leaves the
        lever unchanged when the value is out of bounds or not a number.
        """
        checked = check_lever(key, value)
        with self.lock:
            self._apply(key, checked)
        return checked

    def _apply(self, key: str, value: Any) -> None:
        for m in [self.model, *getattr(self, "band_models", [])]:
            setattr(m.levers, key.split(".", 1)[1], value)
        self.levers[key] = value

    def budget_cuts(self) -> dict[str, tuple[int, int]]:
        """Staffing levers the budget cap cuts: lever key -> (lever value, staff actually hired
        per pool); empty when the cap does not bind (the model cuts staff silently)."""
        from sim.engine.levels import LEVEL_TABLE

        with self.lock:
            try:
                got = self.model.staffing.desired()
            except AttributeError:  # a stand-in core without staffing
                return {}
            out: dict[str, tuple[int, int]] = {}
            for spec in LEVEL_TABLE:
                want = int(getattr(self.model.levers, spec.lever))
                if got.get(spec.level, want) < want:
                    out[f"levers.{spec.lever}"] = (want, int(got[spec.level]))
        return out

    def changed_levers(self) -> dict[str, Any]:
        """Levers whose value differs from the scenario's own (dotted key -> value)."""
        return {k: v for k, v in self.levers.items() if v != self.defaults[k]}

    # -- running -------------------------------------------------------------------------------
    def step(self, days: int = 1) -> float:
        """Advance ``days`` simulated days; returns the wall time in seconds."""
        t0 = time.perf_counter()
        with self.lock:
            for _ in range(days):
                self.model.step()
                for m in self.band_models:
                    m.step()
                self.p90.append(float(self.model.kpis().get("p90_hours_to_resolution", np.nan)))
        self.last_step_seconds = time.perf_counter() - t0
        return self.last_step_seconds

    def frame(self) -> pd.DataFrame:
        """The model's daily timeseries plus what the charts need on top: p90 time to resolution
        and the staff cost rate in million yuan per year (from the cumulative cost)."""
        with self.lock:
            df = self.model.timeseries().copy()
            p90 = list(self.p90)
        if len(df) and len(p90) == len(df):
            df["p90_hours_to_resolution"] = p90
        if "staff_cost" in df.columns and len(df):
            cum = df["staff_cost"].to_numpy(dtype=float)
            df["cost_rate"] = np.diff(cum, prepend=0.0) * 365.0
        return df

    @property
    def description(self) -> str:
        """The scenario file's description."""
        try:
            return str(self.scenario.get("meta.description"))
        except Exception:
            return ""

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return int(self.model.day)

    @property
    def residents(self) -> int:
        """Residents of the scenario's city."""
        return int(self.scenario.get("city.residents"))
