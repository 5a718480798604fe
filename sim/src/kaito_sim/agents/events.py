"""core/v1 Events, recorded the way client-go's recorder does: one Event per
(object, reason, message), its ``count`` bumped on repeats."""

from __future__ import annotations

import time
from typing import Any

from kaito.api.resources import EVENT
from kaito_sim.emulator import clock
from kaito_sim.emulator.local import LocalClient

Obj = dict[str, Any]


class EventRecorder:
    def __init__(self, client: LocalClient, component: str) -> None:
        self.client = client
        self.component = component
        self._seen: dict[tuple[str, str, str], str] = {}

    def record(self, obj: Obj, type_: str, reason: str, message: str, host: str | None = None) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta["uid"], reason, message)
        now = clock.now()
        name = self._seen.get(key)
        if name is not None:
            existing = self.client.try_get(EVENT, name, namespace)
            if existing is not None:
                existing["count"] = int(existing.get("count") or 1) + 1
                existing["lastTimestamp"] = now
                self.client.update(EVENT, existing)
                return
        name = f"{meta['name']}.{time.time_ns():x}"
        source: Obj = {"component": self.component}
        if host:
            source["host"] = host
        self.client.create(
            EVENT,
            {
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": {
                    "kind": obj.get("kind"),
                    "namespace": meta.get("namespace"),
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "apiVersion": obj.get("apiVersion"),
                    "resourceVersion": meta.get("resourceVersion"),
                },
                "reason": reason,
                "message": message,
                "type": type_,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": source,
                "reportingComponent": self.component,
                "reportingInstance": host or "",
            },
        )
        self._seen[key] = name
