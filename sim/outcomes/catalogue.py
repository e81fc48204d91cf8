"""Every outcome of cityrisk, declared once (the types and lookups are in :mod:`.registry`).

Order matters: within a capacity group the terminal report lists outcomes in the order they
are declared here. Denominators follow DESIGN §8: shares are of all emerged (or all detected)
cases, not of resolved ones, unless the definition says otherwise; "to date" means from day 0
of the run up to now.
"""

from __future__ import annotations

from ..engine.cases import OPTIONS
from ..engine.levels import LEVELS
from .registry import LEVEL_NAMES, SEVERITY_NAMES, Direction, Outcome

__all__ = ["OPTION_NAMES", "OUTCOMES"]

H, L, N = Direction.HIGHER, Direction.LOWER, Direction.NEUTRAL
KPI, TS, CAL = ("kpis",), ("timeseries",), ("calibration",)
BOTH = ("kpis", "timeseries")  # a run's final value and the same figure, to date, each day

SAFETY_FORMULA = ("100 × (0.25 R + 0.25 (1 − min(1, 5 E)) + 0.20 T + 0.15 exp(−D / 168) + "
                  "0.15 (1 − min(1, B / 5))) with R the resolved share and E the escalated share "
                  "of all emerged cases, T mean trust, D the mean detection delay in hours and B "
                  "the open backlog of detected cases per 1,000 residents")
KM = ("Kaplan–Meier over all detected cases: open ones are censored at their age, those that left "
      "unresolved (lapsed, decided against) are never resolved; when the curve does not reach the "
      "quantile within the run, the run's length after warm-up is reported (a lower bound)")

_HEADLINE = (
    Outcome("days", "day", N, "overall", "Simulated days", "模拟天数",
            "Days simulated so far (the run's length when it ends).", KPI),
    Outcome("cases_total", "count", N, "overall", "Cases", "案件数",
            "Cases that emerged after the warm-up so far — resolved, lapsed, decided against, "
            "faded or still open — the denominator of the shares of all cases.", KPI, short="cases",
            definition_zh="预热期后迄今产生的全部案件(已化解、放弃、裁决未化解、自行消散或仍未结),是各项比例的分母。"),
    Outcome("cases_resolved", "count", N, "overall", "Cases resolved", "已化解案件数",
            "Cases closed as resolved so far, at any level.", KPI,
            definition_zh="迄今在任一层级化解结案的案件数。"),
    Outcome("resolved_share", "share", H, "overall", "Resolved share", "化解率",
            "Resolved cases divided by all cases that emerged (open cases count as unresolved).",
            KPI, definition_zh="已化解案件数除以全部产生的案件数(未结案件按未化解计)。"),
    Outcome("safety_index", "index", H, "overall", "City safety index (0-100)",
            "市域平安指数(0-100)",
            f"City safety index (市域平安指数): {SAFETY_FORMULA}.", BOTH,
            definition_zh="市域平安指数(0-100):综合化解率、升级比例、群众信任度、发现速度和积压案件。"),
    Outcome("mean_trust", "score", H, "overall", "Trust in government", "群众信任度",
            "Residents' mean trust in government (0-1), averaged over all residents.", BOTH,
            definition_zh="全体居民对政府信任程度的平均值(0-1)。"),
)

