"""Services: ClusterIP and NodePort allocation, port defaults, headless."""

from __future__ import annotations

import copy
import ipaddress

from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import Obj, Strategy
from kaito_sim.emulator.schema import Schema, quote

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)


class ServiceStrategy(Strategy):
    name_rule = "label"

    def __init__(self) -> None:
        self._ips: set[str] = {str(SERVICE_CIDR.network_address + 1)}  # the kubernetes service's address
        self._next_ip = 10
        self._node_ports: set[int] = set()
        self._next_port = NODE_PORTS.start

    def _allocate_ip(self) -> str:
        while True:
            candidate = str(SERVICE_CIDR.network_address + self._next_ip)
            self._next_ip += 1
            if candidate not in self._ips:
                self._ips.add(candidate)
                return candidate

    def _allocate_port(self) -> int:
        while True:
            port = self._next_port
            self._next_port = port + 1 if port + 1 < NODE_PORTS.stop else NODE_PORTS.start
            if port not in self._node_ports:
                self._node_ports.add(port)
                return port

    @staticmethod
    def _default(spec: Obj) -> None:
        spec.setdefault("type", "ClusterIP")
        if spec["type"] == "ExternalName":
            return
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["type"] == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])

    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        self._default(spec)
        if spec["type"] != "ExternalName":
            requested = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
            if requested != "None":
                ip = requested if requested else self._allocate_ip()
                self._ips.add(ip)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            else:
                spec["clusterIP"] = "None"
                spec["clusterIPs"] = ["None"]
            if spec["type"] in ("NodePort", "LoadBalancer"):
                for port in spec.get("ports") or []:
                    if isinstance(port, dict):
                        if "nodePort" in port:
                            self._node_ports.add(int(port["nodePort"]))
                        else:
                            port["nodePort"] = self._allocate_port()
        obj["status"] = {"loadBalancer": {}}

    def prepare_update(self, new: Obj, old: Obj) -> None:
        spec = new.setdefault("spec", {})
        old_spec = old.get("spec") or {}
        self._default(spec)
        for key in ("clusterIP", "clusterIPs"):
            if key not in spec and key in old_spec:
                spec[key] = copy.deepcopy(old_spec[key])
        old_ports = {(p.get("port"), p.get("protocol")): p for p in old_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            prev = old_ports.get((port.get("port"), port.get("protocol")))
            if spec["type"] in ("NodePort", "LoadBalancer") and "nodePort" not in port:
                port["nodePort"] = prev["nodePort"] if prev and "nodePort" in prev else self._allocate_port()

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        types = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
        if spec.get("type") not in types:
            supported = ", ".join(f'"{t}"' for t in types)
            causes.append(
                Cause(
                    "FieldValueNotSupported",
                    f"Unsupported value: {quote(spec.get('type'))}: supported values: {supported}",
                    "spec.type",
                )
            )
        ports = spec.get("ports") or []
        if not ports and spec.get("clusterIP") != "None" and spec.get("type") != "ExternalName":
            causes.append(Cause("FieldValueRequired", "Required value", "spec.ports"))
        for i, port in enumerate(ports):
            number = port.get("port")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {quote(number)}: must be between 1 and 65535, inclusive",
                        f"spec.ports[{i}].port",
                    )
                )
            if len(ports) > 1 and not port.get("name"):
                causes.append(Cause("FieldValueRequired", "Required value", f"spec.ports[{i}].name"))
        if old is not None:
            before = (old.get("spec") or {}).get("clusterIP")
            after = spec.get("clusterIP")
            if (
                before
                and after
                and before != after
                and (old.get("spec") or {}).get("type") == spec.get("type")
            ):
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: []string{{{quote(after)}}}: may not change once set",
                        "spec.clusterIPs[0]",
                    )
                )
        return causes

    def removed(self, obj: Obj) -> None:
        spec = obj.get("spec") or {}
        for ip in spec.get("clusterIPs") or []:
            self._ips.discard(ip)
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and "nodePort" in port:
                self._node_ports.discard(port["nodePort"])
