"""A deliberately plain REST client for conformance tests (aiohttp, JSON in
and out), usable against the emulator or any real cluster's kubeconfig."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import yaml

from kaito_sim import KubeEmulator

T = TypeVar("T")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


class RestClient:
    """One connection to an API server, scoped to a test namespace."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        tls: ssl.SSLContext | bool,
        namespace: str,
        emulator: KubeEmulator | None,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.emulator = emulator
        self._headers = headers
        self._tls = tls
        self.session: aiohttp.ClientSession

    async def __aenter__(self) -> RestClient:
        connector = aiohttp.TCPConnector(ssl=self._tls)
        self.session = aiohttp.ClientSession(
            headers={**self._headers, "User-Agent": "kaito-conformance-tests"}, connector=connector
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.close()

    @property
    def is_emulator(self) -> bool:
        return self.emulator is not None

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Response:
        data = None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        headers = {"Accept": accept}
        if data is not None:
            headers["Content-Type"] = content_type
        async with self.session.request(
            method, self.url + path, data=data, params=params, headers=headers
        ) as resp:
            text = await resp.text()
            try:
                parsed: Any = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return Response(resp.status, parsed, dict(resp.headers))

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        resp = await self.request(method, path, body, **kwargs)
        assert resp.status < 300, f"{method} {path} -> {resp.status}: {resp.body}"
        return resp.body

    # ----------------------------------------------------------------------------- paths

    def ns_path(
        self,
        plural: str,
        name: str = "",
        *,
        group: str = "",
        version: str = "v1",
        namespace: str | None = None,
    ) -> str:
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        path = f"{prefix}/namespaces/{namespace or self.namespace}/{plural}"
        return f"{path}/{name}" if name else path

    def cm(self, name: str = "") -> str:
        return self.ns_path("configmaps", name)

    def widgets(self, name: str = "", version: str = "v1") -> str:
        return self.ns_path("widgets", name, group="test.kaito.sh", version=version)

    # ----------------------------------------------------------------------------- setup

    async def create_namespace(self) -> None:
        await self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": self.namespace}})

    async def delete_namespace(self) -> None:
        await self.request("DELETE", f"/api/v1/namespaces/{self.namespace}")

    async def ensure_crd(self, crd: dict[str, Any]) -> None:
        """Install the CRD (real clusters) and wait until it is Established."""
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
        if (await self.request("GET", path)).status == 404:
            await self.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)

        async def established() -> bool:
            got = await self.request("GET", path)
            conditions = (got.body.get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        await wait_for(established, "CRD established")

    # ----------------------------------------------------------------------------- watch

    async def watch(
        self, path: str, params: dict[str, str], accept: str = "application/json"
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream watch events until the server ends the stream."""
        params = {**params, "watch": "true"}
        async with self.session.get(
            self.url + path,
            params=params,
            headers={"Accept": accept},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
        ) as resp:
            assert resp.status == 200, await resp.text()
            async for line in resp.content:
                if line.strip():
                    yield json.loads(line)


async def wait_for(check: Callable[[], Awaitable[T]], what: str, timeout: float = 20.0) -> T:
    """Poll ``check`` until it returns something truthy (generous timeout: CI machines are slow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def _ssl_context(cluster: dict[str, Any], user: dict[str, Any], tmp: Path) -> ssl.SSLContext | bool:
    if not str(cluster["server"]).startswith("https"):
        return False
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context()
        if cluster.get("certificate-authority-data"):
            context.load_verify_locations(
                cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
            )
        elif cluster.get("certificate-authority"):
            context.load_verify_locations(cluster["certificate-authority"])
    cert, key = user.get("client-certificate"), user.get("client-key")
    if user.get("client-certificate-data"):
        cert, key = tmp / "client.crt", tmp / "client.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
    if cert and key:
        context.load_cert_chain(str(cert), str(key))
    return context


def connection_from_kubeconfig(path: str, tmp: Path) -> tuple[str, dict[str, str], ssl.SSLContext | bool]:
    """Server URL, auth headers and TLS settings of the current context (token or client-cert auth)."""
    config = yaml.safe_load(Path(path).read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user: dict[str, Any] = (
        next((u["user"] for u in config.get("users") or [] if u["name"] == context.get("user")), {}) or {}
    )
    headers = {"Authorization": f"Bearer {user['token']}"} if user.get("token") else {}
    return str(cluster["server"]).rstrip("/"), headers, _ssl_context(cluster, user, tmp)
