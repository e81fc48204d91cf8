"""Acting on warnings (预测预警 → 预防): pre-emptive mediation visits to flagged grids.

Each week, after the forecast, ``levers.warning_response_visits_per_week`` grids — the highest
scored, one visit each — get a visit by a people's mediator (``handling.warning_visit_hours``
of mediator time). A visit

* talks residents down: the tension of every resident of the grid is multiplied by
  ``1 − world.warning_visit_tension_relief`` (tension enters the escalation hazard, ODD 7.6);
* screens for latent grievances: each latent case in the grid is found with chance
  ``world.warning_visit_detection`` (a uniform from the ``warning_response`` stream), reported
  at the end of the day as a screening detection and triaged like any other (ODD 7.3).

A visit is not free: its hours are costed at a mediator's hourly cost (``costs.mediator`` over
365 × ``handling.hours_per_day[community]``) into ``staff_cost`` and booked as mediator hours
both worked and available (paid extra time, so utilisation counts it without exceeding 1).
"""

from __future__ import annotations

import numpy as np

from ..engine.accounting import Accounts
from ..engine.cases import CHANNELS, Stage
from ..engine.levels import Level
from ..engine.routing import Router
from ..engine.state import CityState
from ..engine.streams import Stream

SCREENING = CHANNELS.index("screening")


def visit_hour_yuan(s: CityState) -> float:
    """Cost of one mediator hour: a mediator's annual cost over the hours worked in a year."""
    return float(s.costs["mediator"]) / (365.0 * float(s.handling["hours_per_day"][Level.COMMUNITY]))


def visit(s: CityState, grids: np.ndarray, router: Router) -> int:
    """Visit ``grids`` at the end of today: relieve tension, find latent grievances (triaged).
    Returns the number of latent cases found."""
    if grids.size == 0:
        return 0
    now = s.clock.t1
    res = s.residents
    start = res.start
    idx = np.concatenate([np.arange(start[g], start[g + 1]) for g in grids])
    relief = float(s.world["warning_visit_tension_relief"])
    res.tension[idx] = res.tension_at(idx, now) * (1.0 - relief)
    res.tension_t[idx] = now
    tab = s.cases
    rows = np.flatnonzero((tab["stage"] == Stage.LATENT) & np.isin(tab["grid"], grids))
    u = s.streams.get(Stream.WARNING_RESPONSE, s.clock.day).random(rows.size)
    found = rows[u < float(s.world["warning_visit_detection"])]
    if found.size:
        tab["t_detect"][found] = now
        tab["channel"][found] = SCREENING
        tab["stage"][found] = Stage.REPORTING
        s.today["detected"] += int(found.size)
        router.triage(s, found)
    return int(found.size)


def book_visits(s: CityState, acc: Accounts, n_visits: int) -> tuple[float, float]:
    """Cost and mediator hours of ``n_visits`` visits today, (hours, yuan); booked into the
    accounts' cost and community-level staff time after the warm-up."""
    hours = n_visits * float(s.handling["warning_visit_hours"])
    yuan = hours * visit_hour_yuan(s)
    if s.clock.day >= acc.warmup_days:
        acc.cost_to_date += yuan
        acc.busy_hours[Level.COMMUNITY] += hours
        acc.capacity_hours[Level.COMMUNITY] += hours
    return hours, yuan
