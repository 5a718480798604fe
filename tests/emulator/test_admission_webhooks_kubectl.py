"""End to end: kaito's own admission webhook, registered the way the controller
registers it, refuses an invalid Workspace that real kubectl applies to the
sandbox, in the words a real cluster uses, and lets a valid one through.

kubectl is looked up at ``.tools/bin/kubectl`` (``hack/install-kube-tools.sh``
puts it there) or at ``$KAITO_KUBECTL``; a missing binary fails the test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from kaito.validation import ValidationContext
from kaito.webhook.bootstrap import WebhookTarget, webhook_configuration
from kaito.webhook.certs import issue, service_dns_names
from kaito.webhook.server import make_app, ssl_context
from kaito_sim.cluster import Sandbox

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "inference"


@dataclass
class Result:
    rc: int
    out: str
    err: str


@pytest.fixture
def kubectl_path() -> Path:
    path = Path(os.environ.get("KAITO_KUBECTL") or REPO / ".tools" / "bin" / "kubectl")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"kubectl not found at {path}: run hack/install-kube-tools.sh (or set KAITO_KUBECTL)")
    return path


@pytest.fixture
async def kaito_webhook() -> AsyncIterator[tuple[str, bytes]]:
    """kaito's webhook server on a free local port: (its base URL, its CA certificate)."""
    bundle = issue(service_dns_names("kaito-webhook", "kaito-system"))
    runner = web.AppRunner(make_app(ValidationContext), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context(bundle))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"https://127.0.0.1:{port}", bundle.ca_cert
    await runner.cleanup()


@pytest.mark.emulator_only
async def test_kubectl_apply_of_an_invalid_workspace_is_refused(
    kubectl_path: Path, kaito_webhook: tuple[str, bytes], tmp_path: Path
) -> None:
    url, ca_cert = kaito_webhook
    async with Sandbox(
        kubeconfig_path=tmp_path / "kubeconfig", gpu_lookup=lambda instance_type: 1, system_node=False
    ) as sandbox:
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(tmp_path)}

        async def kubectl(*args: str, stdin: str | None = None) -> Result:
            proc = await asyncio.create_subprocess_exec(
                str(kubectl_path),
                *args,
                env=env,
                stdin=asyncio.subprocess.PIPE if stdin is not None else None,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 60)
            return Result(proc.returncode or 0, out.decode(), err.decode())

        configuration = webhook_configuration(WebhookTarget(namespace="kaito-system", url=url), ca_cert)
        registered = await kubectl("apply", "-f", "-", stdin=yaml.safe_dump(configuration.to_dict()))
        assert registered.rc == 0, registered.err
        assert registered.out.strip() == (
            "validatingwebhookconfiguration.admissionregistration.k8s.io/validation.workspace.kaito.sh created"
        )

        refused = await kubectl("apply", "-f", str(EXAMPLES / "kaito_workspace_phi_3_with_adapters.yaml"))
        assert refused.rc != 0
        assert (
            'admission webhook "validation.workspace.kaito.sh" denied the request: '
            "inference.adapters[0].source.image: Unable to parse adapter image reference"
        ) in refused.err
        missing = await kubectl("get", "workspace", "workspace-phi-3-mini-adapter")
        assert missing.rc != 0
        assert "NotFound" in missing.err

        created = await kubectl("apply", "-f", str(EXAMPLES / "kaito_workspace_phi_3.yaml"))
        assert created.rc == 0, created.err
        assert created.out.strip() == "workspace.kaito.sh/workspace-phi-3-mini created"

        calls = [(c.operation, c.outcome) for c in sandbox.emulator.webhook_calls]
        assert calls == [("CREATE", "denied"), ("CREATE", "allowed")]
