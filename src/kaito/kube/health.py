"""Liveness and readiness checks served on ``/healthz`` and ``/readyz``.

Responses follow the Kubernetes healthz convention: ``ok`` with 200 when every
check passes, 500 listing ``[-]name failed: reason`` otherwise; ``?verbose``
lists every check, and ``/readyz/<name>`` runs one. A check is a function
(or coroutine function) that raises to report failure.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from aiohttp import web

from kaito.kube.httpserver import Handler

Check = Callable[[], Awaitable[None] | None]


def ping() -> None:
    """Always healthy: the process serves HTTP, so its event loop is alive."""


class Checks:
    """A named set of checks behind one endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        if name in self._checks:
            raise ValueError(f"{self.endpoint} check {name!r} already registered")
        self._checks[name] = check

    async def run(self, only: str | None = None) -> list[tuple[str, str | None]]:
        """``(name, failure or None)`` for each check (or just ``only``); KeyError for an unknown name."""
        names = [only] if only is not None else list(self._checks)
        results: list[tuple[str, str | None]] = []
        for name in names:
            check = self._checks[name]
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as err:
                results.append((name, str(err) or type(err).__name__))
            else:
                results.append((name, None))
        return results

    def routes(self) -> dict[str, Handler]:
        async def all_checks(request: web.Request) -> web.Response:
            return self._respond(await self.run(), "verbose" in request.query)

        async def one_check(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name not in self._checks:
                return web.Response(status=404, text=f"no {self.endpoint} check named {name}\n")
            return self._respond(await self.run(name), "verbose" in request.query)

        return {f"/{self.endpoint}": all_checks, f"/{self.endpoint}/{{name}}": one_check}

    def _respond(self, results: list[tuple[str, str | None]], verbose: bool) -> web.Response:
        failed = [(name, error) for name, error in results if error is not None]
        if not failed and not verbose:
            return web.Response(text="ok")
        lines = [
            f"[+]{name} ok" if error is None else f"[-]{name} failed: {error}" for name, error in results
        ]
        status = 500 if failed else 200
        lines.append(f"{self.endpoint} check failed" if failed else f"{self.endpoint} check passed")
        return web.Response(status=status, text="\n".join(lines) + "\n")
