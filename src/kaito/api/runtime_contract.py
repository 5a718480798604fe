"""The names the operator relies on to start and probe the model image, in one place.

The model image runs ``kaito-runtime`` (the separate ``runtime/`` package, which
the operator never imports). Each name below is the operator's half of that
contract: the command line, the port and probe path, the config and adapter
mounts, and the multi-node environment. The runtime spells its half in
``kaito_runtime.contract``; ``tests/contract/`` builds real pod templates with
the controller's builders and feeds them through the runtime's own parsers, so
a rename on either side fails a test instead of a pod.
"""

from __future__ import annotations

from typing import Final

COMMAND: Final = "kaito-runtime"
SERVE_SUBCOMMAND: Final = "serve"
SERVE_COMMAND: Final = (COMMAND, SERVE_SUBCOMMAND)

PORT: Final = 5000
HEALTH_PATH: Final = "/health"

CONFIG_DIR: Final = "/mnt/config"
CONFIG_FILE_NAME: Final = "inference_config.yaml"  # the ConfigMap key, mounted as a file
CONFIG_PATH: Final = f"{CONFIG_DIR}/{CONFIG_FILE_NAME}"
ADAPTERS_DIR: Final = "/mnt/adapter"

# Multi-node serving: which pod this is and how the pods of one instance find each other.
NODE_COUNT_ENV: Final = "KAITO_NODE_COUNT"
NODE_RANK_ENV: Final = "KAITO_NODE_RANK"
LEADER_ADDRESS_ENV: Final = "KAITO_LEADER_ADDRESS"
RAY_PORT_ENV: Final = "KAITO_RAY_PORT"
CLUSTER_TIMEOUT_ENV: Final = "KAITO_CLUSTER_TIMEOUT_SECONDS"
RAY_PORT: Final = 6379
