"""Real kubectl against the sandbox: apply, get, get -w, describe, delete, explain."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from helpers.restclient import wait_for
from kaito_sim.cluster import Sandbox

Kubectl = Callable[..., Awaitable[Any]]

WORKSPACE = """
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata:
  name: phi
  labels: {team: ml}
resource:
  instanceType: Standard_NC24ads_A100_v4
  labelSelector:
    matchLabels: {apps: phi}
inference:
  preset:
    name: phi-3-mini-4k-instruct
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


async def test_apply_get_and_reapply_custom_resource(kubectl: Kubectl) -> None:
    created = await kubectl("apply", "-f", "-", stdin=WORKSPACE)
    assert created.out.strip() == "workspace.kaito.sh/phi created"
    again = await kubectl("apply", "-f", "-", stdin=WORKSPACE)
    assert again.out.strip() == "workspace.kaito.sh/phi unchanged"
    changed = await kubectl("apply", "-f", "-", stdin=WORKSPACE.replace("team: ml", "team: research"))
    assert changed.out.strip() == "workspace.kaito.sh/phi configured"
    table = await kubectl("get", "workspaces")
    header = table.out.splitlines()[0].split()
    assert header[:2] == ["NAME", "INSTANCE"] and header[-1] == "AGE"
    assert table.out.splitlines()[1].split()[:2] == ["phi", "Standard_NC24ads_A100_v4"]
    as_yaml = yaml.safe_load((await kubectl("get", "wk", "phi", "-o", "yaml")).out)
    assert as_yaml["metadata"]["labels"] == {"team": "research"}
    assert as_yaml["resource"]["count"] == 1  # CRD default
    as_json = json.loads((await kubectl("get", "workspace", "-l", "team=research", "-o", "json")).out)
    assert [i["metadata"]["name"] for i in as_json["items"]] == ["phi"]
    assert (
        await kubectl("get", "workspaces", "-l", "team=ml")
    ).err.strip() == "No resources found in default namespace."
    all_namespaces = await kubectl("get", "workspaces", "-A")
    assert all_namespaces.out.splitlines()[0].split()[0] == "NAMESPACE"


async def test_strict_field_validation(kubectl: Kubectl) -> None:
    bad = WORKSPACE + "bogus: 1\n"
    result = await kubectl("apply", "-f", "-", stdin=bad, check=False)
    assert result.rc != 0
    assert 'strict decoding error: unknown field "bogus"' in result.err
    invalid = WORKSPACE.replace("instanceType: Standard_NC24ads_A100_v4", "instanceType: 7")
    result = await kubectl("apply", "-f", "-", stdin=invalid, check=False)
    assert result.rc != 0 and "Invalid value" in result.err


async def test_workloads_run_and_describe(kubectl: Kubectl) -> None:
    await kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    pods = await kubectl("get", "pods", "-l", "app=web", "-o", "wide")
    lines = pods.out.splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 3 and all(line.split()[1:3] == ["1/1", "Running"] for line in lines[1:])
    deploy = (await kubectl("get", "deployment", "web")).out.splitlines()
    assert deploy[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert deploy[1].split()[:4] == ["web", "2/2", "2", "2"]
    svc = (await kubectl("get", "svc", "web")).out.splitlines()
    assert svc[0].split()[:5] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
    pod_name = lines[1].split()[0]
    described = (await kubectl("describe", "pod", pod_name)).out
    assert "Status:           Running" in described
    assert "Successfully assigned default/" in described and "Started container nginx" in described
    changed = DEPLOYMENT.replace('value: "1"', 'value: "2"}, {name: B, value: "3"')
    assert "deployment.apps/web configured" in (await kubectl("apply", "-f", "-", stdin=changed)).out
    env = json.loads(
        (await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env}")).out
    )
    assert env == [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]
    await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    described = (await kubectl("describe", "deployment", "web")).out
    assert "NewReplicaSet:" in described and "ScalingReplicaSet" in described


async def test_describe_custom_resource_shows_events(kubectl: Kubectl, sandbox: Sandbox) -> None:
    await kubectl("apply", "-f", "-", stdin=WORKSPACE)
    from kaito.api.resources import WORKSPACE_V1BETA1
    from kaito_sim.agents.events import EventRecorder

    ws = sandbox.emulator.client.get(WORKSPACE_V1BETA1, "phi", "default")
    EventRecorder(sandbox.emulator.client, "workspace-controller").record(
        ws, "Normal", "NodeClaimCreated", "created nodeclaim ws123"
    )
    described = (await kubectl("describe", "workspace", "phi")).out
    assert "Name:         phi" in described
    assert "NodeClaimCreated" in described and "created nodeclaim ws123" in described


async def test_get_watch_streams_changes(kubectl_path: Path, kubectl: Kubectl, sandbox: Sandbox) -> None:
    await kubectl("apply", "-f", "-", stdin=WORKSPACE)
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path)}
    proc = await asyncio.create_subprocess_exec(
        str(kubectl_path),
        "get",
        "workspaces",
        "-w",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    async def read_lines(count: int) -> bool:
        assert proc.stdout is not None
        while len(lines) < count:
            lines.append((await proc.stdout.readline()).decode())
        return True

    await asyncio.wait_for(read_lines(2), 30)
    await kubectl(
        "patch",
        "workspace",
        "phi",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"state": "Ready"}}),
    )
    await asyncio.wait_for(read_lines(3), 30)
    proc.terminate()
    await proc.wait()
    assert lines[0].split()[:2] == ["NAME", "INSTANCE"]
    assert lines[1].split()[0] == "phi"
    assert lines[2].split()[0] == "phi" and "Ready" in lines[2].split()