_RISK = (
    Outcome("escalated_share", "share", L, "risk_prevention", "Escalated (severity ≥ 2)",
            "升级比例", "Cases that reached collective-incident severity (≥ 2) divided by all "
            "cases that emerged.", BOTH,
            definition_zh="升级为群体性事件或重大事件(严重程度≥2)的案件占全部案件的比例。"),
    Outcome("collective_incidents", "count", L, "risk_prevention",
            "Collective incidents (severity ≥ 2)", "群体性事件",
            "Cases that reached severity 2 or more (major incidents included), of all cases: those "
            "that escalated there, and the incidents born of collective action "
            "(collective_actions).", KPI, definition_zh="严重程度达到2级及以上的案件数(含重大事件,"
            "含升级而来的和集体行动形成的)。"),
    Outcome("collective_actions", "count", L, "risk_prevention",
            "Collective incidents from collective action", "集体行动形成的群体性事件",
            "Collective incidents that emerged when enough aggrieved neighbours (same community and "
            "category, open or unresolved grievances) crossed their thresholds (Granovetter "
            "cascade, docs/ODD.md §7.17), of all cases; 0 with world.collective_action = false.", KPI,
            definition_zh="同一社区、同类未化解矛盾的居民达到各自阈值后形成的群体性事件数(格兰诺维特阈值级联)。"),
    Outcome("major_incidents", "count", L, "risk_prevention", "Major incidents (severity 3)",
            "重大事件", "Cases that reached severity 3, of all cases.", KPI, short="major",
            definition_zh="严重程度达到3级的案件数。"),
    Outcome("caused_escalation_share", "share", L, "risk_prevention",
            "Escalations the system caused", "办理中升级比例",
            "Cases whose severity rose after they emerged (while undetected, waiting or passed "
            "around) divided by all cases that emerged; cases that arrived serious are not in it.",
            BOTH, definition_zh="产生后严重程度上升的案件占全部产生案件的比例(不含产生时即严重的案件)。"),
    Outcome("lapsed_share", "share", L, "risk_prevention", "Lapsed (parties gave up)",
            "放弃比例", "Detected cases whose parties gave up waiting for them to be handled "
            "divided by all cases that emerged.", KPI,
            definition_zh="已发现但当事人等待处理时放弃的案件占全部案件的比例。"),
    Outcome("unresolved_share", "share", L, "risk_prevention", "Decided against (unresolved)",
            "裁决未化解比例", "Cases closed at the top level without resolving the grievance "
            "(a court judgment against the parties) divided by all cases that emerged.", KPI,
            definition_zh="在最高层级结案但矛盾未化解(判决未解决诉求)的案件占全部案件的比例。"),
    Outcome("returned_cases", "count", L, "risk_prevention", "Returned grievances", "反复案件",
            "Cases that are the return of a grievance that left unresolved (lapsed or decided "
            "against), of all cases.", KPI, definition_zh="此前未化解(放弃或裁决未化解)的矛盾再次形成的案件数。"),
    Outcome("backlog", "count", L, "risk_prevention", "Open detected cases (backlog)", "积压案件",
            "Open cases past the latent stage (detected, not yet closed) at the end of the run.",
            KPI, definition_zh="已发现但尚未办结的案件数。"),
)

_RESOLUTION = (
    Outcome("grassroots_resolution_share", "share", H, "conflict_resolution",
            "Resolved at grid/community/street", "基层化解率",
            "Cases resolved at grid, community or street level divided by all detected cases "
            "(矛盾不上交).", KPI,
            definition_zh="在网格、社区、街道层面化解的案件占已发现案件的比例(矛盾不上交)。"),
    Outcome("median_hours_to_resolution", "hours", L, "conflict_resolution",
            "Median time to resolution", "化解时间中位数",
            f"Median hours from detection to resolution; {KM}.", BOTH,
            definition_zh="全部已发现案件从发现到化解用时的中位数(小时,Kaplan–Meier估计:未结案件按删失处理,"
                          "未化解离开的案件视为永不化解;若运行期内达不到中位数,则报告运行时长作为下限)。"),
    Outcome("p90_hours_to_resolution", "hours", L, "conflict_resolution",
            "p90 time to resolution (slowest 10%)", "最慢10%的化解时间",
            f"90th percentile of hours from detection to resolution; {KM}.", KPI,
            definition_zh="全部已发现案件从发现到化解用时的第90百分位数(小时,Kaplan–Meier估计)。"),
    *(Outcome(f"resolved_by_level.{lv}", "share", N, "conflict_resolution",
              f"Resolved at: {LEVEL_NAMES['en'][i]}", f"{LEVEL_NAMES['zh'][i]}化解比例",
              f"Cases resolved at the {lv} level divided by all detected cases.", KPI,
              short=lv) for i, lv in enumerate(LEVELS)),
    *(Outcome(f"success_by_level.{lv}", "share", H, "conflict_resolution",
              f"Success of handling: {LEVEL_NAMES['en'][i]}", f"{LEVEL_NAMES['zh'][i]}办理成功率",
              f"Handling attempts at the {lv} level that resolved the case divided by attempts "
              "completed there.", KPI, short=lv) for i, lv in enumerate(LEVELS)),
    Outcome("mediation_success", "share", H, "conflict_resolution", "Mediation success",
            "人民调解成功率",
            "People's mediation attempts (community level) that resolved the case divided by "
            "mediation attempts completed.", KPI,
            definition_zh="社区人民调解中化解成功的次数占完成调解次数的比例。"),
    Outcome("mediated_to_court_share", "share", L, "conflict_resolution",
            "Mediated cases that went to court", "调解后诉至法院比例",
            "Cases that had a people's mediation and were later sent to court divided by cases "
            "that had a people's mediation.", KPI,
            definition_zh="经人民调解后又被送至法院的案件占经人民调解案件的比例。"),
)

