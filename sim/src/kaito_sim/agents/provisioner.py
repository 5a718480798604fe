"""A fake node provisioner: what Azure gpu-provisioner plus Karpenter do for
``karpenter.sh/v1`` NodeClaims and ``karpenter.sh/v1alpha5`` Machines.

Lifecycle: finalizer ``karpenter.sh/termination`` -> Launched (after a delay,
or LaunchFailed with a quota error when scripted) -> a Node named like an AKS
VMSS node joins -> Registered -> the Node turns Ready -> Initialized -> Ready.
The device plugin reports ``nvidia.com/gpu`` after its own delay (or never,
when scripted). Deleting a claim deletes its Node, then drops the finalizer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kaito.api import wellknown as wk
from kaito.api.resources import MACHINE, NODE, NODECLAIM, ResourceType
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.nodes import is_ready, node_conditions, node_object
from kaito_sim.agents.timings import Timings
from kaito_sim.emulator import clock
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
GpuLookup = Callable[[str], "int | None"]

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
NODE_RESOURCE_GROUP = "mc_kaito-rg_kaito-cluster_eastus"
CLAIM_LABEL = "sandbox.kaito.sh/node-claim"  # on Nodes this provisioner created


def quota_family(instance_type: str) -> str:
    """``Standard_NC12s_v3`` -> ``standardNCSv3Family`` (how Azure names core-quota families)."""
    parts = instance_type.split("_")
    if len(parts) < 2:
        return "standardFamily"
    m = re.match(r"^([A-Z]+)\d*([a-z]*)$", parts[1])
    series = (m.group(1) + m.group(2).upper()) if m else parts[1].upper()
    extra = "".join(p for p in parts[2:-1])
    version = parts[-1] if len(parts) > 2 else ""
    return f"standard{series}{extra}{version}Family"


def quota_message(claim_name: str, instance_type: str) -> str:
    """gpu-provisioner's error text when AKS refuses the agent pool for lack of core quota."""
    family = quota_family(instance_type)
    rule = "-" * 80
    url = (
        f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/kaito-rg/providers/"
        f"Microsoft.ContainerService/managedClusters/kaito-cluster/agentPools/{claim_name}"
    )
    detail = (
        "Preflight validation check for resource(s) for container service kaito-cluster in resource group "
        "MC_kaito-rg_kaito-cluster_eastus failed. Message: Operation could not be completed as it results in "
        f"exceeding approved {family} Cores quota. Additional details - Deployment Model: Resource Manager, "
        "Location: eastus, Current Limit: 0, Current Usage: 0, Additional Required: 12, (Minimum) New Limit "
        "Required: 12. Submit a request for Quota increase at https://aka.ms/ProdCoreQuotaIncrease by "
        "specifying parameters listed in the 'Details' section for deployment to succeed."
    )
    return (
        f'agentPool.BeginCreateOrUpdate for "{claim_name}" failed: PUT {url}\n{rule}\n'
        f"RESPONSE 400: 400 Bad Request\nERROR CODE: QuotaExceeded\n{rule}\n"
        f'{{"code": "QuotaExceeded", "message": "{detail}"}}'
    )


@dataclass
class ProvisionerScript:
    """Scripted provisioning problems, matched by instance type (None: every instance type)."""

    quota_exceeded: set[str | None] = field(default_factory=set)
    missing_device_plugin: set[str | None] = field(default_factory=set)

    @staticmethod
    def hit(entries: set[str | None], instance_type: str) -> bool:
        return None in entries or instance_type in entries


@dataclass
class ClaimProgress:
    created: float
    launched: float | None = None
    registered: float | None = None


@dataclass(frozen=True)
class Kind:
    """NodeClaim and Machine differ only in names."""

    resource: ResourceType
    store_key: str
    launched: str
    registered: str
    initialized: str


NODECLAIM_KIND = Kind(NODECLAIM, "nodeclaims.karpenter.sh", "Launched", "Registered", "Initialized")
MACHINE_KIND = Kind(
    MACHINE, "machines.karpenter.sh", "MachineLaunched", "MachineRegistered", "MachineInitialized"
)
_KINDS = {k.store_key: k for k in (NODECLAIM_KIND, MACHINE_KIND)}


def node_name_for(claim_name: str) -> str:
    return f"aks-{claim_name}-12345678-vmss000000"


def provider_id_for(claim_name: str) -> str:
    return (
        f"azure:///subscriptions/{SUBSCRIPTION}/resourceGroups/{NODE_RESOURCE_GROUP}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/aks-{claim_name}-12345678-vmss/virtualMachines/0"
    )


