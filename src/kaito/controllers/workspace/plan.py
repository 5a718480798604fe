"""What a workspace needs, decided once from its spec and the GPUs it runs on.

The plan is a pure function of (workspace, GPU facts, options): which preset
and runtime, how many nodes, how the model is laid out, and the runtime
parameters. Reconcilers read it; they never recompute pieces of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kaito.api.wellknown import ANNOTATION_BYPASS_RESOURCE_CHECKS, Runtime
from kaito.api.workspace import Workspace
from kaito.presets.catalog import ModelPreset, get_preset
from kaito.presets.compat import resolve_runtime, runtime_unsupported_reason
from kaito.presets.estimator import MIN_CONTEXT, Estimate, estimate
from kaito.presets.skus import GPUConfig


class PlanError(Exception):
    """The workspace cannot run as asked; the message is for the user's status."""


@dataclass(frozen=True)
class InferencePlan:
    preset: ModelPreset | None  # None for template workspaces
    gpu: GPUConfig | None  # None while unknown (unlisted SKU, BYO nodes not found yet)
    runtime: Runtime
    estimate: Estimate | None
    node_count: int
    replicas: int

    @property
    def distributed(self) -> bool:
        """One model instance spans several nodes (vLLM pipeline parallel)."""
        return self.estimate is not None and self.estimate.nodes > 1


def plan_inference(
    workspace: Workspace, gpu: GPUConfig | None, max_model_len: int | None = None
) -> InferencePlan:
    inference = workspace.inference
    if inference is None:
        raise PlanError("workspace has no inference spec")
    requested = (workspace.resource.count if workspace.resource else None) or 1
    try:
        runtime = resolve_runtime(workspace.runtime_annotation, gpu)
    except ValueError as err:
        raise PlanError(str(err)) from None
    if inference.preset is None:
        # A template runs as written: one replica per requested node.
        return InferencePlan(None, gpu, runtime, None, node_count=requested, replicas=requested)
    preset = get_preset(inference.preset.name)
    if preset is None:
        raise PlanError(f"Unsupported inference preset name {inference.preset.name}")
    reason = runtime_unsupported_reason(preset, runtime, gpu)
    if reason is not None:
        raise PlanError(reason)
    if gpu is None:
        raise PlanError(f"the GPUs of instance type {_instance_type(workspace)} are unknown")
    result = estimate(preset, gpu, runtime, max_model_len=max_model_len)
    if not result.fits:
        if ANNOTATION_BYPASS_RESOURCE_CHECKS not in workspace.annotations:
            raise PlanError(result.reason or f"preset {preset.name} does not fit {gpu.sku}")
        # The user overrode the check: run the largest layout at the shortest useful context.
        shortest = max_model_len or min(MIN_CONTEXT, preset.architecture.max_context)
        result = replace(result, fits=True, reason=None, max_model_len=max(result.max_model_len, shortest))
    if runtime == Runtime.VLLM:
        # vLLM: one instance, on as many nodes as the estimator needs.
        return InferencePlan(preset, gpu, runtime, result, node_count=result.nodes, replicas=1)
    # transformers: each node serves a full copy, so resource.count is the replica count.
    return InferencePlan(preset, gpu, runtime, result, node_count=requested, replicas=requested)


def _instance_type(workspace: Workspace) -> str:
    return (workspace.resource.instance_type if workspace.resource else None) or "(none)"
