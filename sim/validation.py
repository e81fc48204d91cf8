"""Analytic limits of the full model (queueing theory), checked by ``cityrisk validate``.

With Poisson emergence, instant reporting, a pure information delay ``D``, no misrouting and one
pool of ``c`` handlers with exponential service, the model is an M/M/c queue. ``mmc_limit`` builds
that scenario, runs the real :class:`~sim.model.CityModel` and compares it with Erlang C.
Standard errors use batch means over consecutive cases, because queue waits are autocorrelated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate

from .config.scenario import Scenario, defaults
from .io.sinks import MemorySink

N_BATCHES = 20


def erlang_c(servers: int, offered: float) -> float:
    """P(wait > 0) in M/M/c with offered load ``a = λ/μ`` (stable Erlang-B recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho * (1.0 - b))


def analytic(servers: int, arrival_rate: float, service_rate: float, escalation_rate: float = 0.0,
             latency_hours: float = 0.0) -> dict[str, float]:
    """Analytic values of the quantities ``mmc_limit`` measures."""
    a = arrival_rate / service_rate
    if a >= servers:
        raise ValueError(f"unstable queue: λ/μ = {a:g} must be < servers = {servers}")
    c_prob = erlang_c(servers, a)
    r = servers * service_rate - arrival_rate
    th, d = escalation_rate, latency_hours

    def p_at_least(k: int) -> float:
        # N | W ~ Poisson(θ (D + W)); W = 0 w.p. 1 − C, else Exp(r).
        def pmf_sum(w: float) -> float:
            lam = th * (d + w)
            return sum(math.exp(-lam) * lam**j / math.factorial(j) for j in range(k))
        tail = integrate.quad(lambda w: pmf_sum(w) * r * math.exp(-r * w), 0, math.inf)[0]
        return 1.0 - ((1 - c_prob) * pmf_sum(0.0) + c_prob * tail)

    return {
        "cases_per_hour": arrival_rate,
        "share_waited": c_prob,
        "mean_wait_hours": c_prob / r,
        "mean_hours_in_system": d + c_prob / r + 1.0 / service_rate,
        "share_escalated_before_service": p_at_least(1),
        "share_escalated_twice_before_service": p_at_least(2),
    }


def mmc_scenario(servers: int, arrival_rate: float, service_rate: float, escalation_rate: float,
                 latency_hours: float, days: int, residents: int = 1000) -> Scenario:
    """The one-pool scenario in which the model is an M/M/c queue."""
    d = defaults()
    d["meta"].update(name="mmc-limit", description="Analytic M/M/c limit of the model.")
    d["city"].update(residents=residents, residents_per_grid=residents)
    d["world"]["categories"] = {"generic": {
        "rate_per_1000_per_year": arrival_rate * 24 * 365 * 1000 / residents,
        "severity_probs": [1.0, 0.0, 0.0, 0.0], "pair_share": 0.0, "collective_share": 0.0,
        "service_multiplier": 1.0, "department": "department", "patrol_visible": 0.0,
        "proactive_only": 0.0}}
    d["world"].update(report_delay_hours=0.0, self_resolution_per_day=0.0, seasonality_amplitude=0.0,
                      overdispersion=0.0, escalation_hazard_per_hour=escalation_rate,
                      escalation_growth_per_day=0.0, escalation_tension_weight=0.0,
                      escalation_distrust_weight=0.0, escalation_neighbour_weight=0.0)
    h = d["handling"]
    h["entry_level_by_severity"] = [3, 3, 3, 3]
    h["mean_hours"][3] = 1.0 / service_rate
    h["hours_per_day"][3] = 24.0
    h["success"][3] = 1.0
    h.update(severity_service_factor=0.0, severity_success_penalty=0.0, integration_success_gain=0.0,
             handler_skill_spread=0.0, on_the_spot_share=0.0, hops_to_platform=1)
    d["levers"].update(department_staff=servers, latency_hours_per_hop=latency_hours, silo_penalty_hours=0.0,
                       responsibility_clarity=1.0, grid_workers_per_grid=0, video_coverage=0.0,
                       volunteer_participation=0.0, screening_per_week=0.0, budget_million_yuan=0.0)
    d["run"]["days"] = days
    return Scenario(d, "mmc-limit").with_overrides({})  # validates every value


def _batch_mean_se(x: np.ndarray, batches: int = N_BATCHES) -> tuple[float, float]:
    """Mean and its standard error from batch means of consecutive values."""
    if x.size < 2 * batches:
        return float(np.mean(x)) if x.size else float("nan"), float("nan")
    usable = x[: x.size - x.size % batches].reshape(batches, -1).mean(axis=1)
    return float(np.mean(x)), float(np.std(usable, ddof=1) / math.sqrt(batches))