_INFORMATION = (
    Outcome("detection_rate", "share", H, "information_processing", "Detection rate", "发现率",
            "Cases detected (by patrol, screening, video, volunteers or a resident's report) "
            "divided by all cases that emerged.", KPI,
            definition_zh="被发现的案件(巡查、排查、视频、志愿者或群众反映)占全部案件的比例。"),
    Outcome("mean_detection_delay_hours", "hours", L, "information_processing",
            "Mean time to detection", "发现用时",
            "Mean hours from emergence to detection over detected cases (undetected ones are "
            "not in it).", KPI, definition_zh="已发现案件从产生到被发现的平均用时(小时)。"),
    Outcome("faded_share", "share", N, "information_processing", "Faded away undetected",
            "未发现即消散比例",
            "Cases that faded away before anyone detected them divided by all cases.", KPI,
            definition_zh="未被发现即自行消散的案件占全部案件的比例。"),
)

_RESOURCES = (
    Outcome("misrouted_share", "share", L, "resource_integration",
            "Misrouted (share of detected)", "错派比例",
            "Detected cases bounced between departments at least once divided by detected cases.",
            KPI, definition_zh="至少在部门间被退回转派一次的案件占已发现案件的比例。"),
    Outcome("staff_utilisation", "share", N, "resource_integration",
            "Staff utilisation (mediators to city)", "人员负荷",
            "Handler hours spent on cases (inside each day: work booked past the end does not "
            "count) divided by handler hours available, community mediators to city "
            "departments, after the warm-up.", BOTH,
            definition_zh="调解员至市级部门处理案件所用工时占可用工时的比例(累计)。"),
    *(Outcome(f"utilisation_by_level.{lv}", "share", N, "resource_integration",
              f"Utilisation: {LEVEL_NAMES['en'][i]}", f"{LEVEL_NAMES['zh'][i]}负荷",
              f"Handler hours spent on cases at the {lv} level divided by that level's handler "
              "hours available, to date.", KPI, short=lv) for i, lv in enumerate(LEVELS)),
    Outcome("saturated_levels", "count", L, "resource_integration", "Saturated levels (queue growing)",
            "饱和层级数",
            "Levels whose handlers were busy at least 95% of the time over the last 28 days and "
            "whose queue grew over them: not in a steady state, so their waits and the "
            "escalations these cause depend on the run's length (docs/ODD.md §7.5).", KPI,
            definition_zh="近28天人员负荷≥95%且排队增长的层级数:未达稳态,其等待与由此引发的升级随模拟时长而变。"),
    *(Outcome(f"recent_utilisation_by_level.{lv}", "share", N, "resource_integration",
              f"Utilisation, last 28 days: {LEVEL_NAMES['en'][i]}", f"{LEVEL_NAMES['zh'][i]}近28天负荷",
              f"Handler hours spent on cases at the {lv} level over the last 28 days divided by "
              "that level's handler hours available then.", KPI, short=lv) for i, lv in enumerate(LEVELS)),
    *(Outcome(f"queue_growth_by_level.{lv}", "per_day", L, "resource_integration",
              f"Queue growth, last 28 days: {LEVEL_NAMES['en'][i]}", f"{LEVEL_NAMES['zh'][i]}排队增速",
              f"Change in the cases waiting at the {lv} level over the last 28 days, per day.", KPI,
              short=lv) for i, lv in enumerate(LEVELS)),
    Outcome("staff_cost", "yuan", L, "resource_integration", "Staff cost so far", "累计人员成本",
            "Cost accrued after the warm-up (each day 1/365 of the annual cost of the staff on "
            "duty, video, integration and prevention spending).",
            BOTH, definition_zh="预热期后累计的成本(每天计入在岗人员、视频、整合和源头治理年支出的1/365)。"),
)

