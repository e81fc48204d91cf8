"""Save and share a policy: lever settings, scenario and language in the page URL, and a small
JSON settings file to download and load back.

The URL carries the scenario NAME (checked against the scenario list by the page, never a path)
and lever values by their short name (``?scenario=town&lang=en&grid_workers_per_grid=7``). Every
value is checked on the server against the lever schema (:func:`sim.app.session.check_lever`);
anything else is refused with one line. A settings file goes through the same checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sim.config.params import LEVERS, ScenarioError

from .session import check_lever

RESERVED = ("scenario", "lang")  # URL parameters that are not levers
MAX_SETTINGS_BYTES = 20_000  # a settings file is a few hundred bytes
SETTINGS_KIND = "cityrisk-app-settings"


def slug(key: str) -> str:
    """Short name of a lever in URLs and settings files ("levers.x" -> "x")."""
    return key.split(".", 1)[1]


SLUGS: dict[str, str] = {slug(k): k for k in LEVERS}


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def levers_from_query(query: Mapping[str, str]) -> tuple[dict[str, int | float], list[str]]:
    """Lever values named in a URL query (dotted key -> checked value) and one line per refused
    parameter (unknown name or value out of the lever's range)."""
    out: dict[str, int | float] = {}
    problems: list[str] = []
    for name, raw in query.items():
        if name in RESERVED:
            continue
        key = SLUGS.get(name)
        if key is None:
            problems.append(f"{_short(name)!r}: not a lever")
            continue
        try:
            out[key] = check_lever(key, str(raw))
        except ScenarioError as exc:
            problems.append(" ".join(str(exc).split()))
    return out, problems


def share_query(scenario: str, lang: str, changed: Mapping[str, Any]) -> str:
    """The URL query of a policy: scenario, language and the levers that differ from it."""
    params: dict[str, str] = {"scenario": scenario, "lang": lang}
    for key, value in changed.items():
        params[slug(key)] = f"{value:.10g}" if isinstance(value, float) else str(value)
    return urlencode(params)


def settings_json(scenario: str, lang: str, levers: Mapping[str, Any]) -> str:
    """A settings file: every lever value, the scenario name and the language."""
    return json.dumps({"kind": SETTINGS_KIND, "scenario": scenario, "lang": lang,
                       "levers": {slug(k): v for k, v in levers.items()}}, indent=1,
                      ensure_ascii=False)


def read_settings(data: bytes) -> tuple[str, str, dict[str, int | float]]:
    """(scenario name, language, checked levers) from a settings file; ScenarioError (one line)
    when the file is not one or a value is out of range. The scenario name is checked by the
    caller against the scenario list, like a URL's."""
    if len(data) > MAX_SETTINGS_BYTES:
        raise ScenarioError("settings file: too large (not a cityrisk settings file)")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ScenarioError("settings file: not a cityrisk settings file (JSON)") from None
    if not isinstance(doc, dict) or doc.get("kind") != SETTINGS_KIND \
            or not isinstance(doc.get("levers"), dict) or not isinstance(doc.get("scenario"), str):
        raise ScenarioError("settings file: not a cityrisk settings file")
    levers, problems = levers_from_query({str(k): str(v) for k, v in doc["levers"].items()})
    if problems:
        raise ScenarioError("settings file: " + problems[0])
    lang = doc.get("lang") if doc.get("lang") in ("zh", "en") else "zh"
    return doc["scenario"], str(lang), levers