def instance_type_of(claim: Obj) -> str:
    for req in (claim.get("spec") or {}).get("requirements") or []:
        if req.get("key") == wk.LABEL_INSTANCE_TYPE and req.get("operator") == "In" and req.get("values"):
            return str(req["values"][0])
    return ""


class NodeProvisioner(Agent):
    name = "node-provisioner"

    def __init__(self, store: Store, client: LocalClient, timings: Timings, gpu_lookup: GpuLookup) -> None:
        super().__init__(store, client)
        self.timings = timings
        self.gpu_lookup = gpu_lookup
        self.script = ProvisionerScript()
        self.events = EventRecorder(client, "gpu-provisioner")
        self._progress: dict[str, ClaimProgress] = {}
        self._node_index = 100

    # -------------------------------------------------------------- scripting

    def fail_launch_with_quota(self, instance_type: str | None = None) -> None:
        """Claims (for ``instance_type``, or all) stay not Launched: LaunchFailed, a core-quota error."""
        self.script.quota_exceeded.add(instance_type)

    def without_device_plugin(self, instance_type: str | None = None) -> None:
        """Nodes come up Ready but never report ``nvidia.com/gpu``."""
        self.script.missing_device_plugin.add(instance_type)

    def clear_script(self) -> None:
        self.script = ProvisionerScript()

    # -------------------------------------------------------------- agent

    def initial_keys(self) -> Iterable[Key]:
        return [(key, o["metadata"]["name"]) for key in _KINDS for o in self.store.items(key)]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource in _KINDS:
            return [(event.resource, event.obj["metadata"]["name"])]
        if event.resource == "nodes":
            claim = (event.obj["metadata"].get("labels") or {}).get(CLAIM_LABEL)
            if claim:
                return [(key, claim) for key in _KINDS]
        return []

    def reconcile(self, key: Key) -> float | None:
        store_key, name = key
        kind = _KINDS[store_key]
        if self.store.get(store_key, "", name) is None:
            self._progress.pop(f"{store_key}/{name}", None)
            return None
        claim = self.client.get(kind.resource, name)
        if claim["metadata"].get("deletionTimestamp"):
            return self._finalize(kind, claim)
        finalizers = claim["metadata"].get("finalizers") or []
        if wk.FINALIZER_KARPENTER_TERMINATION not in finalizers:
            claim["metadata"]["finalizers"] = [*finalizers, wk.FINALIZER_KARPENTER_TERMINATION]
            self.client.update(kind.resource, claim)
            return 0.0
        now = asyncio.get_running_loop().time()
        progress = self._progress.setdefault(f"{store_key}/{name}", ClaimProgress(created=now))
        instance_type = instance_type_of(claim)
        conditions = {c.get("type"): c for c in (claim.get("status") or {}).get("conditions") or []}
        if kind.launched not in conditions:
            self._set_conditions(kind, claim, {})
            return 0.0
        if progress.launched is None:
            wait = progress.created + self.timings.node_launch - now
            if wait > 0:
                return wait
            if self.script.hit(self.script.quota_exceeded, instance_type):
                message = quota_message(name, instance_type)[:800]
                self._set_conditions(kind, claim, {kind.launched: ("Unknown", "LaunchFailed", message)})
                self.events.record(claim, "Warning", "FailedLaunch", message[:300])
                return None
            progress.launched = now
            self._launch(kind, claim, instance_type)
            return self.timings.node_register
        node = self.store.get("nodes", "", node_name_for(name))
        if node is None:
            wait = progress.launched + self.timings.node_register - now
            if wait > 0:
                return wait
            self._create_node(claim, instance_type)
            return 0.0
        return self._sync_node(kind, claim, node, instance_type, progress, now)

    # -------------------------------------------------------------- steps

    def _gpus(self, instance_type: str) -> int:
        return (self.gpu_lookup(instance_type) or 0) if instance_type else 0

    def _capacity(self, instance_type: str, with_gpus: bool = True) -> dict[str, str]:
        gpus = self._gpus(instance_type)
        capacity = {
            "cpu": str(max(gpus, 1) * 12),
            "memory": f"{max(gpus, 1) * 220}Gi",
            "ephemeral-storage": "1000Gi",
            "pods": "110",
        }
        if gpus and with_gpus:
            capacity[wk.RESOURCE_NVIDIA_GPU] = str(gpus)
        return capacity

    def _launch(self, kind: Kind, claim: Obj, instance_type: str) -> None:
        name = claim["metadata"]["name"]
        claim = self._label_from_requirements(kind, claim)
        status = dict(claim.get("status") or {})
        status["providerID"] = provider_id_for(name)
        status["capacity"] = self._capacity(instance_type)
        status["allocatable"] = self._capacity(instance_type)
        claim = {**claim, "status": status}
        self._set_conditions(kind, claim, {kind.launched: ("True", kind.launched, "")})
        self.events.record(
            claim,
            "Normal",
            "Launched",
            f"Status condition transitioned, Type: {kind.launched}, "
            "Status: Unknown -> True, Reason: Launched",
        )

    def _label_from_requirements(self, kind: Kind, claim: Obj) -> Obj:
        """Karpenter's launch copies every single-value ``In`` requirement onto the claim's labels."""
        labels = dict(claim["metadata"].get("labels") or {})
        for requirement in (claim.get("spec") or {}).get("requirements") or []:
            values = requirement.get("values") or []
            if requirement.get("operator") == "In" and len(values) == 1:
                labels.setdefault(requirement["key"], values[0])
        if labels == (claim["metadata"].get("labels") or {}):
            return claim
        claim["metadata"]["labels"] = labels
        return self.client.update(kind.resource, claim)

    def _create_node(self, claim: Obj, instance_type: str) -> None:
        name = claim["metadata"]["name"]
        labels = {
            **(claim["metadata"].get("labels") or {}),
            wk.LABEL_AGENTPOOL: name,
            wk.LABEL_AKS_AGENTPOOL: name,
            wk.LABEL_MACHINE_TYPE: "gpu" if "Standard_N" in instance_type else "cpu",
            wk.LABEL_KARPENTER_REGISTERED: "true",
            CLAIM_LABEL: name,
            "topology.kubernetes.io/region": "eastus",
            "topology.kubernetes.io/zone": "0",
            "kubernetes.azure.com/cluster": NODE_RESOURCE_GROUP,
        }
        if self._gpus(instance_type):
            labels[wk.LABEL_ACCELERATOR] = wk.ACCELERATOR_NVIDIA
        taints = [
            {k: v for k, v in t.items() if k in ("key", "value", "effect")}
            for t in (claim.get("spec") or {}).get("taints") or []
        ]
        self._node_index += 1
        node = node_object(
            node_name_for(name),
            index=self._node_index,
            gpus=0,
            labels=labels,
            taints=taints or None,
            ready=False,
            provider_id=provider_id_for(name),
            instance_type=instance_type or None,
        )
        node["status"]["capacity"] = self._capacity(instance_type, with_gpus=False)
        node["status"]["allocatable"] = self._capacity(instance_type, with_gpus=False)
        node["metadata"]["finalizers"] = [wk.FINALIZER_KARPENTER_TERMINATION]
        self.client.create(NODE, node)

    def _sync_node(
        self, kind: Kind, claim: Obj, node: Obj, instance_type: str, progress: ClaimProgress, now: float
    ) -> float | None:
        conditions = {c.get("type"): c for c in (claim.get("status") or {}).get("conditions") or []}
        if progress.registered is None:
            progress.registered = now
        if (conditions.get(kind.registered) or {}).get("status") != "True":
            status = {**(claim.get("status") or {}), "nodeName": node["metadata"]["name"]}
            self._set_conditions(
                kind, {**claim, "status": status}, {kind.registered: ("True", kind.registered, "")}
            )
            return self.timings.node_ready
        if not is_ready(node):
            wait = progress.registered + self.timings.node_ready - now
            if wait > 0:
                return wait
            updated = self.client.get(NODE, node["metadata"]["name"])
            updated["status"]["conditions"] = node_conditions(True)
            self.client.update(NODE, updated, status=True)
            return 0.0
        if (conditions.get(kind.initialized) or {}).get("status") != "True":
            labels = dict(node["metadata"].get("labels") or {})
            if labels.get(wk.LABEL_KARPENTER_INITIALIZED) != "true":
                updated = self.client.get(NODE, node["metadata"]["name"])
                updated["metadata"].setdefault("labels", {})[wk.LABEL_KARPENTER_INITIALIZED] = "true"
                self.client.update(NODE, updated)
            self._set_conditions(kind, claim, {kind.initialized: ("True", kind.initialized, "")})
            self.events.record(
                claim,
                "Normal",
                "Ready",
                f"Status condition transitioned, Type: Ready, "
                f"Status: Unknown -> True, Reason: Ready (node {node['metadata']['name']})",
            )
            return 0.0
        gpus = self._gpus(instance_type)
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        if gpus and wk.RESOURCE_NVIDIA_GPU not in allocatable:
            if self.script.hit(self.script.missing_device_plugin, instance_type):
                return None
            wait = progress.registered + self.timings.node_ready + self.timings.device_plugin - now
            if wait > 0:
                return wait
            updated = self.client.get(NODE, node["metadata"]["name"])
            updated["status"]["capacity"][wk.RESOURCE_NVIDIA_GPU] = str(gpus)
            updated["status"]["allocatable"][wk.RESOURCE_NVIDIA_GPU] = str(gpus)
            self.client.update(NODE, updated, status=True)
        return None

    def _set_conditions(self, kind: Kind, claim: Obj, changes: dict[str, tuple[str, str, str]]) -> None:
        """Write lifecycle conditions (missing ones Unknown / AwaitingReconciliation) and the root Ready."""
        now = clock.now()
        status = dict(claim.get("status") or {})
        existing = {c.get("type"): c for c in status.get("conditions") or []}
        generation = claim["metadata"].get("generation", 1)
        out: dict[str, Obj] = {}
        for type_ in (kind.launched, kind.registered, kind.initialized):
            if type_ in changes:
                state, reason, message = changes[type_]
            elif type_ in existing:
                prev = existing[type_]
                state, reason, message = prev["status"], prev.get("reason", ""), prev.get("message", "")
            else:
                state, reason, message = (
                    "Unknown",
                    "AwaitingReconciliation",
                    "object is awaiting reconciliation",
                )
            prev = existing.get(type_)
            transition = prev["lastTransitionTime"] if prev and prev.get("status") == state else now
            out[type_] = {
                "type": type_,
                "status": state,
                "reason": reason,
                "message": message,
                "lastTransitionTime": transition,
                "observedGeneration": generation,
            }
        deps = list(out.values())
        if all(c["status"] == "True" for c in deps):
            ready = ("True", "Ready", "")
        elif any(c["status"] == "False" for c in deps):
            ready = (
                "False",
                "UnhealthyDependents",
                ", ".join(f"{c['type']}={c['status']}" for c in deps if c["status"] != "True"),
            )
        else:
            ready = (
                "Unknown",
                "ReconcilingDependents",
                ", ".join(f"{c['type']}={c['status']}" for c in deps if c["status"] != "True"),
            )
        prev_ready = existing.get("Ready")
        out["Ready"] = {
            "type": "Ready",
            "status": ready[0],
            "reason": ready[1],
            "message": ready[2],
            "lastTransitionTime": prev_ready["lastTransitionTime"]
            if prev_ready and prev_ready.get("status") == ready[0]
            else now,
            "observedGeneration": generation,
        }
        if kind is MACHINE_KIND:
            for cond in out.values():
                cond.pop("observedGeneration", None)
                cond["severity"] = "" if cond["type"] == "Ready" else cond.get("severity", "")
                if not cond["severity"]:
                    cond.pop("severity")
        others = [c for t, c in existing.items() if t not in out]
        status["conditions"] = [*out.values(), *others]
        if status != claim.get("status"):
            self.client.update(kind.resource, {**claim, "status": status}, status=True)

    def _finalize(self, kind: Kind, claim: Obj) -> float | None:
        name = claim["metadata"]["name"]
        node = self.client.try_get(NODE, node_name_for(name))
        if node is not None:
            if not node["metadata"].get("deletionTimestamp"):
                self.client.delete(NODE, node["metadata"]["name"])
                node = self.client.try_get(NODE, node_name_for(name))
            if node is not None and wk.FINALIZER_KARPENTER_TERMINATION in (
                node["metadata"].get("finalizers") or []
            ):
                node["metadata"]["finalizers"] = [
                    f for f in node["metadata"]["finalizers"] if f != wk.FINALIZER_KARPENTER_TERMINATION
                ]
                self.client.update(NODE, node)
            return self.timings.termination
        finalizers = [
            f for f in claim["metadata"].get("finalizers") or [] if f != wk.FINALIZER_KARPENTER_TERMINATION
        ]
        if finalizers != (claim["metadata"].get("finalizers") or []):
            claim["metadata"]["finalizers"] = finalizers
            self.client.update(kind.resource, claim)
        self._progress.pop(f"{kind.store_key}/{name}", None)
        return None
