"""Chinese and English text of the policymaker app.

Every label, tooltip and chart title the page shows comes from here, so the page is fully
switchable between 中文 and English. Lever tooltips explain each lever in the terms of the seed
article (市域社会治理现代化): 多网合一, 枫桥经验, 雪亮工程, 群防群治, 综治中心, 三级联动 ...
"""

from __future__ import annotations

from ..outcomes import registry
from .i18n_levers import CAPACITIES, CAPACITY_TEXT, LEVER_TEXT

__all__ = ["CAPACITIES", "CAPACITY_TEXT", "LANGS", "LEVER_TEXT", "STRINGS", "UNIT_TEXT",
           "kpi_help", "kpi_name", "kpi_title", "kpi_unit", "t"]

LANGS: tuple[str, ...] = ("zh", "en")

# How the app shows each registry unit (the registry says what a KPI is; this says how the page
# prints it): shares and 0-1 scores in per cent, costs in million yuan.
UNIT_TEXT: dict[str, dict[str, str]] = {
    "share": {"en": "%", "zh": "%"},
    "score": {"en": "%", "zh": "%"},
    "hours": {"en": "h", "zh": "小时"},
    "yuan": {"en": "million yuan", "zh": "百万元"},
}

LAYER_TEXT: dict[str, dict[str, str]] = {
    "open_cases": {"en": "Open cases", "zh": "未结案件"},
    "escalation_risk": {"en": "Escalation risk per day", "zh": "每日升级风险"},
    "trust": {"en": "Trust in government", "zh": "群众信任度"},
    "staff_load": {"en": "Cases per grid worker", "zh": "网格员人均案件"},
    "residents": {"en": "Residents", "zh": "居民数"},
    "escalations": {"en": "Escalations so far", "zh": "累计升级"},
    "warning": {"en": "Early warning (risk percentile)", "zh": "预测预警(风险百分位)"},
}

