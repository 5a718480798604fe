"""Workspace validation, rule by rule: each case changes a valid workspace and names the expected problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaito.api.core import ConfigMap
from kaito.api.meta import ObjectMeta
from kaito.api.wellknown import NodeProvisioner
from kaito.validation import FieldError, ValidationContext, validate_workspace

Doc = dict[str, Any]
Mutation = Callable[[Doc], None]


def inference_workspace() -> Doc:
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "workspace-phi-3-5-mini", "namespace": "default"},
        "resource": {
            "instanceType": "Standard_NC24ads_A100_v4",
            "labelSelector": {"matchLabels": {"apps": "phi-3-5"}},
        },
        "inference": {"preset": {"name": "phi-3.5-mini-instruct"}},
    }


def tuning_workspace() -> Doc:
    return {
        "apiVersion": "kaito.sh/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "workspace-tuning-phi-3"},
        "resource": {
            "instanceType": "Standard_NC6s_v3",
            "labelSelector": {"matchLabels": {"app": "tuning-phi-3"}},
        },
        "tuning": {
            "preset": {"name": "phi-3-mini-128k-instruct"},
            "method": "qlora",
            "input": {
                "urls": [
                    "https://huggingface.co/datasets/philschmid/dolly-15k-oai-style/resolve/main/x.parquet"
                ]
            },
            "output": {
                "image": "myregistry.azurecr.io/phi-3-adapter:0.0.1",
                "imagePushSecret": "acr-push-secret",
            },
        },
    }


def adapter(name: str = "phi-3-adapter", image: str = "myregistry.azurecr.io/phi-3-adapter:0.0.1") -> Doc:
    return {"source": {"name": name, "image": image}, "strength": "1.0"}


def configmap(name: str, key: str, text: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace="default"), data={key: text})


def lookup_of(*config_maps: ConfigMap) -> ValidationContext:
    table = {(c.metadata.namespace or "", c.name): c for c in config_maps}
    return ValidationContext(config_maps=lambda ns, name: table.get((ns, name)))


def set_path(path: str, value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def delete_path(path: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(doc: Doc) -> None:
        for mutation in mutations:
            mutation(doc)

    return mutate


def annotate(key: str, value: str) -> Mutation:
    return set_path("metadata.annotations", {key: value})


def v100_transformers(preset: str) -> Mutation:
    return both(
        set_path("resource.instanceType", "Standard_NC6s_v3"), set_path("inference.preset.name", preset)
    )


INFERENCE_CASES: list[tuple[str, Mutation, str, str]] = [
    # metadata
    ("name-not-dns", set_path("metadata.name", "Bad_Name"), "metadata.name", "DNS-1035 label"),
    (
        "name-starts-with-digit",
        set_path("metadata.name", "1phi"),
        "metadata.name",
        "start with an alphabetic",
    ),
    ("name-too-long", set_path("metadata.name", "a" * 53), "metadata.name", "no more than 52 characters"),
    ("name-missing", delete_path("metadata.name"), "metadata.name", "Required value"),
    (
        "bad-runtime",
        annotate("kaito.sh/runtime", "tgi"),
        "metadata.annotations[kaito.sh/runtime]",
        'Unsupported value: "tgi"',
    ),
    (
        "bad-image-family",
        annotate("kaito.sh/node-image-family", "windows"),
        "metadata.annotations[kaito.sh/node-image-family]",
        'unsupported node image family "windows", supported values are azurelinux, ubuntu',
    ),
    # inference xor tuning
    ("neither", delete_path("inference"), "", "Either Inference or Tuning must be specified, not neither"),
    (
        "both",
        set_path("tuning", tuning_workspace()["tuning"]),
        "",
        "Either Inference or Tuning must be specified, but not both",
    ),
    # resource
    (
        "no-instance-type",
        delete_path("resource.instanceType"),
        "resource.instanceType",
        "instanceType is required when node auto-provisioning is enabled",
    ),
    (
        "unknown-sku",
        set_path("resource.instanceType", "Standard_Bad"),
        "resource.instanceType",
        "Unsupported instance type Standard_Bad",
    ),
    (
        "misspelt-sku",
        set_path("resource.instanceType", "Standard_NC24ads_A100_v5"),
        "resource.instanceType",
        "did you mean Standard_NC24ads_A100_v4",
    ),
    ("count-zero", set_path("resource.count", 0), "resource.count", "must be at least 1"),
    ("no-selector", delete_path("resource.labelSelector"), "resource.labelSelector", "Required value"),
    (
        "reserved-only-selector",
        set_path("resource.labelSelector", {"matchLabels": {"kaito.sh/workspace": "x"}}),
        "resource.labelSelector.matchLabels",
        "matchLabels must contain at least one non-reserved label",
    ),
    (
        "reserved-key",
        set_path("resource.labelSelector", {"matchLabels": {"a": "b", "kaito.sh/workspace": "x"}}),
        "resource.labelSelector.matchLabels[kaito.sh/workspace]",
        "label kaito.sh/workspace is reserved for the controller",
    ),
    (
        "bad-label-key",
        set_path("resource.labelSelector", {"matchLabels": {"a": "b", "-bad": "x"}}),
        "resource.labelSelector.matchLabels[-bad]",
        "name part must consist",
    ),
    (
        "bad-label-value",
        set_path("resource.labelSelector", {"matchLabels": {"a": "bad value"}}),
        "resource.labelSelector.matchLabels[a]",
        "a valid label must be",
    ),
    (
        "notin-expression",
        set_path(
            "resource.labelSelector",
            {
                "matchLabels": {"a": "b"},
                "matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["y"]}],
            },
        ),
        "resource.labelSelector.matchExpressions[0]",
        "Only allow matchLabels or 'In' matchExpression",
    ),
    (
        "bad-preferred-node",
        set_path("resource.preferredNodes", ["Node_1"]),
        "resource.preferredNodes[0]",
        "RFC 1123 subdomain",
    ),
    # preset or template
    (
        "preset-and-template",
        set_path("inference.template", {"spec": {"containers": [{"name": "c", "image": "i"}]}}),
        "inference",
        "Preset and Template cannot be set at the same time",
    ),
    ("no-preset-or-template", set_path("inference", {}), "inference", "Preset or Template must be specified"),
    (
        "unknown-preset",
        set_path("inference.preset.name", "phi-3.5-mini"),
        "inference.preset.name",
        "Unsupported inference preset name phi-3.5-mini; did you mean phi-3.5-mini-instruct",
    ),
    (
        "private-without-image",
        set_path("inference.preset.accessMode", "private"),
        "inference.preset.presetOptions.image",
        "When AccessMode is private, an image must be provided in PresetOptions",
    ),
    (
        "bad-private-image",
        set_path("inference.preset.presetOptions", {"image": "Registry.io/Model:1"}),
        "inference.preset.presetOptions.image",
        "Unable to parse model image reference",
    ),
    (
        "gated-without-secret",
        set_path("inference.preset.name", "llama-3.1-8b-instruct"),
        "inference.preset.presetOptions.modelAccessSecret",
        "requires authentication and needs a modelAccessSecret with HF_TOKEN key",
    ),
    (
        "secret-for-public-preset",
        set_path("inference.preset.presetOptions", {"modelAccessSecret": "hf-token"}),
        "inference.preset.presetOptions.modelAccessSecret",
        "This preset does not require a modelAccessSecret",
    ),
    (
        "vllm-on-v100",
        both(set_path("resource.instanceType", "Standard_NC6s_v3"), annotate("kaito.sh/runtime", "vllm")),
        "metadata.annotations[kaito.sh/runtime]",
        "The vLLM runtime needs compute capability 8.0 or newer",
    ),
    (
        "model-too-big-for-one-v100",
        v100_transformers("phi-4"),
        "resource.instanceType",
        "Insufficient",
    ),
    (
        "transformers-serves-from-one-node",
        both(
            set_path("inference.preset.name", "llama-3.3-70b-instruct"),
            set_path("inference.preset.presetOptions", {"modelAccessSecret": "hf"}),
            annotate("kaito.sh/runtime", "transformers"),
        ),
        "resource.instanceType",
        "Insufficient",
    ),
    # adapters
    (
        "too-many-adapters",
        set_path("inference.adapters", [adapter(f"a{i}") for i in range(11)]),
        "inference.adapters",
        "Number of Adapters exceeds the maximum limit, maximum of 10 allowed",
    ),
    (
        "duplicate-adapter",
        set_path("inference.adapters", [adapter("a"), adapter("a")]),
        "inference.adapters[1].source.name",
        "Duplicate adapter source name found: a",
    ),
    (
        "adapter-without-source",
        set_path("inference.adapters", [{"strength": "1.0"}]),
        "inference.adapters[0].source",
        "Required value",
    ),
    (
        "adapter-without-name",
        set_path("inference.adapters", [{"source": {"image": "r.io/a:1"}}]),
        "inference.adapters[0].source.name",
        "Name of Adapter field must be specified",
    ),
    (
        "adapter-bad-name",
        set_path("inference.adapters", [adapter("Adapter_1")]),
        "inference.adapters[0].source.name",
        "DNS-1035 label",
    ),
    (
        "adapter-name-starts-with-digit",
        set_path("inference.adapters", [adapter("1st")]),
        "inference.adapters[0].source.name",
        "start with an alphabetic character",
    ),
    (
        "adapter-name-too-long",
        set_path("inference.adapters", [adapter("a" * 56)]),
        "inference.adapters[0].source.name",
        "must be no more than 55 characters",
    ),
    (
        "adapter-urls",
        set_path(
            "inference.adapters", [{"source": {"name": "a", "urls": ["https://x.io/a"], "image": "r.io/a:1"}}]
        ),
        "inference.adapters[0].source.urls",
        "URLs are not supported as adapter source",
    ),
    (
        "adapter-neither-image-nor-volume",
        set_path("inference.adapters", [{"source": {"name": "a"}}]),
        "inference.adapters[0].source",
        "Either Image or Volume must be specified for adapter source",
    ),
    (
        "adapter-placeholder-image",
        set_path("inference.adapters", [adapter(image="ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1")]),
        "inference.adapters[0].source.image",
        "Unable to parse adapter image reference 'ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1': registry host",
    ),
    (
        "adapter-bad-pull-secret",
        set_path(
            "inference.adapters",
            [{**adapter(), "source": {**adapter()["source"], "imagePullSecrets": ["A"]}}],
        ),
        "inference.adapters[0].source.imagePullSecrets[0]",
        "RFC 1123 subdomain",
    ),
    (
        "adapter-strength-not-number",
        set_path("inference.adapters", [{**adapter(), "strength": "strong"}]),
        "inference.adapters[0].strength",
        "Invalid strength value for Adapter 'phi-3-adapter'",
    ),
    (
        "adapter-strength-out-of-range",
        set_path("inference.adapters", [{**adapter(), "strength": "1.5"}]),
        "inference.adapters[0].strength",
        "Strength value for Adapter 'phi-3-adapter' must be between 0 and 1",
    ),
    (
        "adapter-strength-on-vllm",
        set_path("inference.adapters", [{**adapter(), "strength": "0.5"}]),
        "inference.adapters[0].strength",
        "vLLM does not support adapter strength",
    ),
    (
        "adapters-on-vllm-without-lora",
        both(set_path("inference.preset.name", "falcon-7b"), set_path("inference.adapters", [adapter()])),
        "inference.adapters",
        "Runtime validation: vLLM does not support LoRA adapters for this model: falcon-7b",
    ),
    # template
    (
        "template-without-containers",
        both(delete_path("inference.preset"), set_path("inference.template", {"spec": {}})),
        "inference.template.spec.containers",
        "at least one container",
    ),
    (
        "template-bad-image",
        both(
            delete_path("inference.preset"),
            set_path("inference.template", {"spec": {"containers": [{"name": "c", "image": "Bad Image"}]}}),
        ),
        "inference.template.spec.containers[0].image",
        "Unable to parse container image reference",
    ),
    (
        "template-with-adapters",
        both(
            delete_path("inference.preset"),
            set_path("inference.template", {"spec": {"containers": [{"name": "c", "image": "r.io/i:1"}]}}),
            set_path("inference.adapters", [adapter()]),
        ),
        "inference.adapters",
        "adapters need a preset",
    ),
    ("bad-config-name", set_path("inference.config", "My Config"), "inference.config", "RFC 1123 subdomain"),
    # schema
    (
        "count-as-string",
        set_path("resource.count", "1"),
        "resource.count",
        'Invalid value: "1": must be of type integer, not string',
    ),
    (
        "strength-as-number",
        set_path("inference.adapters", [{"source": {"name": "a", "image": "r.io/a:1"}, "strength": 1.0}]),
        "inference.adapters[0].strength",
        "must be of type string",
    ),
    ("unknown-field", set_path("inference.preset.nmae", "x"), "inference.preset", 'unknown field "nmae"'),
    ("spec-wrapper", set_path("spec", {"resource": {}}), "", 'unknown field "spec"'),
    ("preset-name-missing", set_path("inference.preset", {}), "inference.preset.name", "Required value"),
    (
        "bad-access-mode",
        set_path("inference.preset.accessMode", "secret"),
        "inference.preset.accessMode",
        "Unsupported value",
    ),
    (
        "bad-api-version",
        set_path("apiVersion", "kaito.sh/v2"),
        "apiVersion",
        "supported values: kaito.sh/v1beta1, kaito.sh/v1alpha1",
    ),
]

TUNING_CASES: list[tuple[str, Mutation, str, str]] = [
    ("no-preset", delete_path("tuning.preset"), "tuning.preset", "Required value"),
    (
        "unknown-preset",
        set_path("tuning.preset.name", "phi-9"),
        "tuning.preset.name",
        "Unsupported tuning preset name phi-9",
    ),
    ("no-method", delete_path("tuning.method"), "tuning.method", "Required value"),
    (
        "bad-method",
        set_path("tuning.method", "full"),
        "tuning.method",
        'Unsupported value: "full": supported values',
    ),
    (
        "preset-without-tuning",
        set_path("tuning.preset.name", "falcon-7b-instruct"),
        "tuning.method",
        "preset falcon-7b-instruct does not support qlora tuning",
    ),
    (
        "multinode",
        set_path("resource.count", 2),
        "resource.count",
        "Tuning does not support multinode configurations",
    ),
    ("no-input", delete_path("tuning.input"), "tuning.input", "Required value"),
    ("no-output", delete_path("tuning.output"), "tuning.output", "Required value"),
    (
        "two-inputs",
        set_path("tuning.input.image", "r.io/data:1"),
        "tuning.input",
        "Exactly one of URLs, Volume, or Image must be specified",
    ),
    (
        "no-input-source",
        set_path("tuning.input", {"name": "d"}),
        "tuning.input",
        "Exactly one of URLs, Volume, or Image",
    ),
    (
        "loopback-url",
        set_path("tuning.input.urls", ["http://127.0.0.1:8080/data.parquet"]),
        "tuning.input.urls[0]",
        "must not target a loopback, private, or link-local address",
    ),
    (
        "ftp-url",
        set_path("tuning.input.urls", ["ftp://x.io/d"]),
        "tuning.input.urls[0]",
        "must use HTTP or HTTPS",
    ),
    (
        "metadata-url",
        set_path("tuning.input.urls", ["http://metadata.google.internal/computeMetadata/v1/"]),
        "tuning.input.urls[0]",
        "must not target a local or metadata endpoint",
    ),
    ("empty-urls", set_path("tuning.input.urls", []), "tuning.input.urls", "at least one URL"),
    (
        "bad-input-image",
        set_path("tuning.input", {"image": "Data:latest"}),
        "tuning.input.image",
        "Unable to parse input image reference",
    ),
    (
        "output-neither",
        set_path("tuning.output", {}),
        "tuning.output",
        "Exactly one of Volume or Image must be specified",
    ),
    (
        "output-both",
        set_path("tuning.output.volumeSource", {"emptyDir": {}}),
        "tuning.output",
        "Exactly one of Volume or Image must be specified",
    ),
    (
        "output-without-push-secret",
        delete_path("tuning.output.imagePushSecret"),
        "tuning.output.imagePushSecret",
        "Must specify imagePushSecret with destination image",
    ),
    (
        "placeholder-output-image",
        set_path("tuning.output.image", "ACR_REPO_HERE.azurecr.io/IMAGE_NAME_HERE:0.0.1"),
        "tuning.output.image",
        "Unable to parse output image reference",
    ),
    (
        "placeholder-push-secret",
        set_path("tuning.output.imagePushSecret", "ACR_REGISTRY_SECRET_HERE"),
        "tuning.output.imagePushSecret",
        "RFC 1123 subdomain",
    ),
    (
        "lora-too-big",
        both(set_path("tuning.preset.name", "phi-3-medium-4k-instruct"), set_path("tuning.method", "lora")),
        "resource.instanceType",
        "Insufficient",
    ),
]


def problems_at(problems: list[FieldError], path: str) -> list[str]:
    return [p.message for p in problems if p.path == path]


@pytest.mark.parametrize(
    ("case", "mutation", "path", "message"), INFERENCE_CASES, ids=[c[0] for c in INFERENCE_CASES]
)
def test_inference_rules(case: str, mutation: Mutation, path: str, message: str) -> None:
    doc = inference_workspace()
    mutation(doc)
    problems = validate_workspace(doc)
    assert any(message in m for m in problems_at(problems, path)), problems


@pytest.mark.parametrize(
    ("case", "mutation", "path", "message"), TUNING_CASES, ids=[c[0] for c in TUNING_CASES]
)
def test_tuning_rules(case: str, mutation: Mutation, path: str, message: str) -> None:
    doc = tuning_workspace()
    mutation(doc)
    problems = validate_workspace(doc)
    assert any(message in m for m in problems_at(problems, path)), problems


@pytest.mark.parametrize(
    "doc",
    [inference_workspace(), tuning_workspace()],
    ids=["inference", "tuning"],
)
def test_valid_workspaces_have_no_problems(doc: Doc) -> None:
    assert validate_workspace(doc) == []


@pytest.mark.parametrize(
    ("case", "mutation"),
    [
        (
            "transformers-weights-adapters",
            both(
                annotate("kaito.sh/runtime", "transformers"),
                set_path("inference.adapters", [{**adapter(), "strength": "0.25"}]),
            ),
        ),
        (
            "volume-adapter",
            set_path("inference.adapters", [{"source": {"name": "a", "volumeSource": {"emptyDir": {}}}}]),
        ),
        ("ten-adapters", set_path("inference.adapters", [adapter(f"a{i}") for i in range(10)])),
        (
            "in-expression",
            set_path(
                "resource.labelSelector",
                {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]},
            ),
        ),
        (
            "template",
            both(
                delete_path("inference.preset"),
                set_path(
                    "inference.template", {"spec": {"containers": [{"name": "c", "image": "r.io/i:1"}]}}
                ),
            ),
        ),
        (
            "gated-with-secret",
            both(
                set_path("inference.preset.name", "llama-3.1-8b-instruct"),
                set_path("inference.preset.presetOptions", {"modelAccessSecret": "hf-token"}),
            ),
        ),
        (
            "vllm-multi-node-70b",
            both(
                set_path("inference.preset.name", "llama-3.3-70b-instruct"),
                set_path("inference.preset.presetOptions", {"modelAccessSecret": "hf-token"}),
            ),
        ),
        ("v100-defaults-to-transformers", v100_transformers("phi-3-mini-4k-instruct")),
    ],
)
def test_accepted_variations(case: str, mutation: Mutation) -> None:
    doc = inference_workspace()
    mutation(doc)
    assert validate_workspace(doc) == []


def test_bypass_annotation_turns_gpu_fit_errors_into_warnings() -> None:
    doc = inference_workspace()
    v100_transformers("phi-4")(doc)
    annotate("kaito.sh/bypass-resource-checks", "")(doc)
    problems = validate_workspace(doc)
    assert problems and all(p.warning for p in problems)
    assert "Insufficient" in problems[0].message


def test_unlisted_azure_gpu_sku_is_a_warning() -> None:
    doc = inference_workspace()
    set_path("resource.instanceType", "Standard_NC999_Future")(doc)
    (problem,) = validate_workspace(doc)
    assert problem.warning and "not in kaito's SKU table" in problem.message


def test_byo_nodes_need_no_instance_type() -> None:
    doc = inference_workspace()
    delete_path("resource.instanceType")(doc)
    assert validate_workspace(doc, context=ValidationContext(node_provisioner=NodeProvisioner.BYO)) == []


CONFIG_CASES = [
    (
        "missing-key",
        configmap("cfg", "other.yaml", ""),
        "missing field(s): inference_config.yaml in ConfigMap 'cfg'",
    ),
    ("bad-yaml", configmap("cfg", "inference_config.yaml", "vllm: [\n"), "is not valid YAML at line"),
    ("not-a-map", configmap("cfg", "inference_config.yaml", "- a\n"), "must be a mapping"),
    (
        "vllm-not-map",
        configmap("cfg", "inference_config.yaml", "vllm: 3\n"),
        "'vllm' in ConfigMap 'cfg' must be a mapping",
    ),
    (
        "max-len-too-big",
        configmap("cfg", "inference_config.yaml", "vllm:\n  max-model-len: 200000\n"),
        "max-model-len 200000 exceeds model's maximum supported context window 131072",
    ),
    (
        "max-len-not-int",
        configmap("cfg", "inference_config.yaml", "vllm:\n  max-model-len: lots\n"),
        "max-model-len in ConfigMap 'cfg' must be a positive integer",
    ),
]


@pytest.mark.parametrize(("case", "config_map", "message"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_inference_config_map_rules(case: str, config_map: ConfigMap, message: str) -> None:
    doc = inference_workspace()
    set_path("inference.config", "cfg")(doc)
    problems = validate_workspace(doc, context=lookup_of(config_map))
    assert any(message in m for m in problems_at(problems, "inference.config")), problems


def test_inference_config_map_must_exist_when_the_cluster_can_tell() -> None:
    doc = inference_workspace()
    set_path("inference.config", "cfg")(doc)
    problems = validate_workspace(doc, context=lookup_of())
    assert problems_at(problems, "inference.config") == [
        "ConfigMap 'cfg' specified in 'config' not found in namespace 'default'"
    ]
    good = configmap("cfg", "inference_config.yaml", "vllm:\n  max-model-len: 8192\n  cpu-offload-gb: 0\n")
    assert validate_workspace(doc, context=lookup_of(good)) == []


TRAINING_CASES = [
    ("missing-key", "", "missing field(s): training_config.yaml"),
    ("not-a-map", "training_config: 3\n", "Expected 'training_config' key to contain a map"),
    (
        "unknown-section",
        "training_config:\n  Foo: {}\n  QuantizationConfig: {load_in_4bit: true}\n",
        "Unrecognized section: Foo",
    ),
    (
        "both-bits",
        "training_config:\n  QuantizationConfig: {load_in_4bit: true, load_in_8bit: true}\n",
        "Cannot set both 'load_in_4bit' and 'load_in_8bit' to true",
    ),
    (
        "qlora-unquantized",
        "training_config:\n  QuantizationConfig: {load_in_4bit: false}\n",
        "For method 'qlora', either 'load_in_4bit' or 'load_in_8bit' must be true",
    ),
    (
        "bits-not-bool",
        "training_config:\n  QuantizationConfig: {load_in_4bit: 'yes'}\n",
        "'load_in_4bit' in ConfigMap 'tcfg' must be true or false",
    ),
    (
        "output-dir-outside-mnt",
        "training_config:\n  QuantizationConfig: {load_in_4bit: true}\n  TrainingArguments: {output_dir: /tmp/x}\n",
        "Invalid output_dir specified: '/tmp/x'",
    ),
    (
        "output-dir-is-mnt",
        "training_config:\n  QuantizationConfig: {load_in_4bit: true}\n  TrainingArguments: {output_dir: /mnt/../mnt}\n",
        "Invalid output_dir specified",
    ),
]


@pytest.mark.parametrize(("case", "text", "message"), TRAINING_CASES, ids=[c[0] for c in TRAINING_CASES])
def test_training_config_map_rules(case: str, text: str, message: str) -> None:
    doc = tuning_workspace()
    set_path("tuning.config", "tcfg")(doc)
    key = "other" if case == "missing-key" else "training_config.yaml"
    problems = validate_workspace(doc, context=lookup_of(configmap("tcfg", key, text)))
    assert any(message in m for m in problems_at(problems, "tuning.config")), problems


def test_lora_must_not_quantize() -> None:
    doc = tuning_workspace()
    set_path("tuning.method", "lora")(doc)
    set_path("tuning.config", "tcfg")(doc)
    config = configmap(
        "tcfg", "training_config.yaml", "training_config:\n  QuantizationConfig: {load_in_8bit: true}\n"
    )
    problems = validate_workspace(doc, context=lookup_of(config))
    assert (
        "For method 'lora', 'load_in_4bit' or 'load_in_8bit' in ConfigMap 'tcfg' must not be true"
        in problems_at(problems, "tuning.config")
    )


UPDATE_CASES: list[tuple[str, Callable[[], Doc], Mutation, str, str]] = [
    (
        "toggle-inference",
        inference_workspace,
        both(delete_path("inference"), set_path("tuning", tuning_workspace()["tuning"])),
        "inference",
        "Inference field cannot be toggled once set",
    ),
    (
        "toggle-tuning",
        tuning_workspace,
        both(delete_path("tuning"), set_path("inference", {"preset": {"name": "phi-2"}})),
        "tuning",
        "Tuning field cannot be toggled once set",
    ),
    ("count", inference_workspace, set_path("resource.count", 2), "resource.count", "field is immutable"),
    (
        "instance-type",
        inference_workspace,
        set_path("resource.instanceType", "Standard_NC48ads_A100_v4"),
        "resource.instanceType",
        "instanceType cannot be changed once set",
    ),
    (
        "selector",
        inference_workspace,
        set_path("resource.labelSelector", {"matchLabels": {"apps": "other"}}),
        "resource.labelSelector",
        "field is immutable",
    ),
    (
        "preset",
        inference_workspace,
        set_path("inference.preset.name", "phi-3-mini-128k-instruct"),
        "inference.preset",
        "field is immutable",
    ),
    (
        "template",
        inference_workspace,
        both(
            delete_path("inference.preset"),
            set_path("inference.template", {"spec": {"containers": [{"name": "c", "image": "r.io/i"}]}}),
        ),
        "inference.template",
        "field cannot be unset/set if it was set/unset",
    ),
    (
        "tuning-preset",
        tuning_workspace,
        set_path("tuning.preset.name", "phi-3-mini-4k-instruct"),
        "tuning.preset",
        "Preset cannot be changed",
    ),
    (
        "tuning-method",
        tuning_workspace,
        set_path("tuning.method", "lora"),
        "tuning.method",
        "Method cannot be changed",
    ),
    (
        "input-name",
        tuning_workspace,
        set_path("tuning.input.name", "other"),
        "tuning.input.name",
        "During tuning Name field cannot be changed once set",
    ),
    (
        "bad-new-adapter",
        inference_workspace,
        set_path("inference.adapters", [{**adapter(), "strength": "2"}]),
        "inference.adapters[0].strength",
        "must be between 0 and 1",
    ),
]


@pytest.mark.parametrize(
    ("case", "make", "mutation", "path", "message"), UPDATE_CASES, ids=[c[0] for c in UPDATE_CASES]
)
def test_update_rules(
    case: str, make: Callable[[], Doc], mutation: Mutation, path: str, message: str
) -> None:
    old = make()
    if case == "input-name":
        old["tuning"]["input"]["name"] = "dataset"
    new = copy.deepcopy(old)
    mutation(new)
    problems = validate_workspace(new, old)
    assert any(message in m for m in problems_at(problems, path)), problems


def test_changing_adapters_is_allowed() -> None:
    old = inference_workspace()
    new = copy.deepcopy(old)
    set_path("inference.adapters", [adapter()])(new)
    assert validate_workspace(new, old) == []


def test_controller_writes_to_an_object_that_no_longer_passes_create_rules_go_through() -> None:
    old = inference_workspace()
    old["inference"]["preset"]["name"] = "retired-preset"
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"workspace.kaito.io/revision": "2"}
    new["status"] = {"state": "Ready"}
    assert validate_workspace(new, old) == []
    assert validate_workspace(new)  # as a create it would be refused


def test_deleting_objects_are_never_blocked() -> None:
    doc = inference_workspace()
    doc["inference"]["preset"]["name"] = "retired-preset"
    doc["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert validate_workspace(doc, doc) == []


def test_not_an_object() -> None:
    assert validate_workspace(["a"]) == [FieldError("", "a Workspace must be a YAML/JSON object")]


# Random documents, well-formed or not: validation answers, it never raises.
_scalars = st.none() | st.booleans() | st.integers(-3, 200) | st.floats(allow_nan=True) | st.text(max_size=12)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "name",
        "count",
        "instanceType",
        "labelSelector",
        "matchLabels",
        "preset",
        "adapters",
        "source",
        "image",
        "strength",
        "urls",
        "volumeSource",
        "method",
        "input",
        "output",
        "imagePushSecret",
        "template",
        "config",
        "accessMode",
        "presetOptions",
        "modelAccessSecret",
        "spec",
        "containers",
    ]
)
_shaped = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["resource", "inference", "tuning", "status", "metadata", "extra"]),
        _shaped,
        max_size=5,
    ),
    noise=_json,
)
def test_validation_never_raises(body: dict[str, Any], noise: Any) -> None:
    doc = {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", **body}
    for candidate in (doc, noise):
        problems = validate_workspace(candidate)
        assert all(isinstance(p, FieldError) and p.message for p in problems)
    assert all(isinstance(p, FieldError) for p in validate_workspace(doc, noise))


@settings(max_examples=200, deadline=None)
@given(
    preset=st.sampled_from(
        ["phi-3-mini-4k-instruct", "phi-4", "llama-3.3-70b-instruct", "falcon-40b", "gpt-oss-120b"]
    ),
    sku=st.sampled_from(
        [
            "Standard_NC6s_v3",
            "Standard_NC24ads_A100_v4",
            "Standard_NV36ads_A10_v5",
            "Standard_NC4as_T4_v3",
            "Standard_ND96isr_H100_v5",
            "Standard_NC80adis_H100_v5",
        ]
    ),
    runtime=st.sampled_from([None, "vllm", "transformers"]),
    strengths=st.lists(st.sampled_from(["0", "0.5", "1.0", "1", "-1", "nan", "inf", "x"]), max_size=3),
)
def test_every_preset_sku_runtime_combination_gets_an_answer(
    preset: str, sku: str, runtime: str | None, strengths: list[str]
) -> None:
    doc = inference_workspace()
    set_path("inference.preset.name", preset)(doc)
    set_path("resource.instanceType", sku)(doc)
    if runtime:
        annotate("kaito.sh/runtime", runtime)(doc)
    doc["inference"]["adapters"] = [{**adapter(f"a{i}"), "strength": s} for i, s in enumerate(strengths)]
    problems = validate_workspace(doc)
    assert all(p.message for p in problems)
