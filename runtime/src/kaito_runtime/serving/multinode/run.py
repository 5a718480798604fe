"""Entry point of ``kaito-runtime serve`` when ``KAITO_NODE_COUNT`` > 1: the leader or a worker."""

from __future__ import annotations

import importlib.util
import logging
import signal
from types import FrameType

from kaito_runtime.errors import StartupError, UsageError
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.multinode.environment import NODE_COUNT_ENV, NODE_RANK_ENV, MultiNodeSettings
from kaito_runtime.serving.options import ServeOptions

logger = logging.getLogger(__name__)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM while waiting for the cluster stops the pod promptly (and its Ray child with it)."""
    raise KeyboardInterrupt("terminated")


def serve_multinode(
    options: ServeOptions, config: InferenceConfig | None, settings: MultiNodeSettings
) -> None:
    if options.runtime != "vllm":
        raise UsageError(
            f"{NODE_COUNT_ENV}={settings.node_count}: the {options.runtime} runtime serves from one node; "
            "a model spread over several nodes needs --runtime=vllm"
        )
    if importlib.util.find_spec("ray") is None:
        raise StartupError("multi-node serving needs Ray, which is not installed: pip install 'ray[default]'")
    signal.signal(signal.SIGTERM, _interrupt)
    logger.info("multi-node serving: node %d of %d", settings.rank, settings.node_count)
    if settings.is_leader:
        from kaito_runtime.serving.multinode.leader import run_leader
        from kaito_runtime.serving.vllm_runtime.run import prepare_vllm, serve_vllm

        # Bad vLLM arguments fail here, before any pod waits for a cluster that could not serve.
        prepared = prepare_vllm(options, config)
        run_leader(settings, lambda: serve_vllm(prepared))
    else:
        from kaito_runtime.serving.multinode.worker import run_worker

        logger.info("%s=%d: Ray worker; the API is served by rank 0", NODE_RANK_ENV, settings.rank)
        run_worker(settings, options.host, options.port)
