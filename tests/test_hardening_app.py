"""Issue #14, the app: ``?scenario=`` takes names only, errors are one line on the page, and the
server refuses unknown Host headers and cross-origin websockets (DNS rebinding, other sites)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sim.app import cli as app_cli
from sim.app.app import open_session
from sim.app.guard import HostOriginGuard, allowed_hosts, host_only
from sim.app.session import AppSession, check_scenario_choice, page_error
from sim.config.params import ScenarioError
from sim.config.scenario import scenario_names

NAMES = scenario_names()


@pytest.mark.parametrize("bad", ["/etc/passwd", "/dev/zero", "../scenarios/town.toml",
                                 "scenarios/town.toml", "town.toml", "x" * 5000])
def test_url_scenario_must_be_a_name(bad, monkeypatch) -> None:
    monkeypatch.delenv("CITYRISK_APP_SCENARIO", raising=False)
    with pytest.raises(ScenarioError, match="not a scenario name"):
        check_scenario_choice(bad, NAMES)


def test_operator_scenario_is_allowed(monkeypatch) -> None:
    monkeypatch.setenv("CITYRISK_APP_SCENARIO", "/srv/city/mine.toml")
    assert check_scenario_choice("/srv/city/mine.toml", NAMES) == "/srv/city/mine.toml"
    with pytest.raises(ScenarioError):
        check_scenario_choice("/etc/passwd", NAMES)


def test_page_refuses_a_path_without_reading_it(monkeypatch) -> None:
    monkeypatch.delenv("CITYRISK_APP_SCENARIO", raising=False)
    read = []
    import sim.config.scenario as scenario

    real = scenario._read_toml
    monkeypatch.setattr(scenario, "_read_toml", lambda p: read.append(str(p)) or real(p))
    session, problem = open_session("/etc/passwd", NAMES)
    assert session is not None and session.scenario_name == "town"
    assert "not a scenario name" in problem and "\n" not in problem
    assert not any("passwd" in p for p in read)


def test_picker_refuses_a_path(monkeypatch) -> None:
    monkeypatch.delenv("CITYRISK_APP_SCENARIO", raising=False)
    s = AppSession("town")
    with pytest.raises(ScenarioError, match="not a scenario name"):
        s.set_scenario("/dev/zero")
    assert s.scenario_name == "town"


def test_page_error_is_one_line_and_hides_internals(capsys) -> None:
    try:
        raise RuntimeError("secret /srv/path\nline two")
    except RuntimeError as exc:
        msg = page_error(exc)
    assert "\n" not in msg and "secret" not in msg and "server log" in msg
    assert "Traceback" in capsys.readouterr().err  # the details go to the log
    msg = page_error(ScenarioError("levers.x = 5:\n must be in [0, 1]"))
    assert msg == "levers.x = 5: must be in [0, 1]"


# -- Host / Origin guard --------------------------------------------------------------------
def scope(kind: str, host: str | None, origin: str | None = None) -> dict:
    headers = []
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": kind, "path": "/", "headers": headers}


@pytest.mark.parametrize("kind, host, origin, ok", [
    ("http", "127.0.0.1:8765", None, True),
    ("http", "localhost:8765", None, True),
    ("http", "[::1]:8765", None, True),
    ("http", "city.intranet:8765", None, True),
    ("http", "evil.example:8765", None, False),  # DNS rebinding: the name is the attacker's
    ("http", None, None, False),
    ("websocket", "city.intranet:8765", "http://city.intranet:8765", True),
    ("websocket", "city.intranet:8765", "http://evil.example", False),  # cross-site page
    ("websocket", "city.intranet:8765", None, False),
    ("websocket", "city.intranet:8765", "http://city.intranet:9999", False),
])
def test_guard_verdicts(kind, host, origin, ok) -> None:
    g = HostOriginGuard(app=lambda *a: None, hosts=allowed_hosts({"CITYRISK_APP_ALLOWED_HOSTS":
                                                                  "city.intranet"}))
    assert (g.verdict(scope(kind, host, origin)) == "") is ok


def test_guard_answers_400_and_closes_websockets() -> None:
    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["type"])

    g = HostOriginGuard(app=inner, hosts=["city.intranet"])
    sent = []

    async def send(msg):
        sent.append(msg)

    async def receive():
        return {}

    asyncio.run(g(scope("http", "evil.example"), receive, send))
    assert sent[0]["status"] == 400 and calls == []
    sent.clear()
    asyncio.run(g(scope("websocket", "city.intranet", "http://evil.example"), receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}] and calls == []
    asyncio.run(g(scope("http", "city.intranet:80"), receive, send))
    asyncio.run(g({"type": "lifespan"}, receive, send))
    assert calls == ["http", "lifespan"]


def test_host_only() -> None:
    assert host_only("Example.ORG:80") == "example.org"
    assert host_only("[::1]:8765") == "::1"
    assert host_only("::1") == "::1"


def test_server_runs_behind_the_guard() -> None:
    cmd = app_cli.server_command("127.0.0.1", 8765)
    assert cmd[1:4] == ["-m", "sim.app.guard", "run"]
    env = app_cli.server_env("town", "en", ["city.intranet"])
    assert env["CITYRISK_APP_ALLOWED_HOSTS"] == "city.intranet"


def launch(monkeypatch, argv: list[str]) -> dict[str, str]:
    """The server environment ``cityrisk app ARGV`` would exec (nothing is started)."""
    seen: dict[str, dict[str, str]] = {}

    def execve(path, cmd, env):
        seen["env"] = env
        raise SystemExit(0)

    monkeypatch.setattr(app_cli.os, "execve", execve)
    monkeypatch.setattr(app_cli, "port_free", lambda h, p: True)
    with pytest.raises(SystemExit):
        app_cli.main(argv)
    return seen["env"]


def test_wildcard_bind_warns_and_lists_names(monkeypatch, capsys) -> None:
    env = launch(monkeypatch, ["--host", "0.0.0.0", "--allow-host", "risk.city.gov"])
    err = capsys.readouterr().err
    assert "every network interface" in err and "no login" in err
    hosts = env["CITYRISK_APP_ALLOWED_HOSTS"].split(",")
    assert "risk.city.gov" in hosts and socket.gethostname() in hosts
    assert "0.0.0.0" not in hosts


def test_loopback_bind_allows_loopback_only(monkeypatch) -> None:
    env = launch(monkeypatch, [])
    assert env["CITYRISK_APP_ALLOWED_HOSTS"] == ""
    assert allowed_hosts(env) == frozenset({"localhost", "127.0.0.1", "::1"})
