"""The names the KAITO controller relies on to start and probe this runtime, in one place.

The controller (a separate package that this one never imports) builds the pod that runs the
model image: its command line, environment, mounts and probes. Each name below is half of that
contract; the other half is spelled in the operator's builders, and a test there compares the
two, so a rename here cannot silently break pods. The runtime's own modules import these
constants instead of repeating the literals, so this file is the only place to change them.
"""

from __future__ import annotations

from typing import Final

# --- the command ---------------------------------------------------------------------------
COMMAND: Final = "kaito-runtime"  # console script of the image
SERVE_SUBCOMMAND: Final = "serve"

RUNTIME_FLAG: Final = "--runtime"
RUNTIME_VLLM: Final = "vllm"
RUNTIME_TRANSFORMERS: Final = "transformers"
RUNTIME_NAMES: Final = (RUNTIME_VLLM, RUNTIME_TRANSFORMERS)

MODEL_FLAG: Final = "--model"
REVISION_FLAG: Final = "--revision"
SERVED_MODEL_NAME_FLAG: Final = "--served-model-name"
HOST_FLAG: Final = "--host"
PORT_FLAG: Final = "--port"
CONFIG_FLAG: Final = "--config"
ADAPTERS_DIR_FLAG: Final = "--adapters-dir"
MAX_WAITING_REQUESTS_FLAG: Final = "--max-waiting-requests"
MAX_SEQUENCES_PER_REQUEST_FLAG: Final = "--max-sequences-per-request"
MAX_REQUEST_BODY_BYTES_FLAG: Final = "--max-request-body-bytes"
REQUEST_BODY_TIMEOUT_FLAG: Final = "--request-body-timeout"
API_KEY_FILE_FLAG: Final = "--api-key-file"
METRICS_REQUIRE_API_KEY_FLAG: Final = "--metrics-require-api-key"

# --- HTTP ----------------------------------------------------------------------------------
DEFAULT_PORT: Final = 5000
HEALTH_PATH: Final = "/health"  # startup, liveness and readiness probes; never needs an API key
METRICS_PATH: Final = "/metrics"  # Prometheus text on both runtimes

# --- mounts --------------------------------------------------------------------------------
CONFIG_DIR: Final = "/mnt/config"  # the ConfigMap volume
CONFIG_FILE_NAME: Final = "inference_config.yaml"  # its key
CONFIG_PATH: Final = f"{CONFIG_DIR}/{CONFIG_FILE_NAME}"
CONFIG_SECTIONS: Final = RUNTIME_NAMES  # the file's per-runtime engine-argument maps
ADAPTERS_DIR: Final = "/mnt/adapter"  # one sub-folder per LoRA adapter

# --- environment ---------------------------------------------------------------------------
API_KEY_ENV: Final = "KAITO_API_KEY"  # alternative to --api-key-file (e.g. from a Secret's key)

# Multi-node serving (vLLM over Ray): which pod this is and how the pods find each other.
NODE_COUNT_ENV: Final = "KAITO_NODE_COUNT"
NODE_RANK_ENV: Final = "KAITO_NODE_RANK"
LEADER_ADDRESS_ENV: Final = "KAITO_LEADER_ADDRESS"
RAY_PORT_ENV: Final = "KAITO_RAY_PORT"
CLUSTER_TIMEOUT_ENV: Final = "KAITO_CLUSTER_TIMEOUT_SECONDS"
RAY_START_ARGS_ENV: Final = "KAITO_RAY_START_ARGS"
DEFAULT_RAY_PORT: Final = 6379
