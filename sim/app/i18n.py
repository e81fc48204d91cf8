"""Chinese and English text of the policymaker app.

Every label, tooltip and chart title the page shows comes from here, so the page is fully
switchable between 中文 and English. Lever tooltips explain each lever in the terms of the seed
article (市域社会治理现代化): 多网合一, 枫桥经验, 雪亮工程, 群防群治, 综治中心, 三级联动 ...
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("zh", "en")

# The article's four capacities (四种能力), each with the levers that build it.
CAPACITIES: dict[str, tuple[str, ...]] = {
    "risk_prevention": (
        "levers.grid_workers_per_grid",
        "levers.screening_per_week",
        "levers.video_coverage",
        "levers.volunteer_participation",
    ),
    "resource_integration": (
        "levers.resource_integration",
        "levers.centre_staff_per_street",
        "levers.department_staff",
        "levers.city_staff",
        "levers.budget_million_yuan",
    ),
    "conflict_resolution": (
        "levers.mediators_per_street",
        "levers.mediator_training",
        "levers.responsibility_clarity",
        "levers.legal_capacity",
    ),
    "information_processing": (
        "levers.latency_hours_per_hop",
        "levers.silo_penalty_hours",
        "levers.information_disclosure",
    ),
}

# lever key -> lang -> (label, tooltip)
LEVER_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "levers.grid_workers_per_grid": {
        "en": ("Grid workers per grid",
               "Full-time grid workers (网格员) in each grid of about 1,000 residents. They patrol, "
               "spot disputes early, settle minor ones on the spot and report the rest: the base of "
               "the all-purpose grid (全科网格) and of the Fengqiao experience (枫桥经验)."),
        "zh": ("每个网格的网格员",
               "每个网格(约1000名居民)配备的专职网格员:巡查走访、早发现早报告,小矛盾就地化解,"
               "其余上报。是“全科网格”和新时代“枫桥经验”的基础。"),
    },
    "levers.screening_per_week": {
        "en": ("Proactive dispute screening (visits per week)",
               "Door-to-door screening visits per grid per week that look for hidden disputes before "
               "they flare up (矛盾纠纷排查, source governance 源头治理)."),
        "zh": ("矛盾纠纷排查(每周次数)",
               "每个网格每周主动上门排查的次数,在矛盾激化前发现隐患,推进源头治理。"),
    },
    "levers.video_coverage": {
        "en": ("Video coverage (Sharp Eyes 雪亮工程)",
               "Share of grids covered by networked public-security video (雪亮工程, 智安小区). "
               "Cameras detect incidents that nobody reports (smart governance 智能化)."),
        "zh": ("视频监控覆盖率(雪亮工程)",
               "接入联网公共安全视频监控的网格比例(雪亮工程、智安小区建设)。"
               "能发现无人上报的事件,体现治理智能化。"),
    },
    "levers.volunteer_participation": {
        "en": ("Volunteer participation (群防群治)",
               "How many residents and volunteers join patrols and report problems (mass prevention "
               "and mass governance 群防群治, socialisation 社会化): more eyes, earlier reports."),
        "zh": ("志愿者参与度(群防群治)",
               "居民和志愿者参与巡防、反映问题的程度(群防群治、治理社会化):眼睛越多,发现越早。"),
    },
    "levers.resource_integration": {
        "en": ("Resource integration (多网合一)",
               "0 = every department runs its own grid and platform and sees only its own issues; "
               "1 = one all-purpose grid (多网合一, 全科网格) with shared data (数据资源共享) "
               "and joint handling across departments."),
        "zh": ("资源整合(多网合一)",
               "0 = 各部门各建一张网、一个平台,只管自己的事;1 = 多网合一、打造全科网格,"
               "数据资源共享,跨部门联合处置。"),
    },
    "levers.centre_staff_per_street": {
        "en": ("Governance-centre staff per street (综治中心)",
               "Staff of each street's comprehensive governance centre (综治中心): triage, dispatch "
               "and follow-up of cases. The street tier of the three-level linkage city / district / "
               "street (三级联动)."),
        "zh": ("每个街道综治中心人员",
               "每个街道(镇)综治中心的工作人员,负责分流、派单、跟踪督办;是市、区县、镇街"
               "“三级联动”中的镇街一级。"),
    },
    "levers.department_staff": {
        "en": ("District department staff",
               "Case handlers in each district functional department (职能部门: urban management, "
               "justice, emergency management ...). Cases the street cannot settle go here."),
        "zh": ("区县职能部门人员",
               "每个区县职能部门(城管、司法、应急管理等)的办理人员;街道解决不了的事项由其承办。"),
    },
    "levers.city_staff": {
        "en": ("City department staff",
               "Case handlers in each city-level department: the top tier of the three-level "
               "linkage (三级联动), where the hardest cases end up."),
        "zh": ("市级部门人员",
               "每个市级部门的办理人员,是“三级联动”的最高一级,最难的案件最终到这里。"),
    },
    "levers.budget_million_yuan": {
        "en": ("Annual staff budget cap (million yuan)",
               "Upper limit on yearly spending on staff, cameras and integration (人力、物力、"
               "财力); 0 means no cap."),
        "zh": ("年度经费上限(百万元)",
               "每年用于人员、视频和平台整合的经费上限(人力、物力、财力);0 表示不设上限。"),
    },
    "levers.mediators_per_street": {
        "en": ("People's mediators per street",
               "People's mediators (人民调解员) per street or town. Community mediation keeps "
               "disputes local instead of passing them up (矛盾不上交, the Fengqiao experience "
               "枫桥经验)."),
        "zh": ("每个街道人民调解员",
               "每个街道(镇)的人民调解员。社区调解让矛盾就地化解、不上交,是“枫桥经验”的核心。"),
    },
    "levers.mediator_training": {
        "en": ("Mediator professionalisation",
               "Training of mediators, from volunteers (0) to fully professional (1); raises the "
               "chance that mediation settles a dispute (专业化)."),
        "zh": ("调解员专业化水平",
               "调解员分类培训程度,从志愿者(0)到完全专业(1);越专业,调解成功率越高(治理专业化)。"),
    },
    "levers.responsibility_clarity": {
        "en": ("Clarity of responsibility (责任对口)",
               "How clearly each kind of case belongs to one department (责任对口, 权责体系). "
               "Low clarity means cases are misrouted and bounce between departments."),
        "zh": ("权责清晰度(责任对口)",
               "按照责任归属原则,每类事项对口落实到职能部门的清晰程度(权责体系)。"
               "不清晰时,案件会被错派、在部门之间来回推诿。"),
    },
    "levers.legal_capacity": {
        "en": ("Legal-channel capacity (court staff)",
               "Court staff for disputes that go to law: the rule-of-law channel (法治化). Too few "
               "means long waits for litigated disputes."),
        "zh": ("法治渠道容量(法院人员)",
               "处理诉讼纠纷的法院人员,即法治化渠道;人手不足时,进入诉讼的纠纷要等很久。"),
    },
    "levers.latency_hours_per_hop": {
        "en": ("Reporting delay per level (hours)",
               "Hours a report needs to pass one step up the chain (grid → platform → street → "
               "district). A unified command platform (社会治理综合信息指挥平台) shortens it."),
        "zh": ("每层级信息传递时间(小时)",
               "信息每向上传递一级(网格→平台→街道→区县)所需的小时数;"
               "统一的社会治理综合信息指挥平台可以缩短它。"),
    },
    "levers.silo_penalty_hours": {
        "en": ("Platform-barrier delay (hours)",
               "Extra hours when information must cross between separate platforms (平台壁垒, "
               "信息壁垒) with no integration; it shrinks as data is shared."),
        "zh": ("平台壁垒延误(小时)",
               "信息在互不联通的平台之间流转时额外耽误的小时数(平台壁垒、信息壁垒);"
               "资源整合、数据共享后随之缩短。"),
    },
    "levers.information_disclosure": {
        "en": ("Information disclosure",
               "How openly cases and their outcomes are published (信息公开, residents' right to "
               "know and to supervise). Openness builds trust, and trust makes people report early."),
        "zh": ("信息公开程度",
               "案件及处理结果向群众公开的程度(信息公开办法,保障知情权、监督权);"
               "公开提升信任,信任让群众更早反映问题。"),
    },
}

CAPACITY_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "risk_prevention": {
        "en": ("Risk prevention", "Find risks early: patrols, screening, cameras, volunteers."),
        "zh": ("风险防控能力", "早发现、早预警:巡查、排查、视频监控、群防群治。"),
    },
    "resource_integration": {
        "en": ("Resource integration", "Staff and platforms shared across departments and levels."),
        "zh": ("资源整合能力", "整合人力、物力、财力,多网合一,三级联动。"),
    },
    "conflict_resolution": {
        "en": ("Conflict resolution", "Settle disputes locally and route the rest to the right place."),
        "zh": ("矛盾化解能力", "矛盾就地化解,责任对口,依法解决。"),
    },
    "information_processing": {
        "en": ("Information processing", "How fast and how openly information flows."),
        "zh": ("信息处理能力", "信息传得快、传得通、公开透明。"),
    },
}

# KPI key -> lang -> (name, unit); unit "%" means the value is a share shown in per cent.
KPI_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "cases_total": {"en": ("Cases", ""), "zh": ("案件数", "")},
    "resolved_share": {"en": ("Resolved", "%"), "zh": ("化解率", "%")},
    "escalated_share": {"en": ("Escalated", "%"), "zh": ("升级比例", "%")},
    "collective_incidents": {"en": ("Collective incidents", ""), "zh": ("群体性事件", "")},
    "major_incidents": {"en": ("Major incidents", ""), "zh": ("重大事件", "")},
    "median_hours_to_resolution": {"en": ("Median time to resolve", "h"),
                                   "zh": ("化解时间中位数", "小时")},
    "p90_hours_to_resolution": {"en": ("Slowest 10% take over", "h"),
                                "zh": ("最慢10%的化解时间", "小时")},
    "grassroots_resolution_share": {"en": ("Resolved at grassroots", "%"),
                                    "zh": ("基层化解率", "%")},
    "mean_detection_delay_hours": {"en": ("Time to detection", "h"), "zh": ("发现用时", "小时")},
    "detection_rate": {"en": ("Detected", "%"), "zh": ("发现率", "%")},
    "mean_trust": {"en": ("Trust in government", "%"), "zh": ("群众信任度", "%")},
    "safety_index": {"en": ("Safety index (0-100)", ""), "zh": ("平安指数(0-100)", "")},
    "staff_cost": {"en": ("Cost (million yuan / year)", ""), "zh": ("成本(百万元/年)", "")},
    "backlog": {"en": ("Open cases (backlog)", ""), "zh": ("积压案件", "")},
    "misrouted_share": {"en": ("Misrouted", "%"), "zh": ("错派比例", "%")},
    "staff_utilisation": {"en": ("Staff utilisation", "%"), "zh": ("人员负荷", "%")},
}

# +1: higher is better, -1: lower is better, 0: neither
KPI_GOOD: dict[str, int] = {
    "cases_total": 0, "resolved_share": 1, "escalated_share": -1, "collective_incidents": -1,
    "major_incidents": -1, "median_hours_to_resolution": -1, "p90_hours_to_resolution": -1,
    "grassroots_resolution_share": 1, "mean_detection_delay_hours": -1, "detection_rate": 1,
    "mean_trust": 1, "safety_index": 1, "staff_cost": -1, "backlog": -1, "misrouted_share": -1,
    "staff_utilisation": 0,
}

LAYER_TEXT: dict[str, dict[str, str]] = {
    "open_cases": {"en": "Open cases", "zh": "未结案件"},
    "escalation_risk": {"en": "Escalation risk", "zh": "升级风险"},
    "trust": {"en": "Trust in government", "zh": "群众信任度"},
    "staff_load": {"en": "Staff load", "zh": "人员负荷"},
    "residents": {"en": "Residents", "zh": "居民数"},
    "escalations": {"en": "Escalations so far", "zh": "累计升级"},
}

SEVERITY_TEXT: dict[str, tuple[str, ...]] = {
    "en": ("Minor", "Intensified", "Collective incident", "Major incident"),
    "zh": ("一般矛盾", "矛盾激化", "群体性事件", "重大事件"),
}
LEVEL_TEXT: dict[str, tuple[str, ...]] = {
    "en": ("On the spot (grid)", "Community mediation", "Street centre", "District department",
           "City department", "Court"),
    "zh": ("网格就地化解", "社区调解", "街道综治中心", "区县职能部门", "市级部门", "法院"),
}

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "City social-risk simulator", "zh": "市域社会治理风险模拟"},
    "subtitle": {"en": "Try a policy on a simulated city before spending money on it.",
                 "zh": "先在模拟城市里试一试政策,再决定投入。"},
    "scenario": {"en": "City scenario", "zh": "城市情景"},
    "scenario_tip": {"en": "Which city to simulate (files in scenarios/). Changing it restarts.",
                     "zh": "选择要模拟的城市(scenarios/ 中的文件);切换后重新开始。"},
    "residents": {"en": "{n} residents", "zh": "{n} 名居民"},
    "day": {"en": "Day {d}", "zh": "第 {d} 天"},
    "step": {"en": "Next day", "zh": "下一天"},
    "step_tip": {"en": "Simulate one more day with the levers as they are now.",
                 "zh": "按当前政策设置再模拟一天。"},
    "week": {"en": "Next week", "zh": "下一周"},
    "play": {"en": "Play", "zh": "连续运行"},
    "pause": {"en": "Pause", "zh": "暂停"},
    "reset": {"en": "Restart", "zh": "重新开始"},
    "reset_tip": {"en": "Start the scenario again from day 0 with the current lever settings.",
                  "zh": "用当前政策设置从第 0 天重新开始。"},
    "defaults": {"en": "Scenario's own settings", "zh": "恢复情景默认设置"},
    "defaults_tip": {"en": "Put every lever back to the value the scenario file sets.",
                     "zh": "把所有政策杠杆恢复为情景文件中的数值。"},
    "levers": {"en": "Policy levers", "zh": "政策杠杆"},
    "levers_tip": {"en": "Changes apply from the next simulated day.",
                   "zh": "调整后从下一天起生效。"},
    "changed": {"en": "changed", "zh": "已调整"},
    "scenario_value": {"en": "scenario: {v}", "zh": "情景默认:{v}"},
    "lever_error": {"en": "Not applied: {msg}", "zh": "未生效:{msg}"},
    "tab_live": {"en": "Live city", "zh": "实时运行"},
    "tab_compare": {"en": "My policy vs. scenario", "zh": "政策对比"},
    "tab_help": {"en": "How to read this", "zh": "使用说明"},
    "map": {"en": "City map", "zh": "城市地图"},
    "map_tip": {"en": "Each square is a grid (网格) of about 1,000 residents; thick lines are "
                        "district borders. Hover or click a square for its numbers.",
                "zh": "每个方格是一个网格(约1000名居民),粗线为区县边界;"
                      "鼠标悬停或点击方格可查看详细数据。"},
    "map_layer": {"en": "Colour the map by", "zh": "地图着色"},
    "grid_info": {"en": "Selected grid", "zh": "所选网格"},
    "grid_info_none": {"en": "Hover over or click a grid on the map.",
                       "zh": "在地图上悬停或点击一个网格。"},
    "grid_pos": {"en": "Row {r}, column {c}", "zh": "第 {r} 行,第 {c} 列"},
    "district": {"en": "District {d}", "zh": "第 {d} 区"},
    "kpis_now": {"en": "Key figures so far", "zh": "当前主要指标"},
    "chart_open": {"en": "Open cases by severity", "zh": "未结案件(按严重程度)"},
    "chart_level": {"en": "Where cases were resolved (cumulative)", "zh": "案件在哪一级化解(累计)"},
    "chart_time": {"en": "Time to resolution (hours)", "zh": "化解用时(小时)"},
    "chart_trust": {"en": "Trust in government (%)", "zh": "群众信任度(%)"},
    "chart_safety": {"en": "City safety index (0-100)", "zh": "市域平安指数(0-100)"},
    "chart_cost": {"en": "Cost (million yuan per year)", "zh": "成本(百万元/年)"},
    "median": {"en": "median", "zh": "中位数"},
    "p90": {"en": "slowest 10%", "zh": "最慢10%"},
    "axis_day": {"en": "day", "zh": "天"},
    "no_data": {"en": "Press “Next day” to start.", "zh": "点击“下一天”开始模拟。"},
    "save_png": {"en": "Save as picture", "zh": "保存为图片"},
    "export_png": {"en": "Download charts (PNG)", "zh": "下载图表(PNG)"},
    "export_csv": {"en": "Download key figures (CSV)", "zh": "下载指标表(CSV)"},
    "export_ts": {"en": "Download daily series (CSV)", "zh": "下载逐日数据(CSV)"},
    "cmp_intro": {"en": "Runs the city twice, with your levers and with the scenario's own "
                        "settings, on exactly the same random days (same seeds), several times. "
                        "The range shows how sure the difference is (90% interval).",
                  "zh": "用相同的随机种子把城市各运行两次:一次用您的政策设置,一次用情景默认设置,"
                        "并重复多次。括号内的范围表示差异的可信程度(90%区间)。"},
    "cmp_days": {"en": "Days to simulate", "zh": "模拟天数"},
    "cmp_reps": {"en": "Replications", "zh": "重复次数"},
    "cmp_run": {"en": "Compare", "zh": "开始对比"},
    "cmp_running": {"en": "Running {i} of {n} ...", "zh": "正在运行第 {i}/{n} 次……"},
    "cmp_cancel": {"en": "Cancel", "zh": "取消"},
    "cmp_same": {"en": "Your levers equal the scenario's own settings: move a lever first to see "
                       "a difference.",
                 "zh": "当前设置与情景默认设置相同:请先调整政策杠杆再对比。"},
    "cmp_changes": {"en": "Your changes", "zh": "您的调整"},
    "cmp_kpi": {"en": "Indicator", "zh": "指标"},
    "cmp_base": {"en": "Scenario settings", "zh": "情景默认"},
    "cmp_policy": {"en": "Your policy", "zh": "您的政策"},
    "cmp_diff": {"en": "Change (90% range)", "zh": "变化(90%区间)"},
    "cmp_verdict": {"en": "Verdict", "zh": "结论"},
    "better": {"en": "better", "zh": "改善"},
    "worse": {"en": "worse", "zh": "变差"},
    "unclear": {"en": "no clear change", "zh": "无明显变化"},
    "changed_kpi": {"en": "changed", "zh": "有变化"},
    "cmp_summary": {"en": "In short", "zh": "简要结论"},
    "cmp_chart": {"en": "Change against the scenario's own settings (%, 90% range)",
                  "zh": "相对情景默认设置的变化(%,90%区间)"},
    "cmp_error": {"en": "Compare failed: {msg}", "zh": "对比失败:{msg}"},
    "range": {"en": "{pct} ({lo} to {hi})", "zh": "{pct}({lo} 至 {hi})"},
    "lang": {"en": "中文", "zh": "English"},
    "lang_tip": {"en": "切换到中文", "zh": "Switch to English"},
    "error": {"en": "Error: {msg}", "zh": "错误:{msg}"},
    "help_md": {
        "en": "**What you see.** A simulated city. Every day residents get into disputes and "
              "risks arise (the five major risks 五大风险). Grid workers, cameras, volunteers and "
              "residents' reports bring them to light; grid workers, mediators, the street "
              "governance centre (综治中心), district and city departments and the courts "
              "handle them. A case nobody handles in time can grow into a collective or major "
              "incident.\n\n"
              "**What you can change.** The levers on the left, grouped by the four capacities "
              "of municipal social governance (风险防控, 资源整合, 矛盾化解, 信息处理). A change "
              "applies from the next simulated day; *Restart* starts again from day 0.\n\n"
              "**How to decide.** Open *My policy vs. scenario*: it runs the city with your "
              "levers and with the scenario's own settings on the same random days, several "
              "times, and tells you how each key figure changes and how sure that is.",
        "zh": "**您看到的是什么。** 一座模拟城市。每天都有居民之间的矛盾纠纷和各类风险"
              "(五大风险)产生;网格员巡查、视频监控、志愿者和群众反映让它们被发现;"
              "网格员、人民调解员、街道综治中心、区县和市级职能部门以及法院负责化解。"
              "没有及时处理的案件可能升级为群体性事件或重大事件。\n\n"
              "**您可以调整什么。** 左侧的政策杠杆,按市域社会治理的四种能力分组"
              "(风险防控、资源整合、矛盾化解、信息处理)。调整从下一天起生效;"
              "“重新开始”从第 0 天重新模拟。\n\n"
              "**如何决策。** 打开“政策对比”:它用相同的随机种子分别按您的设置和情景默认设置"
              "多次运行城市,告诉您每项主要指标变化多少、有多大把握。",
    },
}


def t(key: str, lang: str, **kw: object) -> str:
    """The text for ``key`` in ``lang`` (``"zh"`` or ``"en"``), formatted with ``kw``."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**kw) if kw else text


def lever_label(key: str, lang: str) -> str:
    """Short label of a lever (dotted key)."""
    return LEVER_TEXT[key][lang][0] if key in LEVER_TEXT else key.split(".")[-1]


def lever_tip(key: str, lang: str) -> str:
    """Tooltip of a lever, in the article's terms."""
    return LEVER_TEXT[key][lang][1] if key in LEVER_TEXT else ""


def kpi_name(key: str, lang: str) -> str:
    """Display name of a KPI."""
    return KPI_TEXT[key][lang][0] if key in KPI_TEXT else key


def kpi_unit(key: str, lang: str) -> str:
    """Unit of a KPI ("%" for shares shown as per cent, "" for counts)."""
    return KPI_TEXT[key][lang][1] if key in KPI_TEXT else ""


def capacity_label(key: str, lang: str) -> tuple[str, str]:
    """(title, one-line description) of one of the four capacities."""
    return CAPACITY_TEXT[key][lang]


def layer_label(key: str, lang: str) -> str:
    """Display name of a map layer."""
    return LAYER_TEXT[key][lang] if key in LAYER_TEXT else key
