"""The policymaker page (Solara). Serve it with ``cityrisk app`` or
``solara run sim.app.app --host 127.0.0.1 --port 8765 --production``.

Mesa's SolaraViz pattern, extended for a policymaker: the model lives in a per-session reactive
holder (here :class:`~sim.app.session.AppSession`, built inside the page component with
``solara.use_memo``, never at module level), a controller steps it (Next day / Next week /
Play in a background task / Restart, like SolaraViz's ``ModelController``) and components
re-render from a counter bumped after each step (SolaraViz's ``update_counter``). Unlike
SolaraViz's ``model_params`` (applied only on Reset), levers are written to the running model at
once, and all chrome (buttons, labels, tooltips, chart titles) is translated (SolaraViz's own
sidebar is English-only, and ``mesa.visualization`` needs Mesa's ``viz`` extra, altair).

Defaults come from the environment (set by ``cityrisk app``): ``CITYRISK_APP_SCENARIO``,
``CITYRISK_APP_LANG``; a page URL may override them with ``?scenario=town&lang=en``, where the
scenario must be a name from the scenario list (never a path: see docs/security.md). Errors show
as one line on the page; tracebacks go to the server log.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import solara
import solara.lab

from sim.config.params import ScenarioError

from .compare_view import CompareView
from .i18n import LANGS, scenario_label, t
from .levers import LeverPanel
from .live import LiveView
from .pacing import FRAME_SECONDS, PLAYERS
from .session import AppSession, backend, check_scenario_choice, page_error
from .share import levers_from_query, read_settings, settings_json
from .urlbar import UrlQuery

SPEEDS: tuple[int, ...] = (1, 5, 20, 0)  # days per second; 0 = as fast as the machine goes
YEAR = 365
# a page away this long (tab closed, not a reconnect) stops play; 10 s was too short: with ten
# sessions playing at once on 2 slow cores a page's websocket took longer to come back (CI, 2 Dec)
DISCONNECT_GRACE_SECONDS = 60.0


CSS = """
.cr-lever { margin: 2px 0 6px 0; }
.cr-cap .v-expansion-panel-content__wrap { padding: 0 8px 8px 8px; }
.cr-cap .v-expansion-panel-header { min-height: 40px; padding: 8px; }
.cr-day { font-size: 18px; font-weight: 600; }
.solara-content-main { padding-left: 12px !important; padding-right: 12px !important; }
.cr-exact input { text-align: right; }
.cr-tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.cr-tile { flex: 1 1 140px; padding: 8px 12px; border-radius: 4px; background: #fff;
           box-shadow: 0 1px 3px rgba(0,0,0,.2); }
