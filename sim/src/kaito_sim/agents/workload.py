"""What the workload controllers share: template hashing, owned pods and
pods stamped out of a template."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from kaito_sim.emulator import clock
from kaito_sim.emulator.store import Store

Obj = dict[str, Any]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Any) -> str:
    """A short, DNS-safe hash of a pod template (what ``pod-template-hash`` and revision names carry)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def controller_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned(store: Store, owner: Obj, resource: str) -> list[Obj]:
    """Objects of ``resource`` whose controller is ``owner`` (by uid)."""
    uid = owner["metadata"]["uid"]
    out = []
    for key in store.dependents(uid):
        if key[0] != resource:
            continue
        obj = store.get(*key)
        if obj is not None and any(
            r.get("uid") == uid and r.get("controller") for r in obj["metadata"].get("ownerReferences") or []
        ):
            out.append(obj)
    return out


def pod_from_template(
    owner: Obj,
    template: Obj,
    *,
    name: str = "",
    generate_name: str = "",
    labels: dict[str, str] | None = None,
    spec_overrides: Obj | None = None,
) -> Obj:
    meta_in = template.get("metadata") or {}
    meta: Obj = {
        "namespace": owner["metadata"]["namespace"],
        "labels": {**(meta_in.get("labels") or {}), **(labels or {})},
        "ownerReferences": [controller_ref(owner)],
    }
    if meta_in.get("annotations"):
        meta["annotations"] = dict(meta_in["annotations"])
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name
    spec = copy.deepcopy(template.get("spec") or {})
    spec.update(spec_overrides or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def is_pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def is_active(pod: Obj) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def condition(type_: str, status: bool, reason: str, message: str, previous: list[Obj] | None) -> Obj:
    """A workload condition, keeping its transition time when the status did not change."""
    text = "True" if status else "False"
    prev = next((c for c in previous or [] if c.get("type") == type_), None)
    now = clock.now()
    transition = prev.get("lastTransitionTime", now) if prev and prev.get("status") == text else now
    out = {
        "type": type_,
        "status": text,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
        "lastUpdateTime": now,
    }
    if (
        prev
        and prev.get("status") == text
        and prev.get("reason") == reason
        and prev.get("message") == message
    ):
        out["lastUpdateTime"] = prev.get("lastUpdateTime", now)
    return out
