"""The parameter schema: every key a scenario may set, its type, allowed range and default.

One place for each parameter. Three kinds are kept apart, as in exploratory modelling (XLRM):

* ``levers``   — policy choices a city can make; plain model attributes, changeable mid-run;
* ``world``    — uncertainties about the world (rates, hazards, sensitivities); swept and calibrated;
* ``city`` / ``handling`` / ``costs`` — structure and institutional constants of the city.

``categories`` (the case types) and ``shocks`` are tables validated by their own row schemas.
"""

from __future__ import annotations

from typing import Any

from ..engine.levels import N_LEVELS
from .fields import FL, D, F, Field, I, S, ScenarioError  # noqa: F401 - re-exported

SCHEMA: dict[str, Any] = {
    "meta": {
        "name": S("unnamed", "Scenario name."),
        "description": S("", "What the scenario shows."),
        "extends": S("", "Name of a scenario whose values this one starts from ('' = defaults)."),
    },
    "city": {
        "residents": I(1_000_000, 1_000, 30_000_000, "Residents of the city."),
        "residents_per_grid": I(1_000, 50, 20_000, "Residents per governance grid (网格)."),
        "grids_per_community": I(4, 1, 100, "Grids per community."),
        "communities_per_street": I(5, 1, 100, "Communities per street/town (镇街)."),
        "streets_per_district": I(10, 1, 200, "Streets per district/county (区县)."),
        "geometry": S("", "GeoJSON of the districts ('' = synthetic map; relative to the scenario file)."),
        "districts": S("", "CSV of residents per district (name, residents[, name_en, streets])."),
        "resident_draws": S("gamma_ratio", "How residents' initial trust and reporting propensity are drawn "
                            "from their Beta distributions: numpy's ratio of gammas, or inversion (one "
                            "uniform per resident through the tabulated quantile: 7–10 times faster, and "
                            "a changed mean keeps every resident's rank).", ("gamma_ratio", "inversion")),
    },
    "levers": {
        "grid_workers_per_grid": I(5, 0, 20, "Grid workers (网格员) per grid: patrol, detect, fix on the spot."),
        "mediators_per_street": I(6, 0, 500, "People's mediators (人民调解员) per street."),
        "centre_staff_per_street": I(4, 0, 200, "Handlers at each street governance centre (综治中心)."),
        "department_staff": I(6, 0, 20000, "Handlers per district functional department (职能部门)."),
        "city_staff": I(10, 0, 5000, "Handlers per city-level department."),
        "legal_capacity": I(40, 0, 5000, "Court staff handling dispute cases (法治化 legal channel)."),
        "resource_integration": F(0.3, 0, 1, "多网合一 / shared data: 1 = one all-purpose grid and platform."),
        "latency_hours_per_hop": F(12, 0, 720, "Information latency per reporting hop, hours."),
        "silo_penalty_hours": F(24, 0, 720, "Extra delay across platform barriers (平台壁垒), hours, at zero integration."),
        "mediator_training": F(0.3, 0, 1, "Mediator professionalisation: 1 = fully trained (raises success)."),
        "screening_per_week": F(1, 0, 14, "Proactive dispute screening visits per grid per week (排查)."),
        "video_coverage": F(0.3, 0, 1, "Share of grids under video surveillance (雪亮工程)."),
        "volunteer_participation": F(0.2, 0, 1, "Volunteer patrol participation (群防群治)."),
        "responsibility_clarity": F(0.7, 0, 1, "Clear department responsibility (责任对口); low = misrouting."),
        "information_disclosure": F(0.5, 0, 1, "Openness about cases and outcomes: amplifies good news "
                                    "(trust) and damps the escalation pull of open cases nearby (rumour)."),
        "linkage": F(0.5, 0, 1, "三级联动: share of a district's imbalance of street-level backlogs that the "
                     "district moves between streets each day."),
        "prevention_million_yuan": F(0, 0, 1e5, "源头治理: annual spending on prevention at the source, million "
                                     "yuan; lowers the emergence of preventable categories."),
        "budget_million_yuan": F(0, 0, 1e6, "Annual staff budget cap, million yuan (0 = no cap)."),
        "warning_response_visits_per_week": I(0, 0, 100_000, "预测预警: pre-emptive mediation visits per week "
                                              "to the grids the early-warning forecaster flags (0 = warnings "
                                              "are not acted on); each visit costs mediator time."),
    },
    "world": {
        "emergence_multiplier": F(1, 0, 100, "Scales every category's emergence rate."),
        "seasonality_amplitude": F(0.15, 0, 1, "Amplitude of the annual cycle in emergence."),
        "seasonality_peak_day": I(30, 0, 365, "Day of year when emergence peaks (Spring Festival ~ day 30)."),
        "start_day_of_year": I(0, 0, 365, "Calendar day of year at simulation day 0."),
        "weekday_multipliers": FL([1, 1, 1, 1, 1, 1, 1], 0, 10, "Emergence by weekday, Monday first.", 7),
        "overdispersion": F(0, 0, 50, "Variance of a weekly gamma multiplier on emergence (0 = Poisson)."),
        "overdispersion_common": F(0, 0, 50, "Variance of a weekly gamma multiplier shared by every "
                                   "category (city-wide swings; 0 = none)."),
        "trend_per_year": F(0, -5, 5, "Growth rate of emergence per year: × exp(rate × day / 365)."),
        "escalation_hazard_per_hour": F(0.0006, 0, 1, "Base hazard of one severity step while unhandled, per hour."),
        "escalation_growth_per_day": F(0.05, 0, 10, "Hazard grows by this fraction per day already waited."),
        "escalation_max_multiplier": F(4, 1, 100, "Cap on the waiting factor (1 + growth × days) of the hazard."),
        "escalation_bounce_weight": F(0.3, 0, 10, "Hazard multiplier per bounce between departments (推诿)."),
        "escalation_disclosure_damping": F(0.5, 0, 1, "Share of the neighbour term removed at full disclosure."),
        "lapse_per_day": F(0.01, 0, 1, "Rate at which the parties of a detected, waiting minor case give up, per day."),
        "lapse_severity_factor": F(0.5, 0, 1, "Lapse and fading rates are multiplied by this per severity level."),
        "recurrence_share": F(0.3, 0, 1, "Share of unresolved exits (lapsed, decided against) that come back."),
        "recurrence_days": F(60, 1, 3650, "Mean days before an unresolved grievance comes back as a new case."),
        "prevention_max_reduction": F(0.3, 0, 1, "Largest share of a preventable category's emergence that "
                                      "prevention can remove."),
        "prevention_yuan_per_resident": F(100, 0.01, 1e5, "Prevention spending per resident-year that achieves "
                                          "63% of the largest reduction (1 − e⁻¹)."),
        "escalation_tension_weight": F(1.0, 0, 10, "Hazard multiplier per unit of resident tension."),
        "escalation_distrust_weight": F(1.0, 0, 10, "Hazard multiplier per unit of distrust (1 - trust)."),
        "escalation_neighbour_weight": F(0.5, 0, 10, "Hazard multiplier per open case per 1,000 neighbours."),
        "trust_initial": F(0.6, 0, 1, "Mean initial trust in government."),
        "trust_sensitivity": F(0.1, 0, 1, "How far one experience moves a resident's trust."),
        "trust_neighbour_weight": F(0.02, 0, 1, "How far a neighbour's experience moves a grid's trust."),
        "trust_fair_hours": F(72, 1, 10000, "Resolution within this many hours counts as fast."),
        "tension_relaxation_days": F(30, 1, 3650, "Time scale on which a resident's tension fades."),
        "tension_per_case": F(0.3, 0, 1, "Tension added to residents involved in a new case."),
        "self_resolution_per_day": F(0.02, 0, 1, "Rate at which undetected disputes fade on their own."),
        "report_delay_hours": F(48, 0, 10000, "Mean delay of a resident report at full trust (0 = instant)."),
        "report_propensity": F(0.6, 0, 1, "Mean propensity of residents to report (12345 / 热线)."),
        "patrol_detection_per_visit": F(0.15, 0, 1, "Chance one patrol visit finds a given open case."),
        "patrol_visits_per_worker_day": F(1.0, 0, 20, "Patrol visits a grid worker makes per day."),
        "video_detection_per_day": F(0.5, 0, 50, "Detection rate by video in a covered grid, per day."),
        "volunteer_detection_per_day": F(0.3, 0, 50, "Detection rate by volunteers at full participation."),
        "screening_detection": F(0.3, 0, 1, "Chance one screening visit finds a given open dispute."),
        "warning_visit_tension_relief": F(0.5, 0, 1, "Share of residents' tension a pre-emptive warning visit "
                                          "removes in the visited grid (assumed, not fitted)."),
        "warning_visit_detection": F(0.3, 0, 1, "Chance a pre-emptive warning visit finds a given latent "
                                     "grievance in the grid (assumed: as world.screening_detection)."),
        # heterogeneity, contagion and collective action (issue 11; docs/ODD.md §7.15–7.17)
        "neighbourhood_report_spread": F(0.4, 0, 3, "SD of the log reporting factor across communities: "
                                         "deprived communities report less (311 studies, §7.15)."),
        "neighbourhood_need_spread": F(0.2, 0, 3, "SD of the log emergence factor across communities, on the "
                                       "same deprivation index: deprived communities have more grievances."),
        "repeat_disputant_dispersion": F(15, 0, 1000, "Variance of the residents' gamma dispute propensity "
                                         "(mean 1; 0 = all alike): a few residents file most cases."),
        "contagion_magnitude": F(0.5, 0, 0.99, "Expected grievances one new case triggers nearby (Hawkes "
                                 "branching ratio of new cases; 0 = off)."),
        "contagion_escalation_magnitude": F(0.03, 0, 0.33, "Expected grievances one severity step of an "
                                            "unresolved case triggers nearby."),
        "contagion_decay_days": F(3, 0.1, 365, "Time scale, days, of the kernel: a triggered grievance arrives after about this + ½ day."),
        "contagion_reach": F(0.25, 0, 1, "Weight of each of the 8 neighbouring grids in the spatial kernel "
                             "(own grid 1; 0 = own grid only)."),
        "collective_action": Field("bool", True, "Collective incidents emerge from threshold cascades among "
                                   "aggrieved neighbours (false = a share drawn at emergence, as before)."),
        "collective_threshold_mean": F(14, 0, 10000, "Mean Granovetter threshold: others already acting "
                                       "before a resident joins."),
        "collective_threshold_sd": F(6, 0.01, 10000, "SD of the Granovetter thresholds (normal)."),
        "collective_min_participants": I(10, 2, 100000, "Participants from which a cascade is a collective "
                                         "incident."),
    },
    "handling": {
        "mean_hours": FL([1.5, 8, 12, 24, 40, 150], 0.001, 100000,
                         "Mean work-hours per case at each level (grid..court).", N_LEVELS),
        "hours_per_day": FL([8, 3, 8, 8, 8, 8], 0.1, 24,
                            "Working hours per handler per day at each level.", N_LEVELS),
        "success": FL([0.75, 0.96, 0.85, 0.85, 0.9, 1.0], 0, 1,
                      "Base chance a handling attempt resolves the case, per level (community 0.96: with "
                      "training and difficulty, people's-mediation success ≈ 97%, the reported 97.2% "
                      "in 2009 and 97.9% in 2018; calibration/data/dispute_facts.md).", N_LEVELS),
        "handler_skill_spread": F(0.2, 0, 1, "Spread (CV) of handler speed across staff."),
        "difficulty_weight": F(1.0, 0, 5, "Logit of success lost per standard deviation of a case's latent "
                               "difficulty (the same at every level: a case that failed below is harder above)."),
        "queue_discipline": S("fcfs", "Order of service within a pool: first come first served, or by "
                              "severity (non-preemptive priority, then arrival).", ("fcfs", "priority")),
        "review_after_hours": F(168, 1, 100000, "A case waiting this long at a level (staffed or not) is "
                                "referred up at the platform's daily review."),
        "entry_level_by_severity": FL([1, 2, 3, 4], 0, 5,
                                      "Level where a reported case of severity 0..3 enters (categories "
                                      "may set their own route).", 4),
        "on_the_spot_share": F(0.6, 0, 1, "Share of minor cases found on patrol that are fixed on the spot."),
        "training_success_gain": F(0.08, 0, 1, "Mediation success gained at full training."),
        "integration_success_gain": F(0.05, 0, 1, "Department success gained at full integration."),
        "severity_service_factor": F(0.5, 0, 10, "Extra work per severity level (fraction of mean)."),
        "severity_success_penalty": F(0.05, 0, 1, "Success lost per severity level."),
        "misroute_base": F(0.4, 0, 1, "Chance of misrouting at zero clarity and zero integration."),
        "bounce_hours": F(48, 0, 2000, "Delay of one bounce between departments, hours."),
        "court_share_on_failure": F(0.3, 0, 1, "Share of failures at district level that go to court."),
        "district_staff_reference_residents": I(0, 0, 30_000_000, "0 = every district department and "
                                                "court gets the lever's staff; R > 0 = lever x the "
                                                "district's residents / R (staff in proportion to residents)."),
        "city_staff_reference_residents": I(0, 0, 30_000_000, "0 = every city department gets the lever's "
                                            "staff; R > 0 = lever x the city's residents / R."),
        "court_share_on_street_failure": F(0.0, 0, 1, "Share of failures at street (township) level that go "
                                           "straight to court instead of up to the district (0 = none; "
                                           "decided by the failed outcome uniform's unused part, as at "
                                           "the district; docs/ODD.md §7.7)."),
        "hops_to_platform": I(1, 0, 10, "Reporting hops from detection to the platform."),
        "hops_per_escalation": I(1, 0, 10, "Reporting hops when a case goes one level up."),
        "warning_visit_hours": F(4, 0, 100, "Mediator hours one pre-emptive warning visit takes (assumed; "
                                 "costed at costs.mediator over 365 × handling.hours_per_day[1] hours)."),
        "warning_horizon_weeks": I(2, 1, 12, "Early warning: weeks ahead the forecast covers."),
        "warning_budget_share": F(0.1, 0.001, 1, "Early warning: share of grids inspected per week (the "
                                  "inspection budget at which precision and recall are scored)."),
        "warning_survey_per_grid": I(20, 0, 1000, "Early warning: residents sampled per grid each week by "
                                     "the trust survey."),
    },
    "costs": {
        "grid_worker": F(60_000, 0, 1e7, "Yuan per grid worker per year."),
        "mediator": F(40_000, 0, 1e7, "Yuan per mediator per year."),
        "centre_staff": F(90_000, 0, 1e7, "Yuan per street centre handler per year."),
        "department_staff": F(120_000, 0, 1e7, "Yuan per department handler per year."),
        "city_staff": F(150_000, 0, 1e7, "Yuan per city handler per year."),
        "court_staff": F(250_000, 0, 1e7, "Yuan per court staff per year."),
        "video_per_grid": F(30_000, 0, 1e7, "Yuan per covered grid per year (雪亮工程)."),
        "integration_per_grid": F(20_000, 0, 1e7, "Yuan per grid per year at full integration."),
    },
    # Residents' channel choice (sim/engine/choice.py, docs/ODD.md §7.19): a multinomial logit over
    # OPTIONS = lump, negotiate, grid worker, hotline, mediation, court, petition, going public.
    "choice": {
        "enabled": Field("bool", True, "Residents choose where to take a grievance (false = every resident "
                         "report goes to the hotline at a rate ∝ propensity × trust, as before issue 11)."),
        "asc": FL([0.0, -0.1, -3.81, -4.01, -3.68, -2.92, -1.09, -3.06], -20, 20,
                  "Alternative-specific constant of each option (lump, negotiate, grid, hotline, mediation, "
                  "court, petition, public); lump is the reference (0).", 8),
        "days": FL([0, 3, 3, 5, 10, 90, 60, 2], 0, 3650,
                   "Time each option is known to take, days (lump .. public).", 8),
        "cost": FL([0, 0.5, 0.1, 0.1, 0.3, 5, 3, 2], 0, 100,
                   "Money and effort each option is known to cost, index (lump .. public).", 8),
        "severity_coef": FL([0, -0.3, 0, 0, 0.2, 0.6, 0.6, 0.8], -10, 10,
                            "Utility per severity level of each option (lump .. public).", 8),
        "time_weight": F(0.01, 0, 10, "Utility lost per day an option is known to take."),
        "cost_weight": F(0.3, 0, 10, "Utility lost per unit of an option's cost index."),
        "trust_weight": F(2.0, 0, 20, "Utility of the city's channels (grid, hotline, mediation, court) per "
                          "unit of the resident's effective trust."),
        "responsiveness_weight": F(3.0, 0, 20, "Utility of the city's channels per unit of the grid's "
                                   "perceived responsiveness (memory of neighbours' recent outcomes)."),
        "distrust_weight": F(2.0, 0, 20, "Utility of petition and going public per unit of distrust (1 − trust)."),
        "tension_weight": F(1.0, 0, 20, "Utility of petition and going public per unit of the resident's tension."),
        "negotiation_success": F(0.5, 0, 1, "Chance a bilateral negotiation settles the grievance; a failed one "
                                 "leads to a second choice among the other options."),
        "prior_responsiveness": F(0.53, 0, 1, "Perceived responsiveness of every grid at the start (Beijing "
                                  "12345 resolution rate 53.1% in January 2019; calibration/data/dispute_facts.md, BSB24)."),
        "memory_cases": F(10, 0.1, 10000, "How many recent outcomes a grid's perceived responsiveness "
                          "weighs: today's n outcomes get weight n / (n + memory_cases)."),
    },
    "run": {
        "days": I(365, 1, 3650, "Simulated days."),
        "warmup_days": I(0, 0, 3650, "Days at the start excluded from the outcomes (cases that emerged "
                         "before, and that period's cost and staff time)."),
        "start_date": D("Calendar date of day 0 (YYYY-MM-DD; '' = none). When set it fixes the weekday "
                        "of day 0 (weekday_multipliers are then Monday first), the day of year "
                        "(replaces world.start_day_of_year) and the case table's calendar timestamps."),
    },
}