# Display names of the shipped scenarios (files in scenarios/); others show their file name.
SCENARIO_TEXT: dict[str, dict[str, str]] = {
    "town": {"en": "Town (100,000 residents)", "zh": "小城镇(10万人)"},
    "baseline": {"en": "City (1 million residents)", "zh": "基准城市(100万人)"},
    "xian": {"en": "Xi'an scale (13 million residents)", "zh": "西安规模(1300万人)"},
    "fengqiao": {"en": "Fengqiao experience (more mediators)", "zh": "枫桥经验(加强调解)"},
    "merged_grids": {"en": "One all-purpose grid (多网合一)", "zh": "多网合一"},
    "shared_platform": {"en": "Shared data platform", "zh": "数据共享平台"},
    "smart_video": {"en": "Sharp Eyes video + volunteers", "zh": "雪亮工程 + 群防群治"},
    "clear_responsibility": {"en": "Clear responsibility (责任对口)", "zh": "责任对口"},
    "spring_festival_arrears": {"en": "Wage-arrears shock before Spring Festival",
                                "zh": "春节前欠薪冲击"},
    "understaffed": {"en": "Understaffed city", "zh": "人手不足"},
    "boston": {"en": "Boston 311 (calibration)", "zh": "波士顿 311(校准用)"},
}

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "City social-risk simulator", "zh": "市域社会治理风险模拟"},
    "subtitle": {"en": "Try a policy on a simulated city before spending money on it: "
                       "① move the levers on the left, ② press “Next day” or “Play” and watch "
                       "the city, ③ open “My policy vs. scenario” for the verdict.",
                 "zh": "先在模拟城市里试一试政策,再决定投入:① 调整左侧的政策杠杆;"
                       "② 点击“下一天”或“连续运行”观察城市变化;③ 打开“政策对比”查看结论。"},
    "cmp_stale": {"en": "The levers have changed since this comparison: press “Compare” again.",
                  "zh": "政策杠杆在本次对比后已调整,请重新点击“开始对比”。"},
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
    "scenario_value": {"en": "Scenario value: {v}", "zh": "情景默认值:{v}"},
    "now_value": {"en": "now {v}", "zh": "当前 {v}"},
    "lever_error": {"en": "Not applied: allowed values are {lo} to {hi}.",
                    "zh": "未生效:允许范围为 {lo} 至 {hi}。"},
    "lever_error_int": {"en": "Not applied: enter a whole number from {lo} to {hi}.",
                        "zh": "未生效:请输入 {lo} 至 {hi} 之间的整数。"},
    "budget_cut": {"en": "Budget cap of {cap} million yuan a year: staff cut to fit ({cuts}).",
                   "zh": "预算上限每年 {cap} 百万元:人员已按预算削减({cuts})。"},
    "goal": {"en": "Run to day", "zh": "运行到第几天"},
    "goal_run": {"en": "Run", "zh": "运行"},
    "goal_error": {"en": "enter a day from 1 to 3650", "zh": "请输入 1 至 3650 之间的天数"},
    "year": {"en": "One year", "zh": "运行一年"},
    "speed": {"en": "Speed", "zh": "速度"},
    "speed_n": {"en": "{n} days per second", "zh": "每秒 {n} 天"},
    "fastest": {"en": "Fastest", "zh": "最快"},
    "running_to": {"en": "Running to day {d}…", "zh": "正在运行到第 {d} 天…"},
    "share": {"en": "Save and share", "zh": "保存与分享"},
    "share_tip": {"en": "The page address holds the scenario, language and your lever settings: "
                         "bookmark it or send it. Or save the settings as a file and load it "
                         "back later.",
                  "zh": "页面地址包含情景、语言和您的杠杆设置:可收藏或发送。也可将设置保存为文件,"
                        "日后再载入。"},
    "settings_save": {"en": "Save settings (file)", "zh": "保存设置(文件)"},
    "settings_load": {"en": "Drop a settings file here to load it", "zh": "将设置文件拖到此处载入"},
    "cmp_policies": {"en": "Policies side by side", "zh": "多方案并列对比"},
    "cmp_policies_tip": {"en": "Set the levers, press “Add as a policy”, change them and add "
                               "again (up to 4). Compare then runs each against the scenario "
                               "with the same random numbers.",
                         "zh": "调整杠杆后点击“添加为方案”,再调整再添加(最多 4 个)。对比时每个方案都与情景"
                               "默认设置以相同随机数配对运行。"},
    "cmp_policy_n": {"en": "Policy {n}", "zh": "方案 {n}"},
    "cmp_add": {"en": "Add as a policy", "zh": "添加为方案"},
    "cmp_clear": {"en": "Clear policies", "zh": "清除方案"},
    "band": {"en": "Range over {n} runs", "zh": "{n} 次运行的范围"},
    "bands": {"en": "Show the range over 5 runs (slower)", "zh": "显示 5 次运行的范围(较慢)"},
    "bands_tip": {"en": "Runs the city 4 more times with other random numbers and the same "
                        "levers, and shades the range of the results: how much is chance.",
                  "zh": "以相同杠杆、不同随机数再运行 4 次,阴影显示结果范围:体现偶然性的大小。"},
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
    "grid_stories": {"en": "Recent stories (resident: channels tried — outcome)",
                     "zh": "近期居民经历(居民:所选渠道 — 结果)"},
    "district": {"en": "District {d}", "zh": "第 {d} 区"},
    "kpis_now": {"en": "Key figures so far", "zh": "当前主要指标"},
    "chart_open": {"en": "Open cases by severity", "zh": "未结案件(按严重程度)"},
    "chart_level": {"en": "Where cases were resolved (cumulative)", "zh": "案件在哪一级化解(累计)"},
    "chart_time": {"en": "Time to resolution (hours)", "zh": "化解用时(小时)"},
    "chart_cost": {"en": "Staff cost (million yuan per year)", "zh": "人员成本(百万元/年)"},
    "axis_day": {"en": "day", "zh": "天"},
    "no_data": {"en": "Press “Next day” to start.", "zh": "点击“下一天”开始模拟。"},
    "saturated": {"en": "Saturated: {levels}. Staff there were busy ≥ 95% of the last 28 days and the "
                        "queue keeps growing, so waits and escalations grow with every day simulated.",
                  "zh": "已饱和:{levels}。近28天人员负荷≥95%且排队持续增长,等待时间和由此引发的升级会随模拟天数增加。"},
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
    "negligible": {"en": "change under 1%", "zh": "变化小于1%"},
    "changed_kpi": {"en": "changed", "zh": "有变化"},
    "cmp_summary": {"en": "In short", "zh": "简要结论"},
    "cmp_setup": {"en": "{days} simulated days, {reps} paired runs each.",
                  "zh": "每种设置模拟 {days} 天,配对运行 {reps} 次。"},
    "cmp_chart": {"en": "Change against the scenario's own settings (%, 90% range)",
                  "zh": "相对情景默认设置的变化(%,90%区间)"},
    "cmp_error": {"en": "Compare failed: {msg}", "zh": "对比失败:{msg}"},
    "no_clear": {"en": "No clear change (or under 1%): {names}.",
                 "zh": "无明显变化(或变化小于1%):{names}。"},
    "cost_per": {"en": "Each collective incident avoided costs about {v} million yuan of extra "
                       "staff over the period.",
                 "zh": "在模拟期内,每减少一起群体性事件,约需增加人员成本 {v} 百万元。"},
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
    """Display name of a KPI (its label in the outcomes registry; the key when undeclared)."""
    return registry.label(key, lang)


def kpi_unit(key: str, lang: str) -> str:
    """Unit of a KPI as the page shows it ("%" for shares and scores, "" for counts)."""
    return UNIT_TEXT.get(registry.unit(key), {}).get(lang, "")


def kpi_title(key: str, lang: str) -> str:
    """Chart title of a KPI: its name with the unit the page shows, e.g. "群众信任度(%)"."""
    name, u = kpi_name(key, lang), kpi_unit(key, lang)
    if not u:
        return name
    return f"{name}({u})" if lang == "zh" else f"{name} ({u})"


def kpi_help(key: str, lang: str) -> str:
    """Hover text of a KPI: its one-sentence definition from the registry ("" if undeclared)."""
    return registry.get(key).describe(lang) if registry.is_declared(key) else ""


def capacity_label(key: str, lang: str) -> tuple[str, str]:
    """(title, one-line description) of one of the four capacities."""
    return CAPACITY_TEXT[key][lang]


def scenario_label(name: str, lang: str) -> str:
    """Display name of a scenario."""
    return SCENARIO_TEXT[name][lang] if name in SCENARIO_TEXT else name


def layer_label(key: str, lang: str) -> str:
    """Display name of a map layer."""
    return LAYER_TEXT[key][lang] if key in LAYER_TEXT else key