_CATEGORY = (
    Outcome("by_category.*.cases", "count", N, "overall", "{name}: cases", "{name}:案件数",
            "Cases of this category that emerged so far.", KPI, short="cases"),
    Outcome("by_category.*.resolved", "count", N, "overall", "{name}: resolved",
            "{name}:已化解", "Cases of this category resolved so far.", KPI, short="resolved"),
    Outcome("by_category.*.resolved_share", "share", H, "overall", "{name}: resolved share",
            "{name}:化解率", "Resolved cases of this category divided by its cases.", KPI,
            short="resolved %"),
    Outcome("by_category.*.escalated", "count", L, "risk_prevention", "{name}: escalated",
            "{name}:升级案件", "Cases of this category that reached severity 2 or more.", KPI,
            short="escalated"),
    Outcome("by_category.*.caused_escalations", "count", L, "risk_prevention",
            "{name}: escalations caused", "{name}:办理中升级",
            "Cases of this category whose severity rose after they emerged.", KPI, short="caused"),
    Outcome("by_category.*.lapsed", "count", L, "risk_prevention", "{name}: lapsed",
            "{name}:放弃", "Detected cases of this category whose parties gave up waiting.", KPI,
            short="lapsed"),
    Outcome("by_category.*.major_incidents", "count", L, "risk_prevention",
            "{name}: major incidents", "{name}:重大事件",
            "Cases of this category that reached severity 3.", KPI, short="major"),
    Outcome("by_category.*.detected", "count", N, "information_processing", "{name}: detected",
            "{name}:已发现", "Cases of this category detected so far.", KPI, short="detected"),
    Outcome("by_category.*.median_hours_to_resolution", "hours", L, "conflict_resolution",
            "{name}: median time to resolution", "{name}:化解时间中位数",
            f"Median hours from detection to resolution of this category's cases; {KM}.", KPI,
            short="median h"),
)

_DEPARTMENT = (
    Outcome("by_department.*.cases", "count", N, "overall", "{name}: detected cases",
            "{name}:已发现案件", "Detected cases of the categories this department answers for.",
            KPI, short="cases"),
    *(Outcome(f"by_department.*.closed_within_{h}h", "share", H, "conflict_resolution",
              f"{{name}}: resolved within {txt}", f"{{name}}:{zh}内化解",
              f"Detected cases of this department resolved within {h} hours of detection "
              "divided by its detected cases.", KPI, short=txt)
      for h, txt, zh in ((24, "24 h", "24小时"), (168, "7 d", "7天"), (720, "30 d", "30天"))),
)

