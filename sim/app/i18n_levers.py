"""Lever and capacity text (zh/en) of the policymaker app, in the seed article's terms.

Each lever's tooltip explains it with the article's vocabulary (多网合一, 枫桥经验, 雪亮工程,
群防群治, 综治中心, 三级联动 ...); the levers are grouped by its four capacities (四种能力).
"""

from __future__ import annotations

from ..config.levers import LEVER_INFO
from ..outcomes.registry import CAPACITY_LABELS

# The article's four capacities (四种能力), each with the levers that build it: the groups of
# the one lever table (sim/config/levers.py), in its order.
CAPACITIES: dict[str, tuple[str, ...]] = {
    cap: tuple(f"levers.{name}" for name, info in LEVER_INFO.items() if info.group == cap)
    for cap in ("risk_prevention", "resource_integration", "conflict_resolution", "information_processing")
}

# lever key -> lang -> (label, tooltip)
LEVER_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "levers.grid_workers_per_grid": {
        "en": ("Grid workers per grid",
               "Full-time grid workers (网格员) in each grid "
               "of about 1,000 residents. They patrol, "
               "spot disputes early, settle minor ones on "
               "the spot and report the rest: the base of "
               "the all-purpose grid (全科网格) and of the Fengqiao experience (枫桥经验)."),
        "zh": ("每个网格的网格员",
               "每个网格(约1000名居民)配备的专职网格员:巡查走访、早发现早报告,小矛盾就地化解,"
               "其余上报。是“全科网格”和新时代“枫桥经验”的基础。"),
    },
    "levers.screening_per_week": {
        "en": ("Proactive dispute screening (visits per week)",
               "Door-to-door screening visits per grid per "
               "week that look for hidden disputes before "
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
               "How many residents and volunteers join "
               "patrols and report problems (mass prevention "
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
               "Staff of each street's comprehensive "
               "governance centre (综治中心): triage, dispatch "
               "and follow-up of cases. The street tier of "
               "the three-level linkage city / district / "
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
               "know and to supervise). Openness builds "
               "trust, and trust makes people report early."),
        "zh": ("信息公开程度",
               "案件及处理结果向群众公开的程度(信息公开办法,保障知情权、监督权);"
               "公开提升信任,信任让群众更早反映问题。"),
    },
    "levers.linkage": {
        "en": ("Three-level linkage (三级联动)",
               "How much of the imbalance between its streets' backlogs the district moves each "
               "day: waiting cases go from overloaded streets to streets with spare handlers "
               "(city, district and street acting as one, 三级联动)."),
        "zh": ("三级联动",
               "区县每天在街道之间调配积压案件的程度:把排队案件从负荷过重的街道转给有余力的街道,"
               "市、区、街三级联动。"),
    },
    "levers.prevention_million_yuan": {
        "en": ("Prevention at the source (million yuan a year)",
               "Spending on preventing disputes before they arise (源头治理: labour inspection, "
               "neighbourhood services, early counselling). Fewer preventable disputes emerge, with "
               "diminishing returns; the money counts in the cost."),
        "zh": ("源头治理投入(百万元/年)",
               "用于从源头预防矛盾纠纷的投入(劳动监察、社区服务、早期疏导等):可预防类矛盾的发生减少,"
               "边际效益递减;投入计入成本。"),
    },
    "levers.warning_response_visits_per_week": {
        "en": ("Pre-emptive visits on warnings (per week)",
               "Early warning (预测预警): each week the platform ranks every grid by its risk of an "
               "escalation in the coming weeks, from reported cases, backlogs and a trust survey. "
               "This many top-ranked grids get a mediator's visit that calms tensions and finds "
               "hidden disputes; each visit costs mediator time. 0 = warnings are not acted on."),
        "zh": ("按预警上门走访(次/周)",
               "预测预警:平台每周根据上报案件、积压和信任度抽样调查,对每个网格未来几周矛盾升级的风险排序;"
               "排名最高的这些网格将由调解员上门走访,疏导情绪、排查隐患;每次走访计入调解员工时成本。"
               "0 表示不根据预警采取行动。"),
    },
}

# What each capacity's levers do (the capacity names themselves are the outcomes registry's).
_CAPACITY_TIPS: dict[str, dict[str, str]] = {
    "risk_prevention": {"en": "Find risks early: patrols, screening, cameras, volunteers.",
                        "zh": "早发现、早预警:巡查、排查、视频监控、群防群治。"},
    "resource_integration": {"en": "Staff and platforms shared across departments and levels.",
                             "zh": "整合人力、物力、财力,多网合一,三级联动。"},
    "conflict_resolution": {"en": "Settle disputes locally and route the rest to the right place.",
                            "zh": "矛盾就地化解,责任对口,依法解决。"},
    "information_processing": {"en": "How fast and how openly information flows.",
                               "zh": "信息传得快、传得通、公开透明。"},
}
# capacity -> lang -> (title, one-line description)
CAPACITY_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    cap: {lang: (CAPACITY_LABELS[cap][lang], tip) for lang, tip in tips.items()}
    for cap, tips in _CAPACITY_TIPS.items()
}