CATEGORY_SCHEMA: dict[str, Field] = {
    "rate_per_1000_per_year": F(10, 0, 100000, "New cases per 1,000 residents per year."),
    "severity_probs": FL([0.8, 0.17, 0.03, 0.0], 0, 1, "Initial severity 0..3 probabilities.", 4),
    "pair_share": F(0.4, 0, 1, "Share of cases between two residents."),
    "collective_share": F(0.05, 0, 1, "Share of cases involving many residents."),
    "service_multiplier": F(1, 0.01, 100, "Work multiplier for this category."),
    "department": S("general", "Functional department responsible for this category."),
    "patrol_visible": F(1, 0, 1, "How visible this category is to patrols (0 = never seen)."),
    "proactive_only": F(0, 0, 1, "Share of cases only a proactive channel can detect."),
    "entry_level_by_severity": FL([], 0, 5, "Level where a reported case of severity 0..3 enters "
                                  "([] = handling.entry_level_by_severity).", 4, optional=True),
    "escalation_multiplier": F(1, 0, 100, "Escalation hazard multiplier of this category."),
    "preventable": F(1, 0, 1, "How much of this category prevention at the source can reach."),
}

DEFAULT_CATEGORIES: dict[str, dict[str, Any]] = {
    # The five major risks (五大风险), rates per 1,000 residents per year.
    # Routes and hazard multipliers are assumed institutional arrangements, not fitted: political
    # security goes to public security and cyber to the cyberspace administration, never to
    # people's mediators; civil disputes and public order start at community mediation.
    "political_security": {"rate_per_1000_per_year": 1.0, "severity_probs": [0.6, 0.3, 0.08, 0.02],
                           "pair_share": 0.1, "collective_share": 0.2, "department": "public_security",
                           "service_multiplier": 1.5, "patrol_visible": 0.5,
                           "entry_level_by_severity": [3, 3, 4, 4], "escalation_multiplier": 1.5,
                           "preventable": 0.5},
    "public_order": {"rate_per_1000_per_year": 18.0, "severity_probs": [0.85, 0.13, 0.02, 0.0],
                     "pair_share": 0.3, "collective_share": 0.03, "department": "urban_management"},
    "major_disputes": {"rate_per_1000_per_year": 12.0, "severity_probs": [0.7, 0.25, 0.05, 0.0],
                       "pair_share": 0.7, "collective_share": 0.1, "department": "justice",
                       "service_multiplier": 1.3},
    "public_safety": {"rate_per_1000_per_year": 8.0, "severity_probs": [0.8, 0.17, 0.03, 0.0],
                      "pair_share": 0.1, "collective_share": 0.05, "department": "emergency_management",
                      "entry_level_by_severity": [2, 2, 3, 4]},
    "cyber": {"rate_per_1000_per_year": 3.0, "severity_probs": [0.85, 0.13, 0.02, 0.0],
              "pair_share": 0.2, "collective_share": 0.05, "department": "cyberspace",
              "patrol_visible": 0.1, "entry_level_by_severity": [3, 3, 4, 4], "preventable": 0.5},
}

