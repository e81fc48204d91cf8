"""The "My policy vs. scenario" tab: paired runs with common random numbers, differences with
90% intervals, plain-language sentences, a bar chart and a CSV of the table."""

from __future__ import annotations

import csv
import html
import io
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import solara

from .compare import (
    KpiDiff,
    bar_option,
    change_text,
    run_policies,
    summarise,
    summary,
    to_rows,
)
from .echart import EChart
from .i18n import kpi_name, lever_label, t
from .levers import fmt_lever
from .session import AppSession

DAY_CHOICES = (30, 90, 180, 365)
REP_CHOICES = (3, 5, 10, 20)
VERDICT_COLOUR = {"better": "#2e7d32", "worse": "#c62828", "unclear": "#757575",
                  "negligible": "#757575", "changed_kpi": "#1565c0"}


@dataclass
class CompareResult:
    """What one compare run produced (language-free; rendered in the current language)."""

    scenario: str
    days: int
    replications: int
    params: dict[str, Any]
    diffs: list[KpiDiff] = field(default_factory=list)
    error: str = ""
    # several policies: (name, lever changes, diffs against the scenario) each
    policies: list[tuple[str, dict[str, Any], list[KpiDiff]]] = field(default_factory=list)


MAX_POLICIES = 4
POLICY_NAMES = ("A", "B", "C", "D")


