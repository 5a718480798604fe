"""The operator↔image contract for serving, tested from both sides.

The controller writes the model pod (command line, environment, port, probes,
mounts); the model image's ``kaito-runtime serve`` reads it. Each side spells
its names once (``kaito.api.runtime_contract`` and ``kaito_runtime.contract``).
Here every preset x runtime x {one node, several nodes} pod template the
controller's builders produce is fed through the runtime's own parsers, so a
flag renamed on one side fails this test instead of a pod on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import kaito_runtime
from kaito.api import runtime_contract as operator_side
from kaito.api.wellknown import ANNOTATION_RUNTIME, Runtime
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import PlanError, plan_inference
from kaito.controllers.workspace.workload import build_default_config_map, build_workload
from kaito.presets.catalog import all_presets
from kaito.presets.params import CHAT_TEMPLATES_DIR
from kaito.presets.skus import lookup_sku
from kaito_runtime import contract as runtime_side
from kaito_runtime.serving.multinode.environment import parse_node_environment
from kaito_runtime.serving.options import ServeOptions, parse_serve_args
from kaito_runtime.serving.transformers_runtime.options import (
    parse_transformers_options,
    transformers_parser,
)

# One SKU per kind of fit: a V100 (transformers only), one A100 80 GB, and 8 x H100 nodes.
SKUS = ("Standard_NC6s_v3", "Standard_NC24ads_A100_v4", "Standard_ND96isr_H100_v5")
OPTIONS = WorkspaceOptions()


@dataclass(frozen=True)
class Case:
    preset: str
    sku: str
    runtime: Runtime
    pod: dict[str, Any]
    nodes: int

    @property
    def id(self) -> str:
        return f"{self.preset}-{self.runtime}-{self.sku}-{self.nodes}node"


def _workspace(preset: str, sku: str, runtime: Runtime) -> Workspace:
    return Workspace.model_validate(
        {
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": {
                "name": "ws",
                "namespace": "default",
                "uid": "00000000-0000-4000-8000-000000000001",
                "annotations": {ANNOTATION_RUNTIME: str(runtime)},
            },
            "resource": {"instanceType": sku, "labelSelector": {"matchLabels": {"apps": "x"}}},
            "inference": {"preset": {"name": preset}},
        }
    )


def _cases() -> list[Case]:
    cases = []
    for preset in all_presets():
        for sku in SKUS:
            for runtime in (Runtime.VLLM, Runtime.TRANSFORMERS):
                workspace = _workspace(preset.name, sku, runtime)
                try:
                    plan = plan_inference(workspace, lookup_sku(sku))
                except PlanError:
                    continue  # does not fit, or this runtime cannot run on this GPU: nothing to start
                nodes = [f"node-{i}" for i in range(plan.node_count)]
                workload = build_workload(workspace, plan, nodes, 1, "ws-config", OPTIONS)
                pod = (workload.spec or {})["template"]["spec"]
                cases.append(Case(preset.name, sku, plan.runtime, pod, plan.node_count))
    return cases


CASES = _cases()


def test_the_cases_cover_both_runtimes_and_both_layouts() -> None:
    assert {c.runtime for c in CASES} == {Runtime.VLLM, Runtime.TRANSFORMERS}
    assert {c.nodes > 1 for c in CASES} == {True, False}
    assert len({c.preset for c in CASES}) == len(all_presets())


def test_both_sides_spell_the_same_names() -> None:
    pairs = [
        (operator_side.COMMAND, runtime_side.COMMAND),
        (operator_side.SERVE_SUBCOMMAND, runtime_side.SERVE_SUBCOMMAND),
        (operator_side.PORT, runtime_side.DEFAULT_PORT),
        (operator_side.HEALTH_PATH, runtime_side.HEALTH_PATH),
        (operator_side.CONFIG_DIR, runtime_side.CONFIG_DIR),
        (operator_side.CONFIG_FILE_NAME, runtime_side.CONFIG_FILE_NAME),
        (operator_side.CONFIG_PATH, runtime_side.CONFIG_PATH),
        (operator_side.ADAPTERS_DIR, runtime_side.ADAPTERS_DIR),
        (operator_side.NODE_COUNT_ENV, runtime_side.NODE_COUNT_ENV),
        (operator_side.NODE_RANK_ENV, runtime_side.NODE_RANK_ENV),
        (operator_side.LEADER_ADDRESS_ENV, runtime_side.LEADER_ADDRESS_ENV),
        (operator_side.RAY_PORT_ENV, runtime_side.RAY_PORT_ENV),
        (operator_side.CLUSTER_TIMEOUT_ENV, runtime_side.CLUSTER_TIMEOUT_ENV),
        (operator_side.RAY_PORT, runtime_side.DEFAULT_RAY_PORT),
    ]
    assert [a for a, b in pairs if a != b] == []


def _main(pod: dict[str, Any]) -> dict[str, Any]:
    (main,) = pod["containers"]
    return dict(main)


def _environment(container: dict[str, Any], rank: int) -> dict[str, str]:
    """The container's environment as the kubelet resolves it (the pod index label for the rank)."""
    env: dict[str, str] = {}
    for entry in container.get("env") or []:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif "apps.kubernetes.io/pod-index" in entry.get("valueFrom", {}).get("fieldRef", {}).get(
            "fieldPath", ""
        ):
            env[entry["name"]] = str(rank)
    return env