_DAILY = (
    Outcome("day", "day", N, "overall", "Day", "天", "Number of the simulated day the row records, from 0.", TS),
    Outcome("new_cases", "per_day", N, "overall", "New cases", "新增案件",
            "Cases that emerged during the day: background and triggered grievances (§7.16); "
            "returns and collective incidents are counted apart (returned, mobilisations).", TS,
            short="new (emerged)"),
    Outcome("detected", "per_day", N, "information_processing", "Detected cases", "新发现案件",
            "Cases detected during the day.", TS, short="detected"),
    Outcome("returned", "per_day", L, "risk_prevention", "Returned grievances", "反复案件",
            "Grievances that left unresolved and came back as new cases during the day.", TS,
            short="returned"),
    Outcome("resolved", "per_day", N, "conflict_resolution", "Resolved cases", "新化解案件",
            "Cases closed as resolved during the day.", TS, short="resolved"),
    Outcome("lapsed", "per_day", L, "risk_prevention", "Lapsed cases", "放弃案件",
            "Detected cases whose parties gave up waiting during the day.", TS, short="lapsed"),
    Outcome("transferred", "per_day", N, "resource_integration", "Moved between streets",
            "街道间调配案件", "Queued cases the district moved to a less loaded street during the "
            "day (三级联动).", TS, short="moved"),
    Outcome("escalations", "per_day", L, "risk_prevention", "Escalations", "升级次数",
            "Severity steps taken by open cases during the day (a case can step more than "
            "once).", TS, short="severity steps"),
    Outcome("triggered", "per_day", N, "risk_prevention", "Triggered grievances", "诱发的新增矛盾",
            "New cases of the day triggered by earlier cases nearby (contagion, §7.16); they are "
            "part of new_cases.", TS, short="triggered"),
    Outcome("collective_new", "per_day", L, "risk_prevention", "New collective incidents",
            "新增群体性事件", "Cases that reached severity 2 or more during the day (escalated there, "
            "emerged there or born of collective action): the series whose weekly bursts §7.16 "
            "measures.", TS, short="new collective"),
    Outcome("mobilisations", "per_day", L, "risk_prevention", "Collective actions",
            "集体行动", "Collective incidents born of collective action during the day (§7.17).", TS,
            short="collective actions"),
    Outcome("passed_up", "per_day", L, "conflict_resolution", "Passed up a level", "上交案件",
            "Waiting cases referred up at the day's review: their severity outgrew their level, "
            "or they waited there longer than the review time (staffed or not).", TS),
    *(Outcome(f"open_{st}", "count", L, cap, f"Open: {en}", f"未结:{zh}",
              f"Open cases {what} at the end of the day.", TS, short=en)
      for st, en, zh, cap, what in (
          ("latent", "latent (undetected)", "未发现", "information_processing",
           "not yet detected"),
          ("reporting", "reporting / in transit", "上报/转送中", "information_processing",
           "detected and in transit to their next queue"),
          ("queued", "queued", "排队中", "resource_integration", "waiting for a handler"),
          ("in_service", "in service", "处理中", "conflict_resolution", "being handled"))),
    *(Outcome(f"open_severity_{s}", "count", L, "risk_prevention",
              f"Open: {SEVERITY_NAMES['en'][s].lower()}", f"未结:{SEVERITY_NAMES['zh'][s]}",
              f"Open cases (latent to in service) of severity {s} at the end of the day.", TS,
              short=SEVERITY_NAMES["en"][s].lower()) for s in range(4)),
    Outcome("resolved_total", "count", N, "conflict_resolution", "Cases resolved to date",
            "累计化解案件", "Cases that emerged after the warm-up closed as resolved by the end "
            "of the day.", TS),
    *(Outcome(f"resolved_at_{lv}", "count", N, "conflict_resolution",
              f"Resolved to date: {LEVEL_NAMES['en'][i]}", f"累计{LEVEL_NAMES['zh'][i]}",
              f"Cases (emerged after the warm-up) resolved at the {lv} level by the end of the "
              "day.", TS, short=lv)
      for i, lv in enumerate(LEVELS)),
)

