"""``kaito validate``: check Workspace manifests before applying them.

The same rules the admission webhook enforces, offline. ConfigMaps in the
given files answer ``inference.config`` / ``tuning.config`` references.
"""

from __future__ import annotations

import argparse
import sys

from kaito.api.core import ConfigMap
from kaito.api.manifests import Document, ManifestError, load_documents, object_ref
from kaito.api.wellknown import NodeProvisioner
from kaito.validation import ConfigMapLookup, ValidationContext, is_workspace_document, validate_workspace


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate Workspace manifests offline",
        description="Validate every Workspace document in the files with the admission webhook's rules. "
        "Prints one line per problem: FILE: NAMESPACE/NAME: field.path: message. "
        "Exit 0 when all are valid, 1 when any is invalid, 2 when a file cannot be read or parsed.",
    )
    parser.add_argument(
        "-f",
        "--filename",
        dest="files",
        action="append",
        required=True,
        metavar="FILE",
        help="manifest file (multi-document YAML or JSON; '-' for stdin); repeatable",
    )
    parser.add_argument(
        "--old", metavar="FILE", help="the previous version of the workspaces, to check update rules"
    )
    parser.add_argument(
        "--node-provisioner",
        choices=[p.value for p in NodeProvisioner],
        default=NodeProvisioner.NODECLAIM.value,
        help="how the controller gets nodes (byo: instanceType may be left out)",
    )
    parser.add_argument(
        "--cloud", choices=["azure", "aws", "arc"], default="azure", help="SKU table to check against"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        documents = [doc for path in args.files for doc in load_documents(path)]
        old_documents = load_documents(args.old) if args.old else []
    except ManifestError as err:
        print(err, file=sys.stderr)
        return 2
    workspaces = [doc for doc in documents if is_workspace_document(doc.content)]
    if not workspaces:
        print(f"{', '.join(args.files)}: no Workspace documents found", file=sys.stderr)
        return 1
    previous = {
        object_ref(doc.content): doc.content for doc in old_documents if is_workspace_document(doc.content)
    }
    context = ValidationContext(
        node_provisioner=NodeProvisioner(args.node_provisioner),
        cloud=args.cloud,
        config_maps=_config_maps_in(documents),
    )
    invalid = 0
    for doc in workspaces:
        ref = object_ref(doc.content)
        problems = validate_workspace(doc.content, previous.get(ref), context)
        for problem in problems:
            print(f"{doc.source}: {ref}: {problem}")
        invalid += any(not p.warning for p in problems)
    valid = len(workspaces) - invalid
    print(f"{len(workspaces)} workspace(s) checked: {valid} valid, {invalid} invalid", file=sys.stderr)
    return 1 if invalid else 0


def _config_maps_in(documents: list[Document]) -> ConfigMapLookup | None:
    config_maps: dict[tuple[str, str], ConfigMap] = {}
    for doc in documents:
        content = doc.content
        if (
            isinstance(content, dict)
            and content.get("kind") == "ConfigMap"
            and content.get("apiVersion") == "v1"
        ):
            try:
                config_map = ConfigMap.model_validate(content)
            except ValueError:
                continue
            config_maps[(config_map.metadata.namespace or "default", config_map.name)] = config_map

    def lookup(namespace: str, name: str) -> ConfigMap | None:
        return config_maps.get((namespace, name))

    # Without ConfigMaps in the files, references cannot be judged here: the webhook checks them.
    return lookup if config_maps else None
