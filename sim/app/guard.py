"""Host and Origin checks in front of the Solara server (``python -m sim.app.guard run ...``).

Solara answers any ``Host`` header and accepts a websocket from any ``Origin``. On an intranet
that lets a page on another site, or a DNS-rebinding name, drive a user's app session. This
module wraps Solara's ASGI app with :class:`HostOriginGuard`:

* an HTTP request or websocket whose ``Host`` (without port) is not in the allow-list gets
  ``400 invalid host``;
* a websocket whose ``Origin`` is missing or names another host than its ``Host`` header is
  closed before it is accepted (code 1008).

The allow-list is ``$CITYRISK_APP_ALLOWED_HOSTS`` (comma separated; set by ``cityrisk app``
from ``--host`` and ``--allow-host``); without it only loopback names pass. ``main`` runs
``solara`` with the guard installed: it swaps the app string Solara hands to uvicorn, so
Solara's own settings are applied exactly as with ``python -m solara run``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]
LOOPBACK = ("localhost", "127.0.0.1", "::1")
ENV = "CITYRISK_APP_ALLOWED_HOSTS"
SOLARA_APP = "solara.server.starlette:app"


def host_only(value: str) -> str:
    """``value`` (a Host header or netloc) without port and IPv6 brackets, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value


def allowed_hosts(env: MutableMapping[str, str] | None = None) -> frozenset[str]:
    """The allow-list from the environment (loopback names are always in it)."""
    env = os.environ if env is None else env
    extra = [host_only(h) for h in env.get(ENV, "").split(",") if h.strip()]
    return frozenset((*LOOPBACK, *extra))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HostOriginGuard:
    """ASGI middleware: reject unknown Host headers and cross-origin websockets."""

    def __init__(self, app: ASGIApp | None = None, hosts: Iterable[str] | None = None) -> None:
        self._app = app
        self.hosts = frozenset(host_only(h) for h in hosts) if hosts is not None else allowed_hosts()

    @property
    def app(self) -> ASGIApp:
        """The wrapped app; Solara's, imported on first use (after its settings are applied)."""
        if self._app is None:
            from solara.server.starlette import app

            self._app = app
        return self._app

    def verdict(self, scope: Scope) -> str:
        """'' when the request may pass, else the reason it is refused."""
        host = _header(scope, b"host")
        if host is None or host_only(host) not in self.hosts:
            return f"invalid host {host!r}"
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if not origin:
                return "websocket without Origin"
            netloc = urlsplit(origin).netloc
            if netloc.lower() != host.strip().lower():
                return f"cross-origin websocket from {origin!r}"
        return ""

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan passes through
            await self.app(scope, receive, send)
            return
        reason = self.verdict(scope)
        if not reason:
            await self.app(scope, receive, send)
            return
        print(f"cityrisk app: refused {scope['type']} {scope.get('path', '')}: {reason}",
              flush=True)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"400 Bad Request: invalid host or origin\n"
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"text/plain"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


app = HostOriginGuard()  # uvicorn imports "sim.app.guard:app" in place of Solara's app


def install() -> None:
    """Make uvicorn serve :data:`app` wherever Solara asks for its own app."""
    import uvicorn

    original = uvicorn.Config.__init__
    if getattr(original, "_cityrisk_guard", False):
        return

    def init(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
        original(self, "sim.app.guard:app" if app == SOLARA_APP else app, *args, **kwargs)

    init._cityrisk_guard = True  # type: ignore[attr-defined]
    uvicorn.Config.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    """``python -m sim.app.guard run MODULE ...``: Solara's command line with the guard."""
    import solara.__main__ as solara_main

    install()
    solara_main.main()


if __name__ == "__main__":
    main()