_CALIBRATION = (
    Outcome("arrivals.per_day", "per_day", N, "information_processing",
            "Reported cases per day", "日均上报案件",
            "Detected cases per day over the arrival window (the days before the first shock "
            "that stops all emergence, else the whole run).", CAL),
    Outcome("weekly_var_mean", "ratio", N, "information_processing",
            "Weekly variance / mean of reports", "周上报量方差均值比",
            "Variance over mean of the 7-day counts of detected cases in the arrival window "
            "(a trailing partial week dropped).", CAL),
    Outcome("weekly_var_mean_late", "ratio", N, "information_processing",
            "Weekly variance / mean of reports, second half", "后半段周上报量方差均值比",
            "Variance over mean of the 7-day counts of detected cases in the second half of the "
            "arrival window (from its middle day; a trailing partial week dropped).", CAL),
    Outcome("arrivals.month_multiplier.*", "ratio", N, "information_processing",
            "Reports in month {name} / mean", "{name}月上报量/均值",
            "Mean detected cases per day in calendar month {name} divided by the arrival "
            "window's mean.", CAL),
    Outcome("proactive_share", "share", N, "information_processing", "Found proactively",
            "主动发现比例",
            "Detected cases found by patrol, screening or video divided by all detected cases "
            "(open ones included).", CAL),
    *(Outcome(f"resolved_by_tier.{tier}", "share", N, "conflict_resolution",
              f"Resolved at tier: {tier} ({levels})", f"{zh}化解比例",
              f"Cases resolved at {levels} divided by all closed resolved cases.", CAL, short=tier)
      for tier, levels, zh in (("village", "grid or community", "村(社区)级"),
                               ("township", "street", "乡镇(街道)级"),
                               ("county", "district or city", "县(区)市级"),
                               ("court", "court", "法院"))),
    Outcome("resolved_share_of_reported", "share", H, "conflict_resolution",
            "Resolved share of reported", "上报案件化解率",
            "Resolved cases divided by detected cases (a hotline's resolution rate counts the "
            "requests it received).", CAL),
    *(Outcome(f"dispute_tier.{tier}", "share", N, "conflict_resolution",
              f"Disputes ending at: {en}", f"矛盾纠纷{zh}比例",
              f"Disputes taken in below the district (categories whose route sends a minor case to "
              f"community mediation) that {en}, divided by those resolved at village or township "
              "level, passed to the county or sent to court (each counted by the furthest place "
              "it went; still open or lapsed below the district: left out).", CAL,
              short=f"disputes: {tier}")
      for tier, en, zh in (("village", "were resolved at village level (grid or community)", "村(社区)级化解"),
                           ("township", "were resolved at township level (street)", "乡镇(街道)级化解"),
                           ("county", "were passed to the county (district or city)", "移交县(区)级"),
                           ("court", "were sent to court", "移交法院"))),
    *(Outcome(f"channel_ratio.{opt}_per_mediation", "ratio", N, "information_processing",
              f"Residents' choice: {opt} per mediation", f"居民选择:{zh}/调解",
              f"Residents' final choices of {opt} divided by their final choices of mediation "
              "(channel_shares).", CAL, short=f"{opt}/mediation")
      for opt, zh in (("court", "诉讼"), ("petition", "信访"))),
)

_WARNING_SCORED = ("grid-weeks after the warm-up whose horizon (handling.warning_horizon_weeks) has "
                   "passed, pooled; a grid-week is positive if the grid had an escalation or a "
                   "collective incident in the horizon (sim/warning/target.py)")
_WARNING = (
    Outcome("warning_auc", "score", H, "risk_prevention", "Early-warning AUC", "预警准确度(AUC)",
            "Chance that the early-warning forecast (the learned model when one is attached, else "
            f"the smoothed report count) ranks a positive grid-week above a negative one, over the {_WARNING_SCORED}.",
            KPI, definition_zh="预警模型把将发生升级或群体性事件的网格排在其他网格之前的概率(ROC曲线下面积)。"),
    Outcome("naive_warning_auc", "score", H, "risk_prevention", "Naive warning AUC (hotspots stay hot)",
            "朴素预警准确度(AUC)", "AUC of the naive forecast, last 4 weeks' target events per grid "
            f"(last weeks' hotspots stay hot), over the {_WARNING_SCORED}.", KPI,
            definition_zh="朴素预测(近4周出过事的网格仍会出事)的ROC曲线下面积。"),
    Outcome("warning_precision_at_budget", "share", H, "risk_prevention",
            "Warning precision at the inspection budget", "预警命中率(检查预算内)",
            "Flagged grid-weeks (each week's top handling.warning_budget_share of grids by the "
            "early-warning forecast) that were positive divided by all flagged grid-weeks, over the "
            f"{_WARNING_SCORED}.", KPI, definition_zh="每周按预警得分检查前一定比例网格时,被检查网格中确实发生升级或群体性事件的比例。"),
    Outcome("warning_recall_at_budget", "share", H, "risk_prevention",
            "Warning recall at the inspection budget", "预警覆盖率(检查预算内)",
            "Positive grid-weeks that were flagged divided by all positive grid-weeks, over the "
            f"{_WARNING_SCORED}.", KPI, definition_zh="发生升级或群体性事件的网格中,事先被预警检查覆盖的比例。"),
    Outcome("warning_visits", "count", N, "risk_prevention", "Pre-emptive warning visits",
            "预警上门走访次数", "Pre-emptive mediation visits sent to flagged grids after the warm-up "
            "(levers.warning_response_visits_per_week).", KPI,
            definition_zh="预热期后根据预警派往高风险网格的上门调解走访次数。"),
    Outcome("warning_visit_cost", "yuan", L, "risk_prevention", "Cost of warning visits",
            "预警走访成本", "Mediator time spent on pre-emptive warning visits after the warm-up, "
            "in yuan (included in staff_cost).", KPI,
            definition_zh="预热期后预警上门走访所用调解员工时的成本(已计入累计人员成本)。"),
    Outcome("capacity_index", "index", H, "overall", "Capacity index (0-100)", "风险防范能力指数(0-100)",
            "Input-side capacity index: 100 × (0.20 staff + 0.15 training + 0.15 video + 0.15 "
            "integration + 0.15 platform speed + 0.20 warning quality), each on [0, 1] "
            "(sim/warning/capacity.py).", KPI,
            definition_zh="投入侧能力指数:人员配备、培训、视频覆盖、资源整合、平台速度和预警质量的加权和(0-100)。"),
)

