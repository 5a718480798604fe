"""Calling admission webhooks as kube-apiserver's webhook client does: a POST
over HTTPS only, the server certificate verified against ``caBundle`` (the
system roots when there is none), ``?timeout=`` on the URL and the webhook's
timeout enforced, and failures worded as the Go client words them.

In-cluster Services are out of reach. A ``clientConfig.service`` resolves like
kube-apiserver's ClusterIP resolver (the Service must exist and expose the
port), then is dialled at the address registered with :meth:`route_service`,
with TLS verified against the Service's DNS name; without a route the dial is
refused, as kube-proxy refuses a Service that has no endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass

import aiohttp
from cryptography import x509
from yarl import URL

from kaito_sim.emulator.store import Store
from kaito_sim.emulator.webhookrules import Webhook

USER_AGENT = "kube-apiserver-admission"
_HOSTNAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_BAD_VALIDITY = (9, 10)  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED
_PLAIN_HTTP = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST")
# apimachinery's NewGenericServerResponse: what a status code means when the body does not say.
_STATUS_MESSAGES = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing "
    "the request",
}


class CallError(Exception):
    """Why a webhook could not be called: the reason in ``failed calling webhook "x": <reason>``."""


@dataclass(frozen=True)
class _Endpoint:
    url: str  # what errors name: the configured URL, or the Service's DNS name
    connect_url: str  # where the request goes
    host: str
    port: int
    server_name: str | None  # TLS name to verify, when it is not the connect URL's host
    host_header: str | None = None  # the Service's host:port, when the connection goes elsewhere


class WebhookClient:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._routes: dict[tuple[str, str], tuple[str, int]] = {}
        self._contexts: dict[bytes | None, ssl.SSLContext] = {}
        self._session: aiohttp.ClientSession | None = None

    def route_service(self, namespace: str, name: str, host: str, port: int) -> None:
        """Send calls for Service ``namespace/name`` (any of its ports) to ``host:port``."""
        self._routes[(namespace, name)] = (host, port)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url_of(self, hook: Webhook) -> str:
        if hook.client.service is None:
            return hook.client.url or ""
        namespace, name, port, path = hook.client.service
        return f"https://{name}.{namespace}.svc:{port}{path}"

    async def post(self, hook: Webhook, body: bytes) -> bytes:
        """POST ``body``; the answer's body when it is a JSON success, else :class:`CallError`."""
        context = self._context(hook.client.ca_bundle)
        query = f"?timeout={hook.timeout_seconds}s"
        endpoint = self._endpoint(hook, query)
        headers = {"Content-Type": "application/json", "Accept": "application/json, */*"}
        headers["User-Agent"] = USER_AGENT
        if endpoint.host_header is not None:
            headers["Host"] = endpoint.host_header
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        try:
            async with self._session.post(
                endpoint.connect_url,
                data=body,
                headers=headers,
                ssl=context,
                server_hostname=endpoint.server_name,
                timeout=aiohttp.ClientTimeout(total=hook.timeout_seconds),
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                content_type = response.headers.get("Content-Type", "")
                status = response.status
        except TimeoutError:
            raise self._dial_error(endpoint, "context deadline exceeded") from None
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = await self._certificate_problem(exc.certificate_error, endpoint)
            raise self._dial_error(endpoint, f"tls: failed to verify certificate: {reason}") from None
        except aiohttp.ClientSSLError as exc:
            raise self._dial_error(endpoint, _tls_problem(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise self._dial_error(endpoint, _dial_problem(exc.os_error, endpoint)) from None
        except aiohttp.ServerDisconnectedError:
            raise self._dial_error(endpoint, "EOF") from None
        except aiohttp.ClientError as exc:
            raise self._dial_error(endpoint, str(exc) or type(exc).__name__) from None
        media = content_type.split(";", 1)[0].strip().lower()
        if not 200 <= status <= 206:
            raise CallError(f"failed to call webhook: {_status_problem(status, media, raw)}")
        if content_type and media != "application/json":
            raise CallError(f"failed to call webhook: serializer for {content_type} doesn't exist")
        return raw

    # ------------------------------------------------------------------ where to

    @staticmethod
    def _dial_error(endpoint: _Endpoint, reason: str) -> CallError:
        return CallError(f'failed to call webhook: Post "{endpoint.url}": {reason}')

    def _endpoint(self, hook: Webhook, query: str) -> _Endpoint:
        if hook.client.service is None:
            url = (hook.client.url or "") + query
            parsed = URL(url)
            return _Endpoint(url, url, parsed.host or "", parsed.port or 443, None)
        namespace, name, port, path = hook.client.service
        server_name = f"{name}.{namespace}.svc"
        url = f"https://{server_name}:{port}{path}{query}"

        def refused(reason: str) -> CallError:
            return CallError(f'failed to call webhook: Post "{url}": {reason}')

        service = self._store.get("services", namespace, name)
        if service is None:
            raise refused(f'service "{name}" not found')
        spec = service.get("spec") or {}
        if spec.get("clusterIP") == "None" and spec.get("type", "ClusterIP") == "ClusterIP":
            raise refused('cannot route to service with ClusterIP "None"')
        if spec.get("type") != "ExternalName" and not any(
            p.get("port") == port for p in spec.get("ports") or []
        ):
            raise refused(f'no service port {port} found for service "{name}"')
        route = self._routes.get((namespace, name))
        if route is None:
            if spec.get("type") == "ExternalName":
                route = (str(spec.get("externalName")), port)
            else:
                raise refused(
                    f"dial tcp {_join(str(spec.get('clusterIP')), port)}: connect: connection refused"
                )
        host, target_port = route
        connect_url = f"https://{_join(host, target_port)}{path}{query}"
        return _Endpoint(url, connect_url, host, target_port, server_name, f"{server_name}:{port}")

    def _context(self, bundle: bytes | None) -> ssl.SSLContext:
        context = self._contexts.get(bundle)
        if context is None:
            try:
                if bundle is None:
                    context = ssl.create_default_context()
                else:
                    context = ssl.create_default_context(cadata=bundle.decode("ascii", "replace"))
            except (ssl.SSLError, ValueError):
                raise CallError(
                    "could not get REST client: unable to load root certificates: unable to parse bytes "
                    "as PEM block"
                ) from None
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._contexts[bundle] = context
        return context

    # ------------------------------------------------------------------ what went wrong

    async def _certificate_problem(self, error: BaseException, endpoint: _Endpoint) -> str:
        """crypto/x509's wording for a certificate that does not verify."""
        code = getattr(error, "verify_code", 0)
        if code in _BAD_VALIDITY:
            return "x509: certificate has expired or is not yet valid"
        if code not in _HOSTNAME_MISMATCH:
            return "x509: certificate signed by unknown authority"
        wanted = endpoint.server_name or endpoint.host
        names = await _certificate_names(endpoint.host, endpoint.port, wanted)
        if names is None:
            return f"x509: certificate is not valid for {wanted}"
        dns_names, ips = names
        if _is_ip(wanted):
            if not ips:
                return (
                    f"x509: cannot validate certificate for {wanted} because it doesn't contain any IP SANs"
                )
            return f"x509: certificate is valid for {', '.join(ips)}, not {wanted}"
        if not dns_names:
            return f"x509: certificate is not valid for any names, but wanted to match {wanted}"
        return f"x509: certificate is valid for {', '.join(dns_names)}, not {wanted}"


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _dial_problem(error: OSError, endpoint: _Endpoint) -> str:
    address = _join(endpoint.host, endpoint.port)
    if error.errno == errno.ECONNREFUSED:
        return f"dial tcp {address}: connect: connection refused"
    if isinstance(error, socket.gaierror):
        return f"dial tcp: lookup {endpoint.host}: no such host"
    return f"dial tcp {address}: connect: {(error.strerror or str(error)).lower()}"


def _tls_problem(error: aiohttp.ClientSSLError) -> str:
    reason = str(getattr(error.os_error, "reason", "") or error)
    if any(marker in reason.upper() for marker in _PLAIN_HTTP):
        return "http: server gave HTTP response to HTTPS client"
    if "ALERT" in reason.upper():
        return "remote error: tls: handshake failure"
    return f"tls: {reason.lower().replace('_', ' ')}"


def _status_problem(status: int, media: str, body: bytes) -> str:
    """client-go's error for a non-2xx answer: the Status in the body, else the generic wording."""
    if media == "application/json":
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("kind") == "Status" and doc.get("message"):
                return str(doc["message"])
    text = body.decode("utf-8", "replace").strip()[:1024] if (not media or media.startswith("text/")) else ""
    if status == 403:
        return text or "unknown"
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    if status >= 500:
        return f'an error on the server ("{text or "unknown"}") has prevented the request from succeeding'
    return f"the server responded with the status code {status} but did not return more information"


async def _certificate_names(host: str, port: int, server_name: str) -> tuple[list[str], list[str]] | None:
    """The DNS and IP names a server's certificate covers (read without trusting it, for the message)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=server_name), 5
        )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        return None
    try:
        names = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except (ValueError, x509.ExtensionNotFound):
        return [], []
    return (
        list(names.value.get_values_for_type(x509.DNSName)),
        [str(ip) for ip in names.value.get_values_for_type(x509.IPAddress)],
    )
