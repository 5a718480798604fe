"""``kaito controller``: run the operator's controllers against a cluster.

Flags follow controller-runtime operators (``--metrics-bind-address``,
``--health-probe-bind-address``, ``--leader-elect``...). SIGTERM or SIGINT
shuts down gracefully (exit 0); losing the leader lease exits 1 so the pod is
restarted; bad flags exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import structlog

from kaito import __version__
from kaito.api.wellknown import NodeProvisioner
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.kube.client import Client
from kaito.kube.config import ConfigError, in_cluster_namespace, load_rest_config
from kaito.kube.httpserver import parse_bind_address
from kaito.kube.leaderelection import (
    DEFAULT_LEADER_ELECTION_ID,
    LeaderElectionConfig,
    LeaderElectionLost,
)
from kaito.kube.logging import LEVELS, configure_logging
from kaito.kube.manager import Manager, ManagerOptions
from kaito.kube.ratelimit import DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_QPS
from kaito.operator import controllers as setup
from kaito.presets.params import DEFAULT_REGISTRY
from kaito.presets.skus import CLOUDS
from kaito.webhook.bootstrap import WebhookTarget
from kaito.webhook.service import WebhookOptions

log = structlog.get_logger("kaito.cli.controller")


def _controller_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of controller names")
    try:
        setup.resolve(names)
    except setup.ControllerSelectionError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return names


def _bind_address(text: str) -> str:
    try:
        parse_bind_address(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    """``15``, ``15s``, ``1.5s`` or ``2m``."""
    scale = 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 0.001
    elif text.endswith("s"):
        text = text[:-1]
    elif text.endswith("m"):
        text, scale = text[:-1], 60.0
    try:
        value = float(text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration such as 15s, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("a duration must be positive")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    available = ", ".join(setup.available()) or "none yet"
    parser = subparsers.add_parser(
        "controller",
        help="run the kaito controllers (the operator)",
        description="Run the kaito controllers against a cluster: the kubeconfig given, $KUBECONFIG, "
        "the in-cluster service account, or ~/.kube/config.",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)",
    )
    parser.add_argument(
        "--controllers",
        type=_controller_names,
        metavar="NAMES",
        help=f"comma-separated controllers to run, from {', '.join(setup.CONTROLLERS)} "
        f"(default: every available one; available: {available})",
    )
    parser.add_argument(
        "--metrics-bind-address",
        type=_bind_address,
        default=":8080",
        metavar="ADDR",
        help="where /metrics is served; 0 disables (default :8080)",
    )
    parser.add_argument(
        "--health-probe-bind-address",
        type=_bind_address,
        default=":8081",
        metavar="ADDR",
        help="where /healthz and /readyz are served; 0 disables (default :8081)",
    )
    parser.add_argument("--leader-elect", action="store_true", help="elect a leader so only one replica acts")
    parser.add_argument(
        "--leader-election-id",
        default=DEFAULT_LEADER_ELECTION_ID,
        metavar="NAME",
        help=f"name of the leader-election Lease (default {DEFAULT_LEADER_ELECTION_ID})",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default="",
        metavar="NS",
        help="namespace of the Lease (default: the pod's namespace)",
    )
    parser.add_argument(
        "--leader-election-lease-duration",
        type=_seconds,
        default=15.0,
        metavar="DURATION",
        help="how long a lease is valid without renewal (default 15s)",
    )
    parser.add_argument(
        "--leader-election-renew-deadline",
        type=_seconds,
        default=10.0,
        metavar="DURATION",
        help="how long the leader retries renewing before it stops acting (default 10s)",
    )
    parser.add_argument(
        "--leader-election-retry-period",
        type=_seconds,
        default=2.0,
        metavar="DURATION",
        help="how often candidates try to acquire or renew (default 2s)",
    )
    parser.add_argument(
        "--concurrent-reconciles",
        type=_positive_int,
        default=5,
        metavar="N",
        help="reconcile workers per controller (default 5)",
    )
    parser.add_argument(
        "--kube-api-qps",
        type=float,
        default=DEFAULT_CLIENT_QPS,
        metavar="QPS",
        help=f"client-side request rate limit; 0 disables (default {DEFAULT_CLIENT_QPS:g})",
    )
    parser.add_argument(
        "--kube-api-burst",
        type=_positive_int,
        default=DEFAULT_CLIENT_BURST,
        metavar="N",
        help=f"client-side request burst (default {DEFAULT_CLIENT_BURST})",
    )
    parser.add_argument(
        "--graceful-shutdown-timeout",
        type=_seconds,
        default=30.0,
        metavar="DURATION",
        help="how long reconciles in flight may finish at shutdown (default 30s)",
    )
    parser.add_argument(
        "--log-format",
        choices=("json", "console"),
        default="json",
        help="json lines (default) or human-readable console output",
    )
    parser.add_argument("--log-level", choices=LEVELS, default="info")
    _add_workspace_flags(parser)
    parser.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 0 and 65535, got {value}")
    return value


def _add_workspace_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("workspace controller")
    group.add_argument(
        "--node-provisioner",
        choices=[p.value for p in NodeProvisioner],
        default=NodeProvisioner.NODECLAIM.value,
        help="nodeclaim: create karpenter.sh/v1 NodeClaims (default); machine: karpenter.sh/v1alpha5 "
        "Machines; byo: create nothing and wait for matching nodes",
    )
    group.add_argument(
        "--cloud-provider",
        choices=CLOUDS,
        default=os.environ.get("CLOUD_PROVIDER", "azure"),
        help="whose GPU SKU table applies (default $CLOUD_PROVIDER or azure)",
    )
    group.add_argument(
        "--preset-registry",
        default=os.environ.get("PRESET_REGISTRY_NAME", DEFAULT_REGISTRY),
        metavar="REGISTRY",
        help="registry of the kaito-<preset> model images "
        f"(default $PRESET_REGISTRY_NAME or {DEFAULT_REGISTRY})",
    )
    group.add_argument(
        "--base-image-tag",
        default=__version__,
        metavar="TAG",
        help="tag of kaito-base, the image of presets that download weights at run time "
        f"(default {__version__})",
    )
    group.add_argument(
        "--gpu-ready-deadline",
        type=_seconds,
        default=600.0,
        metavar="DURATION",
        help="how long a Ready node may report no nvidia.com/gpu before the status names it (default 10m)",
    )
    group.add_argument(
        "--webhook-port",
        type=_port,
        default=0,
        metavar="PORT",
        help="serve the validating admission webhook on this port (the chart uses 9443); "
        "0 disables (default)",
    )
    group.add_argument(
        "--webhook-service",
        default=os.environ.get("WEBHOOK_SERVICE", "kaito-webhook"),
        metavar="NAME",
        help="the Service the API server calls the webhook through "
        "(default $WEBHOOK_SERVICE or kaito-webhook)",
    )
    group.add_argument(
        "--webhook-namespace",
        default=os.environ.get("SYSTEM_NAMESPACE", ""),
        metavar="NS",
        help="namespace of the webhook Service and certificate Secret "
        "(default $SYSTEM_NAMESPACE or the pod's)",
    )
    group.add_argument(
        "--webhook-url",
        metavar="URL",
        help="register the webhook at this https URL instead of the Service (the controller runs outside "
        "the cluster)",
    )


def _setup_options(args: argparse.Namespace) -> setup.SetupOptions:
    provisioner = NodeProvisioner(args.node_provisioner)
    workspace = WorkspaceOptions(
        registry=args.preset_registry,
        base_image_tag=args.base_image_tag,
        node_provisioner=provisioner,
        cloud=args.cloud_provider,
        gpu_ready_deadline_seconds=args.gpu_ready_deadline,
    )
    webhook = None
    if args.webhook_port:
        namespace = args.webhook_namespace or in_cluster_namespace()
        if not namespace:
            raise ValueError(
                "the webhook needs a namespace for its Service and certificate Secret: "
                "pass --webhook-namespace (or --webhook-port 0 to run without the webhook)"
            )
        target = WebhookTarget(namespace, args.webhook_service, args.webhook_port, args.webhook_url)
        webhook = WebhookOptions(target, node_provisioner=provisioner, cloud=args.cloud_provider)
    return setup.SetupOptions(args.concurrent_reconciles, workspace, webhook)


def _leader_election(args: argparse.Namespace) -> LeaderElectionConfig | None:
    if not args.leader_elect:
        return None
    return LeaderElectionConfig(
        name=args.leader_election_id,
        lease_duration=args.leader_election_lease_duration,
        renew_deadline=args.leader_election_renew_deadline,
        retry_period=args.leader_election_retry_period,
    )


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_format, args.log_level)
    try:
        chosen = setup.resolve(args.controllers)
        setup_options = _setup_options(args)
        options = ManagerOptions(
            metrics_bind_address=args.metrics_bind_address,
            health_probe_bind_address=args.health_probe_bind_address,
            leader_election=_leader_election(args),
            leader_election_namespace=args.leader_election_namespace,
            graceful_shutdown_timeout=args.graceful_shutdown_timeout,
        )
    except ValueError as err:
        print(f"kaito controller: error: {err}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args, chosen, options, setup_options))


async def _serve(
    args: argparse.Namespace,
    chosen: list[tuple[str, setup.SetupFunc]],
    options: ManagerOptions,
    setup_options: setup.SetupOptions,
) -> int:
    try:
        config = await load_rest_config(args.kubeconfig)
    except ConfigError as err:
        print(f"kaito controller: error: {err}", file=sys.stderr)
        return 2
    qps = args.kube_api_qps if args.kube_api_qps > 0 else None
    async with Client(config, qps=qps, burst=args.kube_api_burst) as client:
        try:
            manager = Manager(client, options)
        except ValueError as err:
            print(f"kaito controller: error: {err}", file=sys.stderr)
            return 2
        setup.setup_controllers(manager, chosen, setup_options)
        if not chosen:
            log.warning("no controllers enabled", available=setup.available())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, manager.stop)
        try:
            log.info("starting", controllers=[name for name, _ in chosen], host=config.host)
            await manager.run()
        except LeaderElectionLost as err:
            log.error("leader election lost, exiting", error=str(err))
            return 1
        except Exception as err:
            log.error("manager failed", error=str(err), exc_info=err)
            return 1
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    log.info("shut down cleanly")
    return 0