def multi_table_html(res: CompareResult, lang: str) -> str:
    """Several policies side by side: one row per indicator, one column per policy (change
    against the scenario with its 90% range, coloured by verdict)."""
    if not res.policies:
        return ""
    head = "".join(f"<th style='text-align:left;padding:4px 8px;border-bottom:2px solid #999'>"
                   f"{html.escape(t('cmp_policy_n', lang, n=name))}</th>"
                   for name, _, _ in res.policies)
    out = ["<table class='cr-cmp-multi' style='border-collapse:collapse;width:100%'><tr>"
           f"<th style='text-align:left;padding:4px 8px;border-bottom:2px solid #999'>"
           f"{html.escape(t('cmp_kpi', lang))}</th>{head}</tr>"]
    for i, d0 in enumerate(res.policies[0][2]):
        cells = []
        for _, _, diffs in res.policies:
            d = diffs[i]
            cells.append(f"<td style='padding:4px 8px;border-bottom:1px solid #ddd;"
                         f"color:{VERDICT_COLOUR[d.verdict()]}'>"
                         f"{html.escape(change_text(d, lang))}</td>")
        out.append(f"<tr><td style='padding:4px 8px;border-bottom:1px solid #ddd'>"
                   f"{html.escape(kpi_name(d0.key, lang))}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


def table_html(diffs: list[KpiDiff], lang: str) -> str:
    """The comparison table as HTML, verdicts coloured."""
    rows = to_rows(diffs, lang)
    if not rows:
        return ""
    heads = list(rows[0])
    out = ["<table class='cr-cmp-table' style='border-collapse:collapse;width:100%'>", "<tr>"]
    out += [f"<th style='text-align:left;padding:4px 8px;border-bottom:2px solid #999'>"
            f"{html.escape(h)}</th>" for h in heads]
    out.append("</tr>")
    for d, row in zip(diffs, rows, strict=True):
        colour = VERDICT_COLOUR[d.verdict()]
        out.append("<tr>")
        for i, h in enumerate(heads):
            style = "padding:4px 8px;border-bottom:1px solid #ddd"
            if i == len(heads) - 1:
                style += f";color:{colour};font-weight:600"
            out.append(f"<td style='{style}'>{html.escape(str(row[h]))}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def table_csv(result: CompareResult, lang: str) -> str:
    """The comparison as CSV (display strings plus raw numbers)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    rows = to_rows(result.diffs, lang)
    heads = list(rows[0]) if rows else []
    w.writerow(["key", *heads, "base_mean", "policy_mean", "diff", "diff_lo90", "diff_hi90",
                "rel", "rel_lo90", "rel_hi90", "replications", "days"])
    for d, row in zip(result.diffs, rows, strict=True):
        w.writerow([d.key, *row.values(), d.base, d.policy, d.diff, d.diff_lo, d.diff_hi,
                    d.rel, d.rel_lo, d.rel_hi, d.n, result.days])
    for key, val in result.params.items():
        w.writerow([key, lever_label(key, lang), val])
    return buf.getvalue()


def summary_html(diffs: list[KpiDiff], lang: str) -> str:
    """The plain-language summary as an HTML list, coloured by verdict."""
    items = []
    for text, verdict in summary(diffs, lang):
        tail = f" — {t(verdict, lang)}" if verdict in ("better", "worse") else ""
        weight = "600" if verdict in ("better", "worse") else "400"
        items.append(f"<li style='color:{VERDICT_COLOUR[verdict]};font-weight:{weight};"
                     f"margin:2px 0'>{html.escape(text + tail)}</li>")
    return "<ul class='cr-cmp-lines' style='font-size:16px;margin:0'>" + "".join(items) + "</ul>"


@solara.component
def CompareView(session: AppSession, lang: str, lever_version: solara.Reactive) -> None:
    """Run both arms in a background thread and show the comparison."""
    _ = lever_version.value  # re-render when levers change (the "your changes" list)
    days, set_days = solara.use_state(90)
    reps, set_reps = solara.use_state(5)
    # the last result lives in the session, so a tab switch (which unmounts this view) keeps it
    result: solara.Reactive[CompareResult | None] = solara.use_reactive(session.compare)
    progress = solara.use_reactive((0, 0))
    cancel = solara.use_memo(threading.Event, [])
    # leaving the tab (or closing the page) stops a running compare instead of orphaning it
    solara.use_effect(lambda: cancel.set, [])

    saved: solara.Reactive[list[tuple[str, dict[str, Any]]]] = solara.use_reactive(
        session.policies)

    def work() -> None:
        params = session.changed_levers()
        chosen = list(saved.value) or [("", params)]
        res = CompareResult(session.scenario_name, days, reps, params)
        cancel.clear()

        def on_progress(done: int, total: int) -> bool:
            if cancel.is_set():  # the view is gone (tab switch, page closed): stop quietly
                print(f"cityrisk app: compare stopped, its view was closed ({done} of {total} "
                      "runs done)", file=sys.stderr, flush=True)
                return False
            progress.set((done, total))
            return True

        try:
            base, arms = run_policies(session.bk.run, session.scenario,
                                      [p for _, p in chosen], days, reps, on_progress)
            res.policies = [(name, p, summarise(base, arm))
                            for (name, p), arm in zip(chosen, arms, strict=True)]
            res.diffs = res.policies[0][2]
            if saved.value:
                res.params = dict(chosen[0][1])
        except Exception as exc:  # shown on the page, not a traceback
            res.error = str(exc)
        if cancel.is_set():
            return
        session.compare = res
        result.set(res)

    task = solara.lab.use_task(work, dependencies=None, prefer_threaded=True)
    changed = session.changed_levers()

    def add_policy() -> None:
        if len(saved.value) < MAX_POLICIES and changed:
            session.policies = [*saved.value, (POLICY_NAMES[len(saved.value)], dict(changed))]
            saved.set(session.policies)

    def clear_policies() -> None:
        session.policies = []
        saved.set([])

    with solara.Column(classes=["cr-compare"]):
        solara.Markdown(t("cmp_intro", lang))
        with solara.Card(t("cmp_changes", lang)):
            if not changed:
                solara.Warning(t("cmp_same", lang))
            for key, val in changed.items():
                old = fmt_lever(key, session.defaults[key], lang)
                solara.Text(f"• {lever_label(key, lang)}: {old} → {fmt_lever(key, val, lang)}")
        with solara.Card(t("cmp_policies", lang), classes=["cr-cmp-policies"]):
            solara.Text(t("cmp_policies_tip", lang), style={"font-size": "12px", "color": "#555"})
            for name, params in saved.value:
                parts = ", ".join(f"{lever_label(k, lang)} {fmt_lever(k, val, lang)}"
                                  for k, val in params.items())
                solara.Text(f"{t('cmp_policy_n', lang, n=name)}: {parts}",
                            classes=["cr-cmp-saved"])
            with solara.Row():
                solara.Button(t("cmp_add", lang), on_click=add_policy, outlined=True,
                              disabled=not changed or len(saved.value) >= MAX_POLICIES,
                              classes=["cr-cmp-add"])
                if saved.value:
                    solara.Button(t("cmp_clear", lang), on_click=clear_policies, text=True,
                                  classes=["cr-cmp-clear"])
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(t("cmp_days", lang), values=list(DAY_CHOICES), value=days,
                          on_value=set_days, style={"max-width": "160px"}, classes=["cr-cmp-days"])
            solara.Select(t("cmp_reps", lang), values=list(REP_CHOICES), value=reps,
                          on_value=set_reps, style={"max-width": "160px"}, classes=["cr-cmp-reps"])
            solara.Button(t("cmp_run", lang), color="primary", on_click=task,
                          disabled=task.pending or not (changed or saved.value),
                          classes=["cr-cmp-run"])
            if task.pending:
                solara.Button(t("cmp_cancel", lang), on_click=cancel.set, text=True)
        if task.pending:
            done, total = progress.value
            solara.ProgressLinear(value=100 * done / total if total else True)
            solara.Text(t("cmp_running", lang, i=min(done + 1, total or 1), n=total or 2 * reps))
        res: CompareResult | None = result.value
        if res is None:
            return
        if res.error:
            solara.Error(t("cmp_error", lang, msg=res.error))
            return
        if res.scenario != session.scenario_name:
            return
        if len(res.policies) > 1:
            with solara.Card(t("cmp_summary", lang), classes=["cr-cmp-summary"]):
                solara.Text(t("cmp_setup", lang, days=res.days, reps=res.replications),
                            style={"color": "#555"})
                solara.HTML(tag="div", unsafe_innerHTML=multi_table_html(res, lang))
            return
        if res.params != changed:
            solara.Warning(t("cmp_stale", lang), classes=["cr-cmp-stale"])
        with solara.Card(t("cmp_summary", lang), classes=["cr-cmp-summary"]):
            solara.Text(t("cmp_setup", lang, days=res.days, reps=res.replications),
                        style={"color": "#555"})
            solara.HTML(tag="div", unsafe_innerHTML=summary_html(res.diffs, lang))
        EChart(bar_option(res.diffs, lang), height="420px", css_class="cr-cmp-chart")
        solara.HTML(tag="div", unsafe_innerHTML=table_html(res.diffs, lang))
        solara.FileDownload(lambda: table_csv(res, lang),
                            filename=f"cityrisk-compare-{res.scenario}.csv",
                            label=t("export_csv", lang), mime_type="text/csv")