async def test_delete_waits_and_cascades(kubectl: Kubectl, sandbox: Sandbox) -> None:
    await kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    deleted = await kubectl("delete", "deployment", "web", "--wait=true")
    assert 'deployment.apps "web" deleted' in deleted.out

    async def no_pods() -> bool:
        return not (await kubectl("get", "pods", "-l", "app=web", "-o", "name")).out.strip()

    await wait_for(no_pods, "pods cascaded away")
    await kubectl("apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n")
    await kubectl("apply", "-n", "scratch", "-f", "-", stdin=WORKSPACE)
    await kubectl("delete", "namespace", "scratch", "--wait=true", timeout=120)
    missing = await kubectl("get", "namespace", "scratch", check=False)
    assert missing.rc != 0 and 'namespaces "scratch" not found' in missing.err


async def test_nodes_and_nodeclaims(kubectl: Kubectl) -> None:
    claim = """
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata: {name: ws1a2b3c4d5, labels: {kaito.sh/workspace: phi}}
spec:
  requirements:
  - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_NC24ads_A100_v4]}
  nodeClassRef: {group: kaito.sh, kind: KaitoNodeClass, name: default}
"""
    await kubectl("apply", "-f", "-", stdin=claim)
    await kubectl("wait", "nodeclaim/ws1a2b3c4d5", "--for=condition=Ready", "--timeout=60s")
    nodes = (await kubectl("get", "nodes", "-L", "node.kubernetes.io/instance-type")).out
    assert "aks-ws1a2b3c4d5-12345678-vmss000000" in nodes and "Standard_NC24ads_A100_v4" in nodes
    capacity = (
        await kubectl(
            "get",
            "node",
            "aks-ws1a2b3c4d5-12345678-vmss000000",
            "-o",
            "jsonpath={.status.capacity.nvidia\\.com/gpu}",
        )
    ).out
    assert capacity in ("", "1")


async def test_explain(kubectl: Kubectl) -> None:
    explained = (await kubectl("explain", "workspace.resource")).out
    assert "KIND:       Workspace" in explained and "instanceType" in explained
    pods = (await kubectl("explain", "pods.spec.containers.image")).out
    assert "FIELD: image <string>" in pods


async def test_typed_create_commands_send_protobuf(kubectl: Kubectl) -> None:
    assert (await kubectl("create", "namespace", "proto")).out.strip() == "namespace/proto created"
    await kubectl("create", "configmap", "cfg", "-n", "proto", "--from-literal=a=b")
    await kubectl("create", "secret", "generic", "pw", "-n", "proto", "--from-literal=password=s3cret")
    await kubectl("run", "solo", "-n", "proto", "--image=nginx:1.25", "--labels=app=solo", "--env=MODE=demo")
    assert (await kubectl("get", "cm", "cfg", "-n", "proto", "-o", "jsonpath={.data.a}")).out == "b"
    secret = (await kubectl("get", "secret", "pw", "-n", "proto", "-o", "jsonpath={.data.password}")).out
    assert secret == "czNjcmV0"
    pod = json.loads((await kubectl("get", "pod", "solo", "-n", "proto", "-o", "json")).out)
    assert pod["metadata"]["labels"] == {"app": "solo"}
    assert pod["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "demo"}]


async def test_helm_install_upgrade_uninstall(
    helm_path: Path, sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path
) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "templates" / "all.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo}\ndata: {value: {{ .Values.value | quote }}}\n---\n"
        + DEPLOYMENT.split("---")[0]
    )
    (chart / "values.yaml").write_text("value: one\n")
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(tmp_path)}

    async def helm(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(helm_path), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    assert "STATUS: deployed" in await helm("install", "demo", str(chart), "--wait", "--timeout", "60s")
    assert (await kubectl("get", "cm", "demo", "-o", "jsonpath={.data.value}")).out == "one"
    await helm("upgrade", "demo", str(chart), "--set", "value=two", "--wait", "--timeout", "60s")
    assert (await kubectl("get", "cm", "demo", "-o", "jsonpath={.data.value}")).out == "two"
    assert "uninstalled" in await helm("uninstall", "demo", "--wait")
    assert (await kubectl("get", "cm", "demo", check=False)).rc != 0
