"""The sandbox's `kubectl apply`: create, reconfigure, and refusals reported per document."""

from __future__ import annotations

from kaito.api.manifests import parse_documents
from kaito.cli.sandbox.apply import apply_document

from .conftest import Cluster

MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: params}
data: {inference_config.yaml: "vllm: {}"}
---
- just a list
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
---
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: ws}
resource: {instanceType: Standard_NC6s_v3, labelSelector: {matchLabels: {a: b}}}
---
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: typo}
resource: {count: "2"}
"""


async def test_each_document_is_applied_or_refused_with_a_reason(cluster: Cluster) -> None:
    documents = parse_documents(MANIFESTS, "all.yaml")
    results = [str(await apply_document(cluster.client, doc)) for doc in documents]
    assert results[0] == "all.yaml:1: configmap/default/params: created"
    assert results[1] == "all.yaml:6: object/default/<unnamed>: error: not a Kubernetes object (expected a mapping)"
    assert results[2] == "all.yaml:8: gadget/default/g: error: no model for example.com/v1/Gadget"
    assert results[3].startswith("all.yaml:12: workspace/default/ws: error: ")
    assert "Either Inference or Tuning must be specified, not neither" in results[3]
    assert results[4] == (
        'all.yaml:17: workspace/default/typo: error: resource.count: Invalid value: "2": must be of type integer, not string'
    )
    again = await apply_document(cluster.client, documents[0])
    assert str(again) == "all.yaml:1: configmap/default/params: configured"
