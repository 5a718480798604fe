"""Settings of the workspace controller (``kaito controller`` flags), in one place."""

from __future__ import annotations

from dataclasses import dataclass

from kaito.api.wellknown import NodeProvisioner
from kaito.presets.params import DEFAULT_REGISTRY

DEFAULT_INFERENCE_CONFIG = """\
# Defaults for the kaito runtime. Keys under `vllm:` (or `transformers:`) are
# engine options; they override the values kaito computes for the GPUs.
vllm:
  cpu-offload-gb: 0
  # max-model-len: 4096
  # gpu-memory-utilization: 0.9
"""


@dataclass(frozen=True)
class WorkspaceOptions:
    registry: str = DEFAULT_REGISTRY
    # Image for presets that download their weights at run time (no baked image).
    base_image_tag: str = "0.1.0"
    node_provisioner: NodeProvisioner = NodeProvisioner.NODECLAIM
    cloud: str = "azure"
    # How long a Ready node may report no nvidia.com/gpu before the condition says so.
    gpu_ready_deadline_seconds: float = 600.0
    # OS disk for template workspaces, whose model size kaito cannot know.
    template_disk_gib: int = 128
    default_inference_config: str = DEFAULT_INFERENCE_CONFIG