def mmc_limit(servers: int, arrival_rate: float, service_rate: float, escalation_rate: float = 0.0,
              latency_hours: float = 0.0, hours: float = 50_000.0, seed: int = 0) -> dict[str, Any]:
    """Run the M/M/c limit through :class:`CityModel` and measure it (rates per hour).

    Cases that emerge in the first 10% of ``hours`` are a warm-up and are dropped; the model runs on
    past ``hours`` until every counted case has started service. Returns the simulated values, their
    standard errors (``<name>_se``) and the analytic values (``<name>_analytic``).
    """
    from .model import CityModel

    exact = analytic(servers, arrival_rate, service_rate, escalation_rate, latency_hours)
    r = servers * service_rate - arrival_rate
    tail_hours = latency_hours + 30.0 / r + 30.0 / service_rate
    days = int(math.ceil((hours + tail_hours) / 24.0))
    sink = MemorySink()
    model = CityModel(mmc_scenario(servers, arrival_rate, service_rate, escalation_rate, latency_hours, days),
                      rng=seed, case_sink=sink)
    model.run(days)
    rec = sink.table()
    tab = model.cases
    t_emerge = np.concatenate([rec["t_emerge"], tab["t_emerge"]])
    order = np.argsort(t_emerge, kind="stable")
    t_emerge = t_emerge[order]
    wait = np.concatenate([rec["first_wait"], tab["first_wait"]])[order]
    esc = np.concatenate([rec["esc_before_service"], tab["esc_before_service"]])[order]
    t_close = np.concatenate([rec["t_close"], tab["t_close"]])[order]
    keep = (t_emerge >= 0.1 * hours) & (t_emerge < hours)
    unserved = int(np.count_nonzero(keep & ~np.isfinite(wait)))
    wait, esc, t_emerge, t_close = wait[keep], esc[keep], t_emerge[keep], t_close[keep]
    served = np.isfinite(wait)
    closed = np.isfinite(t_close)
    measured = {
        "share_waited": (wait[served] > 0).astype(float),
        "mean_wait_hours": wait[served],
        "share_escalated_before_service": (esc[served] >= 1).astype(float),
        "share_escalated_twice_before_service": (esc[served] >= 2).astype(float),
        "mean_hours_in_system": (t_close - t_emerge)[closed],
    }
    out: dict[str, Any] = {"cases": int(keep.sum()), "unserved": unserved, "servers": servers,
                           "arrival_rate": arrival_rate, "service_rate": service_rate,
                           "escalation_rate": escalation_rate, "latency_hours": latency_hours,
                           "hours": hours, "seed": seed}
    n_hours = 0.9 * hours
    out["cases_per_hour"] = out["cases"] / n_hours
    out["cases_per_hour_se"] = math.sqrt(out["cases"]) / n_hours
    out["cases_per_hour_analytic"] = arrival_rate
    for name, x in measured.items():
        mean, se = _batch_mean_se(x)
        out[name], out[f"{name}_se"], out[f"{name}_analytic"] = mean, se, exact[name]
    return out


@dataclass(frozen=True)
class LimitCase:
    """One parameter set of the validation table."""

    servers: int
    arrival_rate: float
    service_rate: float
    escalation_rate: float
    latency_hours: float


DEFAULT_CASES = (
    LimitCase(1, 0.5, 1.0, 0.3, 0.0),  # one handler, utilisation 0.5
    LimitCase(1, 0.8, 1.0, 0.1, 4.0),  # one handler, busy, with 4 h information latency
    LimitCase(5, 3.5, 1.0, 0.2, 2.0),  # a small team, utilisation 0.7
    LimitCase(20, 19.0, 1.0, 0.5, 0.0),  # a large department, utilisation 0.95
)
QUANTITIES = ("cases_per_hour", "share_waited", "mean_wait_hours", "share_escalated_before_service",
              "share_escalated_twice_before_service", "mean_hours_in_system")


def validation_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten results into table rows: case, quantity, analytic, simulated, se, z."""
    rows = []
    for res in results:
        label = (f"c={res['servers']} λ={res['arrival_rate']:g} μ={res['service_rate']:g} "
                 f"θ={res['escalation_rate']:g} D={res['latency_hours']:g}h")
        for q in QUANTITIES:
            se = res[f"{q}_se"]
            z = (res[q] - res[f"{q}_analytic"]) / se if se and se > 0 else float("nan")
            rows.append({"case": label, "quantity": q, "analytic": res[f"{q}_analytic"],
                         "simulated": res[q], "se": se, "z": z})
    return rows