.cr-tile-name { font-size: 12px; color: #555; }
.cr-tile-value { font-size: 22px; font-weight: 600; }
.cr-muted { color: #666; }
.v-tooltip__content { max-width: 440px; }
.cr-grid-table td { padding: 2px 8px 2px 0; font-size: 13px; }
"""


def default_scenario(names: list[str]) -> str:
    """The scenario to open: $CITYRISK_APP_SCENARIO, else "town", else the first one."""
    env = os.environ.get("CITYRISK_APP_SCENARIO", "")
    if env:
        return env
    return "town" if "town" in names else (names[0] if names else "baseline")


def default_lang() -> str:
    """$CITYRISK_APP_LANG if it is zh or en, else zh."""
    lang = os.environ.get("CITYRISK_APP_LANG", "zh")
    return lang if lang in LANGS else "zh"


def _page_connected(grace_seconds: float = DISCONNECT_GRACE_SECONDS) -> Callable[[], bool]:
    """A function telling whether a browser page of this session is still connected, or was
    within the last ``grace_seconds``: a websocket that drops and reconnects (a loaded server, a
    network blip) must not stop the play loop, or the user's next Pause click would restart it."""
    try:
        from solara.server import kernel_context

        ctx = kernel_context.get_current_context()
        connected = kernel_context.PageStatus.CONNECTED
    except Exception:  # no server (tests) or a changed solara internal: assume connected
        return lambda: True
    last_seen = [time.monotonic()]

    def check() -> bool:
        now = time.monotonic()
        if connected in ctx.page_status.values():
            last_seen[0] = now
        return now - last_seen[0] <= grace_seconds

    return check


def _query() -> dict[str, str]:
    search = solara.use_router().search or ""
    return {k: v[0] for k, v in parse_qs(search).items() if v}


@solara.component
def DayCounter(session: AppSession, lang: str, sim_version: solara.Reactive) -> None:
    """"Day N" in the app bar; re-rendered after each step."""
    version = sim_version.value
    # runs once the render pass that showed this version is done (the play loop waits for it)
    solara.use_effect(session.rendered.set, [version])
    solara.Text(t("day", lang, d=session.day), classes=["cr-day"])


@solara.component
def Controls(session: AppSession, lang: str, sim_version: solara.Reactive,
             lever_version: solara.Reactive, playing: solara.Reactive) -> None:
    """Next day / Next week / Play-Pause / Restart, run to day N, speed, scenario picker."""
    error = solara.use_reactive("")
    target: solara.Reactive[int | None] = solara.use_reactive(None)  # run-to day, or None
    speed = solara.use_reactive(5)
    goal_text = solara.use_reactive("30")
    # read so the picker re-renders after a switch even when nothing else changes (paused)
    _ = lever_version.value
    names = solara.use_memo(lambda: list(session.bk.scenario_names()), [])
    if session.scenario_name not in names:  # opened from a .toml path
        names = [*names, session.scenario_name]

    def bump() -> None:
        sim_version.set(sim_version.value + 1)

    def step(days: int) -> None:
        t0 = time.perf_counter()
        try:
            session.step(days)
            error.set("")
        except Exception as exc:  # one line on the page, traceback in the server log
            error.set(t("error", lang, msg=page_error(exc)))
        t1 = time.perf_counter()
        bump()
        if os.environ.get("CITYRISK_APP_TIMING"):
            print(f"TIMING step {t1 - t0:.4f} render {time.perf_counter() - t1:.4f}",
                  file=sys.stderr, flush=True)

    connected = solara.use_memo(_page_connected, [])

    def play_loop() -> None:
        with PLAYERS.playing():
            play_frames()

    def play_frames() -> None:
        while playing.value:
            if not connected():  # the tab was closed: stop instead of simulating for nobody
                print(f"cityrisk app: no page connected for {DISCONNECT_GRACE_SECONDS:.0f} s; "
                      "play stopped", file=sys.stderr, flush=True)
                playing.set(False)
                return
            goal = target.value
            if goal is not None and session.day >= goal:
                playing.set(False)
                target.set(None)
                return
            t0 = time.perf_counter()
            try:
                # several days per redraw when fast: the page shows about FRAME_SECONDS apart
                days = 0
                while days == 0 or (speed.value == 0 and time.perf_counter() - t0 < FRAME_SECONDS
                                    and (goal is None or session.day < goal)):
                    session.step(1)
                    days += 1
            except Exception as exc:
                error.set(t("error", lang, msg=page_error(exc)))
                playing.set(False)
                return
            # wait until the page has shown this day before the next, else a slow render is
            # re-triggered on every pass ("too many renders")
            session.rendered.clear()
            bump()
            session.rendered.wait(timeout=30)
            # the speed's pause, or longer while many sessions play (each leaves the others a share)
            time.sleep(PLAYERS.rest(speed.value, time.perf_counter() - t0, days))

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def run_to(day: int | None) -> None:
        if day is None or day <= session.day:
            return
        target.set(day)
        playing.set(True)

    def run_to_text(text: str | None) -> None:
        goal_text.set(text or "")
        try:
            day = int(float((text or "").strip()))
        except ValueError:
            error.set(t("error", lang, msg=t("goal_error", lang)))
            return
        if not 1 <= day <= 10 * YEAR:
            error.set(t("error", lang, msg=t("goal_error", lang)))
            return
        error.set("")
        run_to(day)

    def restart() -> None:
        target.set(None)
        playing.set(False)
        session.reset()
        bump()

    def pick(name: str) -> None:
        playing.set(False)
        try:
            session.set_scenario(name)
            error.set("")
        except Exception as exc:
            error.set(t("error", lang, msg=page_error(exc)))
        bump()
        lever_version.set(lever_version.value + 1)

    with solara.Column(gap="6px", classes=["cr-controls"]):
        with solara.Tooltip(t("scenario_tip", lang)):
            solara.v.Select(label=t("scenario", lang), v_model=session.scenario_name,
                            items=[{"text": scenario_label(n, lang), "value": n} for n in names],
                            on_v_model=pick, class_="cr-scenario", hide_details=True)
        solara.Text(t("residents", lang, n=f"{session.residents:,}"),
                    style={"font-size": "12px", "color": "#555"})
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            with solara.Tooltip(t("step_tip", lang)):
                solara.Button(t("step", lang), color="primary", on_click=lambda: step(1),
                              disabled=playing.value, classes=["cr-step"])
            solara.Button(t("week", lang), on_click=lambda: step(7), disabled=playing.value,
                          classes=["cr-week"])
            solara.Button(t("pause", lang) if playing.value else t("play", lang),
                          on_click=lambda: (target.set(None), playing.set(not playing.value)),
                          classes=["cr-play"])
            with solara.Tooltip(t("reset_tip", lang)):
                solara.Button(t("reset", lang), on_click=restart, outlined=True,
                              classes=["cr-reset"])
        with solara.Row(gap="4px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputText(t("goal", lang), value=goal_text.value, on_value=run_to_text,
                             continuous_update=False, classes=["cr-goal"],
                             style={"max-width": "110px"}, disabled=playing.value)
            solara.Button(t("goal_run", lang), disabled=playing.value, classes=["cr-goal-run"],
                          on_click=lambda: run_to_text(goal_text.value), small=True)
            solara.Button(t("year", lang), disabled=playing.value, classes=["cr-year"],
                          on_click=lambda: run_to(session.day + YEAR), small=True)
        solara.v.Select(label=t("speed", lang), v_model=speed.value, on_v_model=speed.set,
                        items=[{"text": t("speed_n", lang, n=n) if n else t("fastest", lang),
                                "value": n} for n in SPEEDS],
                        class_="cr-speed", dense=True, hide_details=True,
                        style_="max-width: 220px")
        if target.value is not None and playing.value:
            solara.Text(t("running_to", lang, d=target.value), classes=["cr-running-to"],
                        style={"font-size": "12px", "color": "#555"})
        if error.value:
            solara.Error(error.value)


def open_session(requested: str | None, names: list[str],
                 query: dict[str, str] | None = None) -> tuple[AppSession | None, str]:
    """The session for a page (``requested``: the URL's ``?scenario=``) and a one-line problem.

    A requested name outside the scenario list is refused without touching the file system;
    the page then opens the default scenario and says why. Lever values in ``query`` (the URL)
    are checked against the lever schema and applied; refused ones are named in the problem.
    """
    problem = ""
    start = default_scenario(names)
    if requested:
        try:
            start = check_scenario_choice(requested, names)
        except Exception as exc:
            problem = page_error(exc)
    try:
        session = AppSession(start)
    except Exception as exc:
        return None, page_error(exc)
    levers, refused = levers_from_query(query or {})
    for key, value in levers.items():
        session.set_lever(key, value)
    if refused:
        problem = "; ".join(filter(None, [problem, *refused]))
        problem = page_error(ScenarioError(problem))
    return session, problem


@solara.component
def Page() -> None:
    """The whole app; an error while drawing any part shows as one line, not a traceback."""
    exc, _clear = solara.use_exception()
    if exc is not None:
        solara.Error(t("error", default_lang(), msg=page_error(exc)), classes=["cr-page-error"])
        return
    AppPage()


@solara.component
def AppPage() -> None:
    """App bar, sidebar (scenario, controls, levers), tabs."""
    query = _query()
    names = solara.use_memo(lambda: list(backend().scenario_names()), [])
    asked = query.get("lang", "")
    lang = solara.use_reactive(asked if asked in LANGS else default_lang())
    # one model per browser session
    session, problem = solara.use_memo(
        lambda: open_session(query.get("scenario"), names, query), [])
    sim_version = solara.use_reactive(0)  # bumped after each step (SolaraViz's update_counter)
    lever_version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    tab = solara.use_reactive(0)
    L = lang.value

    def lever_changed() -> None:
        lever_version.set(lever_version.value + 1)

    load_error = solara.use_reactive("")

    solara.Style(CSS)
    solara.Title(t("title", L))
    if problem:
        solara.Error(t("error", L, msg=problem), classes=["cr-page-error"])
    if session is None:
        return

    def restore() -> None:
        session.restore_defaults()
        lever_changed()


    # the address always holds the policy (bookmark, share, reload)
    UrlQuery(session, L, lever_version)

    def load(file: dict) -> None:
        try:
            name, new_lang, levers = read_settings(bytes(file["data"]))
            if name != session.scenario_name:
                check_scenario_choice(name, names)
                playing.set(False)
                session.set_scenario(name)
                sim_version.set(sim_version.value + 1)
            session.restore_defaults()
            for key, value in levers.items():
                session.set_lever(key, value)
            lang.set(new_lang)
            load_error.set("")
        except Exception as exc:
            load_error.set(t("error", L, msg=page_error(exc)))
        lever_changed()

    with solara.AppBar():
        with solara.AppBarTitle():
            solara.Text(t("title", L))
        with solara.Row(style={"align-items": "center", "background": "transparent"}, gap="16px"):
            DayCounter(session, L, sim_version)
            with solara.Tooltip(t("lang_tip", L)):
                solara.Button(t("lang", L), on_click=lambda: lang.set("en" if L == "zh" else "zh"),
                              outlined=True, classes=["cr-lang"], dark=True)
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}, gap="16px"):
        with solara.Column(classes=["cr-side"], style={"padding-top": "14px",
                "flex": "0 0 340px", "width": "340px", "position": "sticky", "top": "0",
                "max-height": "calc(100vh - 90px)", "overflow-y": "auto", "padding-right": "6px"}):
            Controls(session, L, sim_version, lever_version, playing)
            LeverPanel(session, L, lever_version, lever_changed)
            with solara.Tooltip(t("defaults_tip", L)):
                solara.Button(t("defaults", L), on_click=restore, text=True,
                              classes=["cr-defaults"])
            with solara.Tooltip(t("share_tip", L)):
                solara.Text(t("share", L) + " ⓘ", style={"font-weight": "600"})
            solara.FileDownload(lambda: settings_json(session.scenario_name, L, session.levers),
                                filename=f"cityrisk-{session.scenario_name}-settings.json",
                                label=t("settings_save", L), mime_type="application/json")
            solara.FileDrop(label=t("settings_load", L), on_file=load, lazy=False)
            if load_error.value:
                solara.Error(load_error.value, classes=["cr-load-error"])
        with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
            solara.Text(t("subtitle", L), style={"color": "#555"})
            with solara.lab.Tabs(value=tab, lazy=True):
                with solara.lab.Tab(t("tab_live", L), classes=["cr-tab-live"]):
                    LiveView(session, L, sim_version)
                with solara.lab.Tab(t("tab_compare", L), classes=["cr-tab-compare"]):
                    CompareView(session, L, lever_version)
                with solara.lab.Tab(t("tab_help", L), classes=["cr-tab-help"]):
                    solara.Markdown(t("help_md", L))
