"""A small aiohttp server for the manager's endpoints (metrics, health probes).

Bind addresses are written as controller-runtime's flags write them:
``:8080`` (every interface), ``127.0.0.1:8080``, or ``0`` to serve nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_bind_address(address: str) -> tuple[str | None, int] | None:
    """``(host, port)``, host None for every interface; None when ``address`` is ``"0"`` (disabled)."""
    if address in ("0", ""):
        return None
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise ValueError(f"bind address {address!r} must be HOST:PORT, :PORT or 0")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"bind address {address!r} has no valid port") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"bind address {address!r}: port out of range")
    host = host.strip("[]")  # [::1]:8080
    return (host or None, port)


class HTTPServer:
    def __init__(self, address: str, routes: dict[str, Handler]) -> None:
        self.bind = parse_bind_address(address)
        self._routes = routes
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        if self.bind is None:
            return
        app = web.Application()
        for path, handler in self._routes.items():
            app.router.add_get(path, handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.bind[0], self.bind[1], reuse_address=True)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
