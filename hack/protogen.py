"""Generate ``protobuf_fields.json`` (the field numbers of Kubernetes' protobuf
messages) from ``generated.proto`` files of kubernetes/api and
kubernetes/apimachinery, so the emulator can read protobuf request bodies.

    python hack/protogen.py OUT.json FILE.proto...
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_SCALARS = {
    "string",
    "bytes",
    "bool",
    "int32",
    "int64",
    "uint32",
    "uint64",
    "sint32",
    "sint64",
    "double",
    "float",
    "fixed32",
    "fixed64",
    "sfixed32",
    "sfixed64",
}
_PACKAGE = re.compile(r"^package\s+([\w.]+);", re.M)
_MESSAGE = re.compile(r"^message\s+(\w+)\s*\{(.*?)^\}", re.M | re.S)
_FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)", re.M)
_MAP = re.compile(r"^\s*map<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)", re.M)


def _qualify(type_name: str, package: str) -> str:
    if type_name in _SCALARS:
        return type_name
    if "." in type_name:
        return "m:" + type_name.lstrip(".")
    return f"m:{package}.{type_name}"


def parse(text: str) -> dict[str, dict[str, list[object]]]:
    package = _PACKAGE.search(text)
    if package is None:
        raise ValueError("no package declaration")
    pkg = package.group(1)
    messages: dict[str, dict[str, list[object]]] = {}
    for match in _MESSAGE.finditer(text):
        body = "\n".join(line for line in match.group(2).splitlines() if not line.strip().startswith("//"))
        fields: dict[str, list[object]] = {}
        for f in _FIELD.finditer(body):
            fields[f.group(4)] = [f.group(3), _qualify(f.group(2), pkg), 1 if f.group(1) == "repeated" else 0]
        for f in _MAP.finditer(body):
            fields[f.group(4)] = [f.group(3), f"map:{f.group(1)}:{_qualify(f.group(2), pkg)}", 0]
        messages[f"{pkg}.{match.group(1)}"] = fields
    return messages


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    table: dict[str, dict[str, list[object]]] = {}
    for path in argv[1:]:
        table.update(parse(Path(path).read_text()))
    Path(argv[0]).write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