SHOCK_SCHEMA: dict[str, Field] = {
    "name": S("shock", "Name of the shock."),
    "start_day": I(0, 0, 3650, "First simulated day of the shock."),
    "days": I(30, 1, 3650, "Duration in days."),
    "category": S("", "Category it raises ('' = all)."),
    "multiplier": F(2, 0, 1000, "Emergence multiplier during the shock."),
    "share_of_grids": F(1, 0, 1, "Share of grids affected (chosen by the shock's own stream)."),
    "collective_boost": F(0, 0, 1, "Extra share of collective cases during the shock."),
}


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Field]:
    out: dict[str, Field] = {}
    for key, val in tree.items():
        path = f"{prefix}{key}"
        if isinstance(val, Field):
            out[path] = val
        else:
            out.update(_flatten(val, path + "."))
    return out


FIELDS: dict[str, Field] = _flatten(SCHEMA)
LEVERS: dict[str, Field] = {k: v for k, v in FIELDS.items() if k.startswith("levers.")}
UNCERTAINTIES: dict[str, Field] = {k: v for k, v in FIELDS.items() if k.startswith("world.")}


def field_for(key: str) -> Field:
    """The Field of a dotted key, including category rows (``world.categories.<name>.<field>``).

    Raises ScenarioError naming the key when it is unknown.
    """
    if key in FIELDS:
        return FIELDS[key]
    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["world", "categories"] and parts[3] in CATEGORY_SCHEMA:
        return CATEGORY_SCHEMA[parts[3]]
    section = parts[0]
    known = sorted(k for k in FIELDS if k.startswith(section + ".")) or sorted(SCHEMA)
    hint = ", ".join(known[:6]) + (" ..." if len(known) > 6 else "")
    raise ScenarioError(f"{key}: unknown key (known keys here: {hint})")


class Levers:
    """Policy levers as plain attributes; every assignment is validated against its range."""

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # e.g. during unpickling, before _values exists
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no lever {name!r} (levers: {', '.join(self._values)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        key = f"levers.{name}"
        if key not in LEVERS:
            raise ScenarioError(f"{key}: unknown lever (levers: {', '.join(self._values)})")
        self._values[name] = LEVERS[key].check(key, value)

    def as_dict(self) -> dict[str, Any]:
        """Current values."""
        return dict(self._values)
