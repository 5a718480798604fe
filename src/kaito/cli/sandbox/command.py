"""``kaito sandbox``: a simulated Kubernetes cluster on localhost with the kaito operator running on it.

The newcomer's "run it" command: no cluster, no GPU, no container engine.
``--apply`` applies manifests and follows each workspace until it is ready or
failed; the cluster keeps serving for kubectl until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from kaito.api.manifests import ManifestError, load_documents
from kaito.api.wellknown import NodeProvisioner
from kaito.validation import is_workspace_document

SYSTEM_NAMESPACE = "kaito-system"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run kaito on a simulated Kubernetes cluster on localhost",
        description="Serve a Kubernetes API emulator with simulated nodes, kubelets, workload controllers "
        "and a fake GPU node provisioner, run the kaito operator (controllers and admission webhook) on it, "
        "and write a kubeconfig for kubectl. Runs until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="where to write the kubeconfig (default: ~/.kube/kaito-sandbox.yaml)",
    )
    parser.add_argument(
        "--apply",
        "-f",
        dest="apply",
        action="append",
        default=[],
        metavar="FILE",
        help="apply these manifests once the cluster is up and follow their workspaces (repeatable)",
    )
    parser.add_argument(
        "--node-provisioner",
        choices=[NodeProvisioner.NODECLAIM.value, NodeProvisioner.MACHINE.value],
        default=NodeProvisioner.NODECLAIM.value,
        help="node requests the operator makes; the sandbox's fake provisioner serves both",
    )
    parser.add_argument(
        "--without-operator",
        action="store_true",
        help="serve only the simulated cluster (run `kaito controller` against it yourself)",
    )
    parser.set_defaults(func=run)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


async def _serve(args: argparse.Namespace, documents: list[Any]) -> int:
    from kaito.api.resources import NAMESPACE
    from kaito.cli.sandbox.apply import apply_document
    from kaito.cli.sandbox.progress import follow
    from kaito.controllers.workspace.options import WorkspaceOptions
    from kaito.kube.client import Client
    from kaito.kube.config import load_rest_config
    from kaito.kube.logging import configure_logging
    from kaito.operator.controllers import SetupOptions
    from kaito.operator.embedded import Operator
    from kaito.presets.skus import sku_gpu_count
    from kaito.webhook.bootstrap import WebhookTarget
    from kaito.webhook.service import WebhookOptions
    from kaito_sim.cluster import Sandbox

    configure_logging("console", "warning")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sandbox = Sandbox(
        host=args.host, port=args.port, kubeconfig_path=args.kubeconfig, gpu_lookup=sku_gpu_count
    )
    async with sandbox:
        if sandbox.emulator.client.try_get(NAMESPACE, SYSTEM_NAMESPACE) is None:
            sandbox.emulator.client.create(NAMESPACE, {"metadata": {"name": SYSTEM_NAMESPACE}})
        print(sandbox.usage(), flush=True)
        kubeconfig = str(sandbox.kubeconfig_path)
        operator = None
        if not args.without_operator:
            provisioner = NodeProvisioner(args.node_provisioner)
            webhook_port = _free_port(args.host)
            webhook = WebhookOptions(
                WebhookTarget(SYSTEM_NAMESPACE, port=webhook_port, url=f"https://{args.host}:{webhook_port}"),
                host=args.host,
                node_provisioner=provisioner,
            )
            options = SetupOptions(workspace=WorkspaceOptions(node_provisioner=provisioner), webhook=webhook)
            operator = await Operator(kubeconfig, options).start()
            print("kaito operator running: workspace controller and admission webhook", flush=True)
        try:
            async with Client(await load_rest_config(kubeconfig), qps=None) as client:
                keys = set()
                for document in documents:
                    applied = await apply_document(client, document)
                    print(applied, flush=True)
                    if (
                        applied.obj is not None
                        and is_workspace_document(document.content)
                        and operator is not None
                    ):
                        keys.add(applied.obj.key)
                if keys:
                    following = asyncio.create_task(
                        follow(client, keys, lambda line: print(line, flush=True))
                    )
                    stopping = asyncio.create_task(stop.wait())
                    await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if following.done():
                        following.result()
                        print(
                            "all workspaces settled; still serving for kubectl (Ctrl-C to stop)", flush=True
                        )
                    following.cancel()
                    stopping.cancel()
                await stop.wait()
        finally:
            if operator is not None:
                await operator.stop()
    print("kaito sandbox stopped", file=sys.stderr, flush=True)
    return 0


SIMULATED_CLUSTER_MISSING = (
    "kaito sandbox: the simulated cluster (the kaito-sim package) is not installed; "
    "run hack/setup.sh, or pip install -e sim from a kaito checkout"
)


def run(args: argparse.Namespace) -> int:
    try:
        import kaito_sim  # noqa: F401  (a separate distribution: the operator's image does not ship it)
    except ImportError:
        print(SIMULATED_CLUSTER_MISSING, file=sys.stderr)
        return 2
    try:
        documents = [doc for path in args.apply for doc in load_documents(Path(path))]
    except ManifestError as err:
        print(f"kaito sandbox: {err}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, documents))
    except OSError as exc:
        print(
            f"kaito sandbox: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