OPTION_NAMES = {  # residents' options (sim.engine.cases.OPTIONS), English and Chinese
    "lump": ("lump it", "忍了"), "negotiate": ("negotiate", "自行协商"), "grid": ("grid worker", "找网格员"),
    "hotline": ("hotline (12345)", "12345热线"), "mediation": ("mediation", "人民调解"),
    "court": ("court", "诉讼"), "petition": ("petition (信访)", "信访"), "public": ("going public", "公开曝光/上街"),
}
_CHOICE = (  # residents' channel choice (issue 11, sim/engine/choice.py, docs/ODD.md §7.19)
    Outcome("emerged_cases", "count", N, "overall", "Grievances (new)", "新发生矛盾",
            "New grievances that emerged after the warm-up (cases that are not a grievance's "
            "return): the underlying grievance rate, whatever residents do with them.", KPI,
            definition_zh="预热期后新发生的矛盾数(不含未化解矛盾的再次出现),即不论居民如何处理的基础矛盾发生量。"),
    Outcome("reported_cases", "count", N, "information_processing", "Reported by residents",
            "群众主动反映", "Cases whose residents took them to a city channel — grid worker, "
            "hotline (12345), mediation or court — of all cases (the city's reported volume).", KPI,
            definition_zh="居民主动找网格员、拨打12345、申请调解或起诉的案件数(城市受理的诉求量)。"),
    Outcome("lumped_share", "share", L, "risk_prevention", "Lumped (kept quiet)", "隐忍比例",
            "Cases whose residents chose to lump them (keep quiet; the city may still find them, "
            "and if nobody does they exit LUMPED with the grievance kept) divided by all cases "
            "that emerged.", KPI,
            definition_zh="居民选择隐忍不发声的案件占全部案件的比例(政府仍可能主动发现;未被发现的矛盾仍在)。"),
    Outcome("settled_share", "share", N, "conflict_resolution", "Settled by the parties",
            "双方自行协商解决比例", "Cases the parties settled by their own negotiation (exit "
            "SETTLED, not a resolution by the city) divided by all cases that emerged.", KPI,
            definition_zh="当事人自行协商解决(非政府化解)的案件占全部案件的比例。"),
    Outcome("petitions", "count", L, "risk_prevention", "Petitions (信访)", "信访",
            "Cases whose residents took them to the petition system (exit PETITIONED), of all "
            "cases.", KPI, definition_zh="居民选择信访的案件数。"),
    Outcome("public_incidents", "count", L, "risk_prevention", "Taken public (online or street)",
            "公开曝光/上街", "Cases whose residents took them public, online or to the street "
            "(exit WENT_PUBLIC), of all cases.", KPI,
            definition_zh="居民选择网络曝光或上街的案件数。"),
    *(Outcome(f"channel_shares.{opt}", "share", N, "information_processing",
              f"Residents' choice: {en}", f"居民选择:{zh}",
              f"Cases whose residents finally chose '{en}' (after a failed negotiation, their "
              "second choice) divided by all cases whose residents made a choice.", KPI, short=opt)
      for opt in OPTIONS for en, zh in [OPTION_NAMES[opt]]),
)

OUTCOMES: tuple[Outcome, ...] = (*_HEADLINE, *_RISK, *_RESOLUTION, *_INFORMATION, *_RESOURCES,
                                 *_CATEGORY, *_DEPARTMENT, *_DAILY, *_CALIBRATION, *_CHOICE, *_WARNING)
