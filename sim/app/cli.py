"""``cityrisk app``: serve the policymaker page (Solara) on this machine.

``cityrisk app [--scenario NAME] [--host 127.0.0.1] [--port 8765] [--lang zh|en]``

Binds 127.0.0.1 unless told otherwise. Checks its options, then becomes (``exec``)
``python -m sim.app.guard run sim.app.app --production`` (Solara behind a Host/Origin check,
see :mod:`sim.app.guard`) with the options passed through the environment
(``CITYRISK_APP_SCENARIO``, ``CITYRISK_APP_LANG``, ``CITYRISK_APP_ALLOWED_HOSTS``). Bad input
exits with code 2 and a message naming the option. See docs/security.md before binding
beyond loopback.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from .i18n import LANGS

ROOT = Path(__file__).resolve().parents[2]  # the folder holding sim/ (a checkout, or site-packages)
# Everything the page asks the asset cache for (see .ci/install_solara_assets.sh).
ASSETS = ("@widgetti/solara-vuetify-app@10.1.1", "requirejs@2.3.6", "font-awesome@4.5.0",
          "echarts@5.4.0")
SOLARA_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no calls home from an intranet
    "SOLARA_SERVER_SYNC_WS_WRITE": "true",  # write websocket frames from the render thread
    "SOLARA_KERNEL_CULL_TIMEOUT": "5m",  # free a closed tab's model after 5 minutes
    "SOLARA_THEME_SHOW_BANNER": "False",  # no "This website runs on Solara" footer
    # plain-http intranet: Solara's warning that samesite=none cookies need https is noise
    "PYTHONWARNINGS": "ignore:Cookies with samesite=none",
}


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--port {text!r}: must be an integer in [1, 65535]") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port {port}: must be an integer in [1, 65535]")
    return port


def missing_assets() -> list[str]:
    """Asset packages not yet in solara's local cache (the page would need the internet)."""
    from solara.server.settings import assets

    cache = Path(assets.proxy_cache_dir)
    return [p for p in ASSETS if not (cache / p / "package.json").exists()]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port yet."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


WILDCARD = ("0.0.0.0", "::", "")


def host_names(host: str, extra: list[str] | None = None) -> list[str]:
    """Host names the browser may use to reach the server bound to ``host`` (Host allow-list).

    Loopback names are always allowed (added by the guard). A wildcard bind adds this
    machine's name, full name and addresses; anything else (a DNS alias, a proxy name) must be
    given with ``--allow-host``.
    """
    names = [] if _is_loopback(host) else [host]
    if host in WILDCARD:
        names = [socket.gethostname(), socket.getfqdn()]
        try:
            names += socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:  # no resolvable own name: the operator lists names with --allow-host
            pass
    return list(dict.fromkeys(n for n in [*names, *(extra or [])] if n))


def server_command(host: str, port: int) -> list[str]:
    """The solara command line (behind the Host/Origin guard) that serves the page."""
    return [sys.executable, "-m", "sim.app.guard", "run", "sim.app.app", "--host", host,
            "--port", str(port), "--no-open", "--production"]


def server_env(scenario: str, lang: str, hosts: list[str] | None = None) -> dict[str, str]:
    """Environment of the server process (``hosts``: the Host allow-list beyond loopback)."""
    env = dict(os.environ)
    env["CITYRISK_APP_ALLOWED_HOSTS"] = ",".join(hosts or [])
    for key, value in SOLARA_ENV.items():
        env.setdefault(key, value)
    env["CITYRISK_APP_SCENARIO"] = scenario
    env["CITYRISK_APP_LANG"] = lang
    if (ROOT / "pyproject.toml").is_file():  # run from a checkout: the server imports the same sim
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def handler(args: argparse.Namespace) -> int:
    """Check the options, then serve until interrupted."""
    from sim.config.params import ScenarioError
    from sim.config.scenario import load_scenario
    from sim.extras import require

    require("app", "cityrisk app")
    load_scenario(args.scenario)  # ScenarioError -> exit 2 with the message (core CLI)
    if not port_free(args.host, args.port):
        raise ScenarioError(f"--port {args.port}: {args.host}:{args.port} is already in use or "
                            "cannot be bound; choose another port")
    missing = missing_assets()
    if missing:
        print("cityrisk app: warning: offline assets missing (" + ", ".join(missing)
              + "); the page will try the internet. Install them with: "
              "bash .ci/install_solara_assets.sh",
              file=sys.stderr)
    hosts = host_names(args.host, args.allow_host)
    if args.host in WILDCARD:
        print(f"cityrisk app: warning: --host {args.host or '0.0.0.0'} listens on every network "
              "interface; prefer the one address your intranet uses. See docs/security.md.",
              file=sys.stderr)
    if not _is_loopback(args.host):
        print(f"cityrisk app: warning: --host {args.host} makes the app reachable from other "
              "machines; it has no login. Browsers may reach it as: "
              + ", ".join(hosts) + " (add names with --allow-host).", file=sys.stderr)
    print(f"cityrisk app: serving {args.scenario} at http://{args.host}:{args.port}/ "
          f"(language {args.lang}); Ctrl-C stops it", file=sys.stderr, flush=True)
    cmd, env = server_command(args.host, args.port), server_env(args.scenario, args.lang, hosts)
    sys.stdout.flush()
    if os.name == "posix":  # become the server: signals (Ctrl-C, SIGTERM) reach it directly
        os.execve(cmd[0], cmd, env)
    proc = subprocess.Popen(cmd, env=env)  # pragma: no cover - non-POSIX
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return 0


def register(subparsers: Any) -> None:
    """Add the ``app`` subcommand (sets ``func=handler``)."""
    p = subparsers.add_parser(
        "app", help="serve the policymaker page in the browser (Solara)",
        description="Serve the policymaker app: levers grouped by the four capacities, city map, "
                    "live charts, 'my policy vs. the scenario' comparison, zh/en. Works offline "
                    "once .ci/install_solara_assets.sh has filled the asset cache.")
    p.add_argument("--scenario", default="town",
                   help="scenario to open (a name from `cityrisk scenarios` or a .toml path; default town)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--allow-host", action="append", metavar="NAME", default=[],
                   help="another host name browsers use to reach the app (DNS alias, proxy); "
                        "requests naming any other host are refused (repeatable)")
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    p.add_argument("--lang", choices=LANGS, default="zh", help="page language (default zh)")
    p.set_defaults(func=handler)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m sim.app.cli``) with the same exit codes as ``cityrisk``."""
    from sim.config.params import ScenarioError

    parser = argparse.ArgumentParser(prog="cityrisk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["app", *(argv if argv is not None else sys.argv[1:])])
    from sim.extras import MissingExtra

    try:
        return args.func(args)
    except (ScenarioError, MissingExtra) as exc:
        print(f"cityrisk: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
