"""Every well-known string kaito shares with the cluster: labels, annotations,
finalizers, condition types, reasons, states and runtime names.

Values match upstream KAITO so existing manifests, dashboards and tooling keep
working; anything kaito adds beyond upstream is marked as such.
"""

from __future__ import annotations

from enum import StrEnum

GROUP = "kaito.sh"

# Labels
LABEL_WORKSPACE = "kaito.sh/workspace"
LABEL_WORKSPACE_NAMESPACE = "kaito.sh/workspacenamespace"
LABEL_REVISION_WORKSPACE = "workspace.kaito.io/name"  # on ControllerRevisions
LABEL_MACHINE_TYPE = "kaito.sh/machine-type"
LABEL_CREATION_TIMESTAMP = "kaito.sh/creation-timestamp"
LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type"
LABEL_OS = "kubernetes.io/os"
LABEL_ARCH = "kubernetes.io/arch"
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ACCELERATOR = "accelerator"
ACCELERATOR_NVIDIA = "nvidia"
LABEL_AGENTPOOL = "agentpool"
LABEL_AKS_AGENTPOOL = "kubernetes.azure.com/agentpool"
LABEL_AZURE_SKU_NAME = "karpenter.azure.com/sku-name"
LABEL_NODEPOOL = "karpenter.sh/nodepool"
LABEL_PROVISIONER_NAME = "karpenter.sh/provisioner-name"
LABEL_KARPENTER_REGISTERED = "karpenter.sh/registered"
LABEL_KARPENTER_INITIALIZED = "karpenter.sh/initialized"
LABEL_GPU_PRODUCT = "nvidia.com/gpu.product"
LABEL_GPU_COUNT = "nvidia.com/gpu.count"
LABEL_GPU_MEMORY = "nvidia.com/gpu.memory"
LABEL_CUDA_COMPUTE_MAJOR = "nvidia.com/cuda.compute.major"
LABEL_CUDA_COMPUTE_MINOR = "nvidia.com/cuda.compute.minor"

# Keys a user's labelSelector may not claim: the controller owns them.
RESERVED_SELECTOR_KEYS = frozenset(
    {
        LABEL_WORKSPACE,
        LABEL_WORKSPACE_NAMESPACE,
        "kaito.sh/ragengine",
        "kaito.sh/ragenginenamespace",
        "karpenter.kaito.sh/workspace-name",
        "karpenter.kaito.sh/workspace-namespace",
        "karpenter.kaito.sh/inferenceset",
        "karpenter.kaito.sh/inferenceset-namespace",
    }
)

# Annotations
ANNOTATION_RUNTIME = "kaito.sh/runtime"
ANNOTATION_BYPASS_RESOURCE_CHECKS = "kaito.sh/bypass-resource-checks"
ANNOTATION_ENABLE_LB = "kaito.sh/enablelb"
ANNOTATION_NODE_IMAGE_FAMILY = "kaito.sh/node-image-family"
ANNOTATION_REVISION = "workspace.kaito.io/revision"
ANNOTATION_HASH = "workspace.kaito.io/hash"
ANNOTATION_DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"

ENABLE_LB_VALUE = "True"
NODE_IMAGE_FAMILIES = ("azurelinux", "ubuntu")

# Finalizers
FINALIZER_WORKSPACE = "workspace.finalizer.kaito.sh"
FINALIZER_KARPENTER_TERMINATION = "karpenter.sh/termination"

# Node resources and taints
RESOURCE_NVIDIA_GPU = "nvidia.com/gpu"
TAINT_SKU_KEY = "sku"
TAINT_SKU_VALUE = "gpu"
NODEPOOL_KAITO = "kaito"
PROVISIONER_DEFAULT = "default"


class NodeProvisioner(StrEnum):
    """How the controller gets GPU nodes (``kaito controller --node-provisioner``)."""

    NODECLAIM = "nodeclaim"  # karpenter.sh/v1 NodeClaims (the default)
    MACHINE = "machine"  # karpenter.sh/v1alpha5 Machines (older gpu-provisioner)
    BYO = "byo"  # bring your own nodes: create nothing, wait for matching nodes


