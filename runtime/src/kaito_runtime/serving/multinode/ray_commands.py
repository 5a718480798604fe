"""The ``ray start`` command lines of the leader (Ray head) and of the workers (pure)."""

from __future__ import annotations

import ipaddress
import sys

from kaito_runtime.serving.multinode.environment import MultiNodeSettings

# Children the runtime starts must run the Ray of this interpreter (PATH may not hold its scripts).
RAY_CLI = (sys.executable, "-m", "ray.scripts.scripts")


def host_port(host: str, port: int) -> str:
    """``host:port``, bracketing IPv6 literals."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def _common(gpus: int, extra: tuple[str, ...]) -> list[str]:
    # --block keeps `ray start` in the foreground as the parent of Ray's processes: it exits when
    # one of them dies, and stops them all on SIGTERM, so the runtime can supervise a single child.
    # Options in KAITO_RAY_START_ARGS come last and win (e.g. --num-gpus, --node-ip-address).
    return [f"--num-gpus={gpus}", "--block", "--disable-usage-stats", *extra]


def head_command(settings: MultiNodeSettings, gpus: int) -> list[str]:
    """The Ray head on the leader, listening on every interface so the workers can reach it."""
    return [
        *RAY_CLI,
        "start",
        "--head",
        f"--port={settings.ray_port}",
        "--include-dashboard=false",
        *_common(gpus, settings.ray_start_args),
    ]


def worker_command(settings: MultiNodeSettings, gpus: int) -> list[str]:
    """A Ray worker node joining the leader's head."""
    return [
        *RAY_CLI,
        "start",
        f"--address={host_port(settings.leader_address, settings.ray_port)}",
        *_common(gpus, settings.ray_start_args),
    ]


def driver_address(settings: MultiNodeSettings) -> str:
    """How processes on the leader reach its own head (vLLM reads it from ``RAY_ADDRESS``)."""
    return host_port("127.0.0.1", settings.ray_port)
