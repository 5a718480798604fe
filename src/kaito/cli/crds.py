"""``kaito crds``: print (or write) the CRDs generated from the API models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kaito.api.crds import all_crds, crd_file_name, render_yaml


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "crds",
        help="print the Workspace, NodeClaim and Machine CRDs as YAML",
        description="Print every CRD kaito ships as multi-document YAML, or write one file per CRD.",
    )
    parser.add_argument(
        "--output-dir", type=Path, help="write <group>_<plural>.yaml files here instead of printing"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    crds = all_crds()
    output_dir: Path | None = args.output_dir
    if output_dir is None:
        sys.stdout.write("---\n".join(render_yaml(crd) for crd in crds))
        return 0
    output_dir.mkdir(parents=True, exist_ok=True)
    for crd in crds:
        path = output_dir / crd_file_name(crd)
        path.write_text(render_yaml(crd))
        print(f"wrote {path}")
    return 0