class Runtime(StrEnum):
    """Inference runtime, chosen by annotation ``kaito.sh/runtime``."""

    VLLM = "vllm"
    TRANSFORMERS = "transformers"


class TuningMethod(StrEnum):
    LORA = "lora"
    QLORA = "qlora"


class AccessMode(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class WorkspaceState(StrEnum):
    """Summary state: Pending, Ready or NotReady (inference); Running, Succeeded or Failed (tuning)."""

    PENDING = "Pending"
    READY = "Ready"
    NOT_READY = "NotReady"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class ConditionType(StrEnum):
    MACHINE_READY = "MachineReady"
    NODECLAIM_READY = "NodeClaimReady"
    NODES_READY = "NodesReady"
    RESOURCE_READY = "ResourceReady"
    INFERENCE_READY = "InferenceReady"
    JOB_STARTED = "JobStarted"
    WORKSPACE_SUCCEEDED = "WorkspaceSucceeded"
    WORKSPACE_DELETING = "WorkspaceDeleting"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Reason(StrEnum):
    """Condition reasons, spelled as upstream spells them."""

    WORKSPACE_DELETED = "workspaceDeleted"
    WORKSPACE_SUCCEEDED = "workspaceSucceeded"
    WORKSPACE_FAILED = "workspaceFailed"
    WORKSPACE_PENDING = "workspacePending"
    RESOURCE_STATUS_SUCCESS = "workspaceResourceStatusSuccess"
    RESOURCE_STATUS_FAILED = "workspaceResourceStatusFailed"
    CREATE_NODECLAIM_PENDING = "CreateNodeClaimPending"
    CREATE_MACHINE_PENDING = "CreateMachinePending"
    NODECLAIM_FAILED_CREATION = "nodeClaimFailedCreation"
    MACHINE_FAILED_CREATION = "machineFailedCreation"
    NODECLAIMS_READY = "NodeClaimsReady"
    NODECLAIM_NOT_READY = "NodeClaimNotReady"
    MACHINES_READY = "MachinesReady"
    MACHINE_NOT_READY = "MachineNotReady"
    NODES_READY = "NodesReady"
    NODE_NOT_READY = "NodeNotReady"
    NODE_PLUGINS_NOT_READY = "NodePluginsNotReady"
    INSTALL_NODE_PLUGINS_SUCCESS = "installNodePluginsSuccess"
    INFERENCE_STATUS_SUCCESS = "WorkspaceInferenceStatusSuccess"
    INFERENCE_STATUS_PENDING = "WorkspaceInferenceStatusPending"
    INFERENCE_STATUS_FAILED = "WorkspaceInferenceStatusFailed"
    TUNING_JOB_STATUS_STARTED = "WorkspaceTuningJobStatusStarted"
    TUNING_JOB_STATUS_PENDING = "WorkspaceTuningJobStatusPending"
    TUNING_JOB_STATUS_FAILED = "WorkspaceTuningJobStatusFailed"
    TUNING_UNAVAILABLE = "TuningUnavailable"
    # A node request the provisioner could not launch (gpu-provisioner's reason on the claim).
    LAUNCH_FAILED = "LaunchFailed"
    # Workload failure classes (pods and node claims).
    IMAGE_PULL_ERROR = "ImagePullError"
    CONTAINER_CRASH_LOOP_BACK_OFF = "ContainerCrashLoopBackOff"
    CONTAINER_OOM_KILLED = "ContainerOOMKilled"
    CONTAINER_START_ERROR = "ContainerStartError"
    POD_EVICTED = "PodEvicted"
    UNSCHEDULABLE = "Unschedulable"
    NODE_DISK_PRESSURE = "NodeDiskPressure"
    NODE_MEMORY_PRESSURE = "NodeMemoryPressure"