def _as_in_the_image(arg: str) -> str:
    """Chat templates the presets name live in the runtime package, linked to this path in the image
    (Dockerfile.runtime): check the file is shipped, then point vLLM at it here."""
    prefix = f"--chat-template={CHAT_TEMPLATES_DIR}/"
    if not arg.startswith(prefix):
        return arg
    shipped = Path(kaito_runtime.__file__).parent / "chat_templates" / arg.removeprefix(prefix)
    assert shipped.is_file(), f"{arg}: the runtime package does not ship {shipped.name}"
    return f"--chat-template={shipped}"


def _parsed(case: Case) -> ServeOptions:
    main = _main(case.pod)
    assert main["command"] == [runtime_side.COMMAND, runtime_side.SERVE_SUBCOMMAND]
    return parse_serve_args(list(main["args"]))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_runtime_reads_the_command_line_the_controller_writes(case: Case) -> None:
    options = _parsed(case)
    main = _main(case.pod)
    assert options.runtime == case.runtime
    assert options.served_model_name == case.preset
    assert [p["containerPort"] for p in main["ports"]] == [options.port]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in main:
            assert main[probe]["httpGet"] == {
                "path": runtime_side.HEALTH_PATH,
                "port": options.port,
                "scheme": "HTTP",
            }
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert options.config_path is not None and str(options.config_path.parent) in mounts
    if case.runtime == Runtime.TRANSFORMERS:
        parse_transformers_options(transformers_parser(), list(options.engine_args))


@pytest.mark.parametrize("case", [c for c in CASES if c.runtime == Runtime.VLLM], ids=lambda c: c.id)
def test_vllm_accepts_every_engine_argument_the_controller_writes(case: Case) -> None:
    """vLLM's own parser and validation, as ``kaito-runtime serve`` runs them before loading."""
    from kaito_runtime.serving.vllm_runtime.run import prepare_vllm

    options = _parsed(case)
    engine_args = tuple(_as_in_the_image(arg) for arg in options.engine_args)
    prepared = prepare_vllm(replace(options, engine_args=engine_args), None)
    assert prepared.args.served_model_name == [case.preset]


@pytest.mark.parametrize("case", [c for c in CASES if c.nodes > 1], ids=lambda c: c.id)
def test_every_pod_of_a_multi_node_instance_knows_its_place(case: Case) -> None:
    main = _main(case.pod)
    for rank in range(case.nodes):
        settings = parse_node_environment(_environment(main, rank))
        assert settings is not None
        assert (settings.node_count, settings.rank) == (case.nodes, rank)
        assert settings.leader_address.startswith("ws-0.ws-headless.default.svc")


def test_the_default_config_map_key_is_the_file_the_runtime_reads() -> None:
    config_map = build_default_config_map(_workspace("phi-4", SKUS[1], Runtime.VLLM), OPTIONS)
    assert list(config_map.data or {}) == [runtime_side.CONFIG_FILE_NAME]
