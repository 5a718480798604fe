"""The multi-node settings the controller passes in the environment, parsed and validated (pure)."""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from kaito_runtime.errors import UsageError

NODE_COUNT_ENV = "KAITO_NODE_COUNT"
NODE_RANK_ENV = "KAITO_NODE_RANK"
LEADER_ADDRESS_ENV = "KAITO_LEADER_ADDRESS"
RAY_PORT_ENV = "KAITO_RAY_PORT"
CLUSTER_TIMEOUT_ENV = "KAITO_CLUSTER_TIMEOUT_SECONDS"
RAY_START_ARGS_ENV = "KAITO_RAY_START_ARGS"

DEFAULT_RAY_PORT = 6379
# Long enough for every pod of a large model to be scheduled and pull its image.
DEFAULT_CLUSTER_TIMEOUT_SECONDS = 1800.0

# ``ray start`` options kaito-runtime decides itself: the same on every pod, or the pods would not
# find each other.
RESERVED_RAY_OPTIONS = ("--head", "--address", "--port", "--block")

# Shown by ``kaito-runtime serve --help``.
ENVIRONMENT_HELP = """multi-node serving (vLLM only), from the environment:
  KAITO_NODE_COUNT=N      pods serving one model together; more than 1 turns multi-node serving on
  KAITO_NODE_RANK=I       this pod's index: 0 runs the Ray head and vLLM, the others join as Ray workers
                          and answer only GET /health
  KAITO_LEADER_ADDRESS=H  host name (or IP) of rank 0, as every pod reaches it
  KAITO_RAY_PORT=6379     port of the Ray head
  KAITO_CLUSTER_TIMEOUT_SECONDS=1800
                          how long rank 0 waits for all N pods, and workers for the Ray head
  KAITO_RAY_START_ARGS    extra `ray start` options, e.g. "--num-gpus=4 --temp-dir=/scratch/ray"
"""

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?")


@dataclass(frozen=True)
class MultiNodeSettings:
    """Where this pod stands in a multi-node workspace and how the pods find each other."""

    node_count: int
    rank: int
    leader_address: str
    ray_port: int = DEFAULT_RAY_PORT
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT_SECONDS
    ray_start_args: tuple[str, ...] = ()

    @property
    def is_leader(self) -> bool:
        return self.rank == 0


def _integer(environ: Mapping[str, str], name: str) -> int:
    text = environ[name].strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise UsageError(f"{name} must be a non-negative integer, got {environ[name]!r}")
    return int(text)


def _required(environ: Mapping[str, str], name: str, count: int) -> str:
    value = environ.get(name)
    if value is None or not value.strip():
        raise UsageError(f"{name} is required when {NODE_COUNT_ENV}={count} (multi-node serving)")
    return value.strip()


def _leader_address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _DNS_NAME.fullmatch(text):
        raise UsageError(
            f"{LEADER_ADDRESS_ENV} must be the leader pod's host name or IP address (no scheme or port), "
            f"got {text!r}"
        )
    return text


def _port(environ: Mapping[str, str]) -> int:
    if RAY_PORT_ENV not in environ:
        return DEFAULT_RAY_PORT
    port = _integer(environ, RAY_PORT_ENV)
    if not 0 < port < 65536:
        raise UsageError(f"{RAY_PORT_ENV} must be between 1 and 65535, got {port}")
    return port


def _timeout(environ: Mapping[str, str]) -> float:
    text = environ.get(CLUSTER_TIMEOUT_ENV)
    if text is None:
        return DEFAULT_CLUSTER_TIMEOUT_SECONDS
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{CLUSTER_TIMEOUT_ENV} must be a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise UsageError(f"{CLUSTER_TIMEOUT_ENV} must be a positive number of seconds, got {text!r}")
    return value


def _ray_start_args(environ: Mapping[str, str]) -> tuple[str, ...]:
    text = environ.get(RAY_START_ARGS_ENV, "")
    try:
        args = tuple(shlex.split(text))
    except ValueError as error:
        raise UsageError(f"{RAY_START_ARGS_ENV} cannot be split into arguments: {error}") from None
    for arg in args:
        if arg.split("=", 1)[0] in RESERVED_RAY_OPTIONS:
            raise UsageError(
                f"{RAY_START_ARGS_ENV} must not set {arg.split('=', 1)[0]}: kaito-runtime sets "
                f"{', '.join(RESERVED_RAY_OPTIONS)} itself"
            )
    return args


def parse_node_environment(environ: Mapping[str, str]) -> MultiNodeSettings | None:
    """The multi-node settings, or None when this pod serves alone (no ``KAITO_NODE_COUNT``, or 1)."""
    if NODE_COUNT_ENV not in environ:
        return None
    count = _integer(environ, NODE_COUNT_ENV)
    if count == 0:
        raise UsageError(f"{NODE_COUNT_ENV} must be at least 1, got 0")
    if count == 1:
        return None
    rank_text = _required(environ, NODE_RANK_ENV, count)
    rank = _integer({NODE_RANK_ENV: rank_text}, NODE_RANK_ENV)
    if rank >= count:
        raise UsageError(
            f"{NODE_RANK_ENV}={rank} is out of range: {NODE_COUNT_ENV}={count} allows 0 to {count - 1}"
        )
    return MultiNodeSettings(
        node_count=count,
        rank=rank,
        leader_address=_leader_address(_required(environ, LEADER_ADDRESS_ENV, count)),
        ray_port=_port(environ),
        cluster_timeout=_timeout(environ),
        ray_start_args=_ray_start_args(environ),
    )
