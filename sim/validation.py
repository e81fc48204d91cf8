"""Analytic limits of the full model (queueing theory), checked by ``cityrisk validate``.

With Poisson emergence, instant reporting, a pure information delay ``D``, no misrouting, no
lapse, no review and one pool of ``c`` handlers with exponential service, the model is an M/M/c
queue. ``mmc_limit`` builds that scenario, runs the real :class:`~sim.model.CityModel` and
compares it with Erlang C. ``priority_limit`` does the same with severity classes served by
non-preemptive priority and compares each class's mean wait with Cobham's formula
``W_k = C / (cμ (1 − σ_{k−1})(1 − σ_k))``, σ_k the load of class k and the classes above it.
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
                 latency_hours: float, days: int, residents: int = 1000,
                 severity_probs: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0), discipline: str = "fcfs") -> Scenario:
    """The one-pool scenario in which the model is an M/M/c queue (with ``discipline`` =
    "priority": M/M/c with non-preemptive priority by severity)."""
    d = defaults()
    d["meta"].update(name="mmc-limit", description="Analytic M/M/c limit of the model.")
    d["city"].update(residents=residents, residents_per_grid=residents)
    d["world"]["categories"] = {"generic": {
        "rate_per_1000_per_year": arrival_rate * 24 * 365 * 1000 / residents,
        "severity_probs": list(severity_probs), "pair_share": 0.0, "collective_share": 0.0,
        "service_multiplier": 1.0, "department": "department", "patrol_visible": 0.0,
        "proactive_only": 0.0, "entry_level_by_severity": [], "escalation_multiplier": 1.0, "preventable": 1.0}}
    d["world"].update(report_delay_hours=0.0, self_resolution_per_day=0.0, seasonality_amplitude=0.0,
                      overdispersion=0.0, escalation_hazard_per_hour=escalation_rate,
                      escalation_growth_per_day=0.0, escalation_tension_weight=0.0,
                      escalation_distrust_weight=0.0, escalation_neighbour_weight=0.0,
                      lapse_per_day=0.0, recurrence_share=0.0,
                      # Poisson arrivals at exactly λ: no neighbourhood factors, contagion or
                      # collective action (docs/ODD.md §7.15–7.17)
                      neighbourhood_report_spread=0.0, neighbourhood_need_spread=0.0,
                      repeat_disputant_dispersion=0.0, contagion_magnitude=0.0,
                      contagion_escalation_magnitude=0.0, collective_action=False)
    h = d["handling"]
    h["entry_level_by_severity"] = [3, 3, 3, 3]
    h["mean_hours"][3] = 1.0 / service_rate
    h["hours_per_day"][3] = 24.0
    h["success"][3] = 1.0
    h.update(severity_service_factor=0.0, severity_success_penalty=0.0, integration_success_gain=0.0,
             handler_skill_spread=0.0, on_the_spot_share=0.0, hops_to_platform=1,
             review_after_hours=100_000.0, queue_discipline=discipline)
    d["levers"].update(department_staff=servers, latency_hours_per_hop=latency_hours, silo_penalty_hours=0.0,
                       responsibility_clarity=1.0, grid_workers_per_grid=0, video_coverage=0.0,
                       volunteer_participation=0.0, screening_per_week=0.0, budget_million_yuan=0.0,
                       linkage=0.0)
    d["run"]["days"] = days
    return Scenario(d, "mmc-limit").with_overrides({})  # validates every value


def _run_limit(scenario: Scenario, seed: int, hours: float) -> dict[str, np.ndarray]:
    """Run ``scenario``; columns of every case (closed or open) that emerged in the measured
    window (after the first 10% of ``hours``, before ``hours``), in order of emergence."""
    from .model import CityModel

    sink = MemorySink()
    model = CityModel(scenario, rng=seed, case_sink=sink)
    model.run(scenario.data["run"]["days"])
    rec, tab = sink.table(), model.cases
    names = ("t_emerge", "first_wait", "esc_before_service", "t_close", "severity0")
    cols = {k: np.concatenate([rec[k], tab[k]]) for k in names}
    order = np.argsort(cols["t_emerge"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    keep = (cols["t_emerge"] >= 0.1 * hours) & (cols["t_emerge"] < hours)
    return {k: v[keep] for k, v in cols.items()}


def cobham_waits(servers: int, class_rates: list[float], service_rate: float) -> list[float]:
    """Mean wait of each class in M/M/c with non-preemptive priority (classes listed from the
    most urgent down), all with service rate μ: ``W_k = C / (cμ (1 − σ_{k−1})(1 − σ_k))``."""
    lam = sum(class_rates)
    c_prob = erlang_c(servers, lam / service_rate)
    cap = servers * service_rate
    out, above = [], 0.0
    for rate in class_rates:
        below = above + rate / cap
        out.append(c_prob / (cap * (1.0 - above) * (1.0 - below)))
        above = below
    return out


def priority_limit(servers: int, arrival_rate: float, service_rate: float, severity_probs: tuple[float, ...],
                   hours: float = 50_000.0, seed: int = 0) -> dict[str, Any]:
    """Run M/M/c with non-preemptive priority by severity (higher first) through the model;
    mean wait per severity class against Cobham's formula."""
    r = servers * service_rate - arrival_rate
    days = int(math.ceil((hours + 60.0 / r + 30.0 / service_rate) / 24.0))
    scn = mmc_scenario(servers, arrival_rate, service_rate, 0.0, 0.0, days, severity_probs=severity_probs,
                       discipline="priority")
    cols = _run_limit(scn, seed, hours)
    classes = [k for k in (3, 2, 1, 0) if severity_probs[k] > 0]  # most urgent first
    exact = cobham_waits(servers, [arrival_rate * severity_probs[k] for k in classes], service_rate)
    out: dict[str, Any] = {"servers": servers, "arrival_rate": arrival_rate, "service_rate": service_rate,
                           "severity_probs": list(severity_probs), "hours": hours, "seed": seed,
                           "unserved": int(np.count_nonzero(~np.isfinite(cols["first_wait"])))}
    for k, w in zip(classes, exact, strict=True):
        x = cols["first_wait"][(cols["severity0"] == k) & np.isfinite(cols["first_wait"])]
        name = f"mean_wait_hours_severity_{k}"
        out[name], out[f"{name}_se"] = _batch_mean_se(x)
        out[f"{name}_analytic"] = w
    return out


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
    exact = analytic(servers, arrival_rate, service_rate, escalation_rate, latency_hours)
    r = servers * service_rate - arrival_rate
    tail_hours = latency_hours + 30.0 / r + 30.0 / service_rate
    days = int(math.ceil((hours + tail_hours) / 24.0))
    cols = _run_limit(mmc_scenario(servers, arrival_rate, service_rate, escalation_rate, latency_hours, days),
                      seed, hours)
    unserved = int(np.count_nonzero(~np.isfinite(cols["first_wait"])))
    wait, esc = cols["first_wait"], cols["esc_before_service"]
    t_emerge, t_close = cols["t_emerge"], cols["t_close"]
    served = np.isfinite(wait)
    closed = np.isfinite(t_close)
    measured = {
        "share_waited": (wait[served] > 0).astype(float),
        "mean_wait_hours": wait[served],
        "share_escalated_before_service": (esc[served] >= 1).astype(float),
        "share_escalated_twice_before_service": (esc[served] >= 2).astype(float),
        "mean_hours_in_system": (t_close - t_emerge)[closed],
    }
    out: dict[str, Any] = {"cases": int(t_emerge.size), "unserved": unserved, "servers": servers,
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


@dataclass(frozen=True)
class PriorityCase:
    """One parameter set of the priority-queue check."""

    servers: int
    arrival_rate: float
    service_rate: float
    severity_probs: tuple[float, ...]


PRIORITY_CASES = (PriorityCase(2, 1.6, 1.0, (0.5, 0.3, 0.2, 0.0)),)  # two handlers, utilisation 0.8


def validation_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten results into table rows: case, quantity, analytic, simulated, se, z."""
    rows = []
    for res in results:
        if "severity_probs" in res:  # a priority case
            label = (f"c={res['servers']} λ={res['arrival_rate']:g} μ={res['service_rate']:g} priority "
                     f"p={'/'.join(f'{p:g}' for p in res['severity_probs'][:3])}")
            quantities = [k[: -len("_analytic")] for k in res if k.endswith("_analytic")]
        else:
            label = (f"c={res['servers']} λ={res['arrival_rate']:g} μ={res['service_rate']:g} "
                     f"θ={res['escalation_rate']:g} D={res['latency_hours']:g}h")
            quantities = list(QUANTITIES)
        for q in quantities:
            se = res[f"{q}_se"]
            z = (res[q] - res[f"{q}_analytic"]) / se if se and se > 0 else float("nan")
            rows.append({"case": label, "quantity": q, "analytic": res[f"{q}_analytic"],
                         "simulated": res[q], "se": se, "z": z})
    return rows
