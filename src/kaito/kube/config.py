"""Where the API server is and how to authenticate: kubeconfig or in-cluster service account.

kubernetes-asyncio parses kubeconfig files (contexts, client certificates,
tokens, exec plugins) and the in-cluster service account; this module turns
its ``Configuration`` into what the REST client needs: a base URL, a TLS
context and a coroutine producing auth headers (so rotated service-account
tokens are picked up). The lookup order is controller-runtime's: an explicit
path, ``$KUBECONFIG``, in-cluster, then ``~/.kube/config``.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config import ConfigException, load_incluster_config, load_kube_config

import kaito

AuthHeaders = Callable[[], Awaitable[dict[str, str]]]

USER_AGENT = f"kaito-controller/{kaito.__version__}"
IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


async def _no_auth() -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class RestConfig:
    """Enough to talk to one API server."""

    host: str
    ssl: ssl.SSLContext | bool = True
    auth_headers: AuthHeaders = field(default=_no_auth)
    server_hostname: str | None = None
    user_agent: str = USER_AGENT
    request_timeout: float = 60.0


class ConfigError(Exception):
    """No usable cluster configuration was found."""


def _ssl_context(cfg: Configuration) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
    if cfg.cert_file:
        context.load_cert_chain(cfg.cert_file, keyfile=cfg.key_file)
    if not cfg.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _from_configuration(cfg: Configuration) -> RestConfig:
    async def auth_headers() -> dict[str, str]:
        # auth_settings() runs the refresh hook, so in-cluster tokens are re-read when rotated.
        settings = await cfg.auth_settings()
        token = settings.get("BearerToken", {}).get("value")
        if token:
            return {"Authorization": token if token.startswith("Bearer ") else f"Bearer {token}"}
        if cfg.username:
            basic = base64.b64encode(f"{cfg.username}:{cfg.password or ''}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}
        return {}

    host = str(cfg.host).rstrip("/")
    return RestConfig(
        host=host,
        ssl=_ssl_context(cfg) if host.startswith("https") else False,
        auth_headers=auth_headers,
        server_hostname=cfg.tls_server_name,
    )


async def load_rest_config(kubeconfig: str | None = None, context: str | None = None) -> RestConfig:
    """The cluster: ``kubeconfig``, ``$KUBECONFIG``, in-cluster or ``~/.kube/config``, in that order."""
    path = kubeconfig or os.environ.get("KUBECONFIG") or None
    cfg = Configuration()
    try:
        if path is None:
            try:
                load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
                return _from_configuration(cfg)
            except ConfigException:
                path = str(Path.home() / ".kube" / "config")
                if not Path(path).is_file():
                    raise ConfigError(f"not running in a cluster and no kubeconfig at {path}") from None
        elif not any(Path(p).is_file() for p in path.split(os.pathsep)):
            raise ConfigError(f"kubeconfig {path} does not exist")
        await load_kube_config(
            config_file=path, context=context, client_configuration=cfg, persist_config=False
        )
    except ConfigException as err:
        raise ConfigError(str(err)) from err
    return _from_configuration(cfg)


def in_cluster_namespace() -> str | None:
    """The pod's namespace when running in a cluster (for the leader-election lease)."""
    try:
        return IN_CLUSTER_NAMESPACE_FILE.read_text().strip() or None
    except OSError:
        return None
