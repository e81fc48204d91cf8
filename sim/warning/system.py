"""The early-warning system (预测预警): a weekly forecast of where risks will escalate, scored
against the simulated truth, and (optionally) acted on.

Stage ``warning`` runs every day after ``escalation`` (while today's closed cases are still in
the table). Daily it tallies what the city saw (:mod:`.observe`) and, apart, the truth
(:mod:`.target`). At the end of every 7th day it

1. closes the week, surveys trust and builds the per-grid feature matrix (observables only);
2. scores every grid with each forecaster: ``smoothed`` (the transparent baseline: the
   exponentially smoothed weekly count of reports plus serious reports), ``naive`` (last weeks'
   hotspots stay hot: target events in the grid over the last 4 weeks — the realised truth,
   the most favourable reading of the naive forecast) and ``learned`` when a trained model is
   attached (:mod:`.learn`);
3. sends ``levers.warning_response_visits_per_week`` pre-emptive visits to the grids ranked
   highest by the ``acting`` forecaster (:mod:`.response`).

An issue at the end of week ``w`` is labelled 1 for a grid with any target event in weeks
``w+1 .. w+H`` (``handling.warning_horizon_weeks``). Issues made after the warm-up whose horizon
has passed are scored in :meth:`EarlyWarning.kpis`. Acting on warnings changes the truth it is
scored against (a visited grid escalates less), so AUCs are measured with the lever at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..engine.accounting import Accounts
from ..engine.escalation import Escalation
from ..engine.routing import Router
from ..engine.state import CityState
from ..engine.streams import Stream
from .capacity import capacity_index
from .observe import (
    FEATURES,
    ObservedHistory,
    backlog_snapshot,
    features,
    observable_cases,
    survey,
)
from .response import book_visits, visit
from .scoring import at_budget, auc, ranks
from .target import add_target_events

METHODS = ("smoothed", "naive", "learned")
NAIVE_WEEKS = 4


class Forecaster(Protocol):
    """A trained forecaster: a risk score per row of the feature matrix (higher = riskier)."""

    def score(self, x: np.ndarray) -> np.ndarray: ...


@dataclass
class Issue:
    """One weekly forecast: the day it was issued, the index of the week just closed, the scores
    of each method and (for training) the features."""

    day: int
    week: int
    scores: dict[str, np.ndarray]
    x: np.ndarray | None


class EarlyWarning:
    """Stage ``warning`` (see the module docstring). ``learned`` is a trained forecaster or None;
    ``acting`` names the forecast that directs the visits (a method, or ``"random"`` for
    visits to grids drawn at random, a control); ``keep_features`` keeps each week's
    feature matrix (for training)."""

    def __init__(self, s: CityState, escalation: Escalation, router: Router, accounts: Accounts) -> None:
        n = s.layout.n_grids
        self.escalation, self.router, self.accounts = escalation, router, accounts
        self.hist = ObservedHistory(n)
        self.esc_seen = escalation.escalations_by_grid.copy()
        self._next_id = 0  # the case table's next id when this stage last ran (see __call__)
        self.events_week = np.zeros(n)
        self.events: list[np.ndarray] = []  # realised target events per closed week
        self.issues: list[Issue] = []
        self.learned: Forecaster | None = None
        self.acting = "smoothed"
        self.target = "escalation_or_collective"
        self.keep_features = False
        self._latest = np.zeros(n)  # see ``latest``: ranked when read (the map layer), not weekly
        self._latest_of: np.ndarray | None = None  # the acting forecast not yet ranked
        self.visits = 0
        self.visit_cost = 0.0
        self.found = 0

    def __call__(self, s: CityState) -> None:
        t0, t1, tab = s.clock.t0, s.clock.t1, s.cases
        self.hist.add_reports_of(tab, t0, t1)  # add_day(daily_tally(observable_cases(...))), compiled
        esc = self.escalation.escalations_by_grid
        # the cases that emerged today were appended since this stage last ran (ids are given in
        # row order and a compaction keeps it): only those rows are looked at, not the backlog
        first = int(np.searchsorted(tab["case_id"], self._next_id))
        # events_week += target_events(..., esc - esc_seen, ...); esc_seen = esc (in place)
        add_target_events(self.events_week, tab, esc, self.esc_seen, t0, t1, self.target, first)
        self._next_id = tab.next_id
        if (s.clock.day + 1) % 7 == 0:
            self._week(s)

    def _week(self, s: CityState) -> None:
        n = s.layout.n_grids
        self.hist.close_week()
        self.events.append(self.events_week)
        self.events_week = np.zeros(n)
        x = self._features(s) if self.learned is not None or self.keep_features else None
        # the smoothed forecast is the feature column ``smoothed``: the history's own array
        scores = {"smoothed": np.asarray(self.hist.smoothed, dtype=np.float64),
                  "naive": np.sum(self.events[-NAIVE_WEEKS:], axis=0)}
        if self.learned is not None:
            assert x is not None  # built above whenever a learned forecaster is set
            scores["learned"] = np.asarray(self.learned.score(x), dtype=np.float64)
        self.issues.append(Issue(s.clock.day, len(self.events) - 1,
                                 {k: v.astype(np.float32) for k, v in scores.items()},
                                 x if self.keep_features else None))
        if self.acting == "random":  # a control: visits to grids drawn at random (own qualifier)
            act = s.streams.get(Stream.WARNING_RESPONSE, s.clock.day, 1).random(n)
        else:
            act = scores.get(self.acting, scores["smoothed"])
        self._latest_of = act.copy()  # ranked only when the map reads it
        k = min(int(s.levers.warning_response_visits_per_week), n)
        if k:
            grids = np.sort(np.argsort(-act, kind="stable")[:k])
            self.found += visit(s, grids, self.router)
            yuan = book_visits(s, self.accounts, k)[1]
            if s.clock.day >= self.accounts.warmup_days:  # as the accounts count them
                self.visits += k
                self.visit_cost += yuan

    def _features(self, s: CityState) -> np.ndarray:
        """This week's feature matrix (observables, backlog, trust survey). Built only for a
        learned forecaster or ``keep_features``: the survey draws from its own stream of the
        day, so skipping it leaves every other draw as it was."""
        n = s.layout.n_grids
        snap = backlog_snapshot(observable_cases(s.cases), s.clock.t1, n)
        trust = survey(s.residents, int(s.handling["warning_survey_per_grid"]),
                       s.streams.get(Stream.WARNING_SURVEY, s.clock.day))
        return features(self.hist, snap, trust, s.layout)

    @property
    def latest(self) -> np.ndarray:
        """The last acting forecast's percentile rank per grid (share of other grids scored
        lower; zeros before the first forecast): the map layer, ranked when first read."""
        if self._latest_of is not None:
            act, self._latest_of = self._latest_of, None
            self._latest = (ranks(act, method="min") - 1) / max(act.size - 1, 1)
        return self._latest

    # ----------------------------------------------------------------- scoring
    def scored(self, s: CityState) -> tuple[list[Issue], np.ndarray]:
        """Issues after the warm-up whose horizon has passed, and their labels (issues × grids)."""
        h = int(s.handling["warning_horizon_weeks"])
        done = [i for i in self.issues if i.day >= self.accounts.warmup_days and i.week + h < len(self.events)]
        labels = np.array([np.sum(self.events[i.week + 1: i.week + 1 + h], axis=0) > 0 for i in done])
        return done, labels.reshape(len(done), s.layout.n_grids)

    def scores_of(self, issues: list[Issue], method: str) -> np.ndarray:
        """The scores of ``method`` over ``issues`` (issues × grids)."""
        return np.array([i.scores[method] for i in issues if method in i.scores], dtype=np.float64)

    def dataset(self, s: CityState) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of every scored issue (needs ``keep_features``), rows grid-weeks."""
        done, labels = self.scored(s)
        xs = [i.x for i in done if i.x is not None]
        if len(xs) != len(done):
            raise RuntimeError("features were not kept: set keep_features before running")
        x = np.concatenate(xs) if xs else np.zeros((0, len(FEATURES)))
        return x, labels.reshape(-1).astype(int)

    def kpis(self, s: CityState) -> dict[str, Any]:
        """The early-warning outcomes (NaN before any issue is scored)."""
        done, labels = self.scored(s)
        main = "learned" if self.learned is not None else "smoothed"
        nan = float("nan")
        out: dict[str, Any] = {"warning_auc": nan, "naive_warning_auc": nan,
                               "warning_precision_at_budget": nan, "warning_recall_at_budget": nan}
        if done:
            share = float(s.handling["warning_budget_share"])
            sc = self.scores_of(done, main)
            out["warning_auc"] = auc(sc, labels)
            out["naive_warning_auc"] = auc(self.scores_of(done, "naive"), labels)
            out["warning_precision_at_budget"], out["warning_recall_at_budget"] = at_budget(sc, labels, share)
        out["warning_visits"] = self.visits
        out["warning_visit_cost"] = self.visit_cost
        out["capacity_index"] = capacity_index(s.levers, s.handling, s.layout.n_grids,
                                               s.layout.n_residents, out["warning_auc"])
        return out
