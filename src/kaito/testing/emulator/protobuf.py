"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``), decoded
to the JSON form. client-go's typed clients (``kubectl create namespace``,
``kubectl run``, helm's release Secrets) send them.

Field numbers come from ``protobuf_fields.json`` (see ``protogen``). Zero
values are dropped, as Go's ``omitempty`` JSON encoding would drop them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import struct
from functools import cache
from importlib import resources
from typing import Any

from kaito.testing.emulator.errors import bad_request

MAGIC = b"k8s\x00"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_PACKAGES = {
    "": "k8s.io.api.core.v1",
    "apps": "k8s.io.api.apps.v1",
    "batch": "k8s.io.api.batch.v1",
    "coordination.k8s.io": "k8s.io.api.coordination.v1",
    "admissionregistration.k8s.io": "k8s.io.api.admissionregistration.v1",
    "meta.k8s.io": _META,
}
_META_KINDS = {"DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions", "Status"}
_KEEP_ZERO = {"replicas"}  # pointer fields whose explicit zero means something

Fields = dict[int, list[tuple[int, Any]]]


@cache
def _table() -> dict[str, dict[str, list[Any]]]:
    text = resources.files("kaito.testing.emulator").joinpath("protobuf_fields.json").read_text()
    table: dict[str, dict[str, list[Any]]] = json.loads(text)
    return table


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise bad_request("protobuf: truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Fields:
    """Wire-level parse: field number -> [(wire type, raw value)]."""
    out: Fields = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise bad_request(f"protobuf: unsupported wire type {wire}")
        out.setdefault(number, []).append((wire, value))
    return out


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _scalar(type_name: str, wire: int, raw: Any) -> Any:
    if type_name == "string":
        return bytes(raw).decode("utf-8")
    if type_name == "bytes":
        return base64.b64encode(bytes(raw)).decode()
    if type_name == "bool":
        return bool(raw)
    if type_name in ("int32", "int64"):
        return _signed(int(raw), 64)
    if type_name in ("uint32", "uint64"):
        return int(raw)
    if type_name == "double":
        return struct.unpack("<d", raw)[0]
    if type_name == "float":
        return struct.unpack("<f", raw)[0]
    raise bad_request(f"protobuf: unsupported scalar type {type_name}")


def _packed(type_name: str, raw: bytes) -> list[Any]:
    values, pos = [], 0
    while pos < len(raw):
        value, pos = _varint(raw, pos)
        values.append(_scalar(type_name, 0, value))
    return values


def _special(message: str, data: bytes) -> Any:
    fields = _fields(data)

    def first(number: int, default: Any = None) -> Any:
        return fields[number][0][1] if number in fields else default

    if message in (f"{_META}.Time", f"{_META}.MicroTime"):
        seconds = _signed(int(first(1, 0)), 64)
        if seconds <= 0:
            return None
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
        if message.endswith("MicroTime"):
            micros = _signed(int(first(2, 0)), 64) // 1000
            return moment.replace(microsecond=micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if message == f"{_META}.Duration":
        nanos = _signed(int(first(1, 0)), 64)
        return f"{nanos / 1e9:g}s"
    if message == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        return bytes(first(1, b"")).decode()
    if message == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        if int(first(1, 0)) == 1:
            return bytes(first(3, b"")).decode()
        return _signed(int(first(2, 0)), 64)
    if message in ("k8s.io.apimachinery.pkg.runtime.RawExtension", f"{_META}.FieldsV1"):
        raw = bytes(first(1, b""))
        return json.loads(raw) if raw else None
    return _MISSING


_MISSING = object()


def _empty(name: str, value: Any) -> bool:
    if value is None:
        return True
    if name in _KEEP_ZERO and value == 0 and not isinstance(value, bool):
        return False
    return value in ("", False, 0, [], {}) and not (isinstance(value, float) and value != 0)


def decode_message(message: str, data: bytes) -> Any:
    special = _special(message, data)
    if special is not _MISSING:
        return special
    spec = _table().get(message)
    if spec is None:
        raise bad_request(f"protobuf: unknown message type {message}")
    out: dict[str, Any] = {}
    for number, values in _fields(data).items():
        field = spec.get(str(number))
        if field is None:
            continue
        name, type_name, repeated = field
        if type_name.startswith("map:"):
            _, key_type, value_type = type_name.split(":", 2)
            mapping: dict[str, Any] = {}
            for _, entry in values:
                parts = _fields(bytes(entry))
                key = _scalar(key_type, 0, parts[1][0][1]) if 1 in parts else ""
                mapping[str(key)] = _value(value_type, parts[2][0]) if 2 in parts else _zero(value_type)
            value: Any = mapping
        elif repeated:
            items: list[Any] = []
            for wire, raw in values:
                if wire == 2 and not type_name.startswith("m:") and type_name not in ("string", "bytes"):
                    items.extend(_packed(type_name, bytes(raw)))
                else:
                    items.append(_value(type_name, (wire, raw)))
            value = items
        else:
            value = _value(type_name, values[-1])
        if not _empty(name, value):
            out[name] = value
    return out


def _zero(type_name: str) -> Any:
    return {"string": "", "bytes": "", "bool": False}.get(
        type_name, 0 if not type_name.startswith("m:") else {}
    )


def _value(type_name: str, item: tuple[int, Any]) -> Any:
    wire, raw = item
    if type_name.startswith("m:"):
        return decode_message(type_name[2:], bytes(raw))
    return _scalar(type_name, wire, raw)


def decode(body: bytes) -> dict[str, Any]:
    """A ``k8s\\0``-framed ``runtime.Unknown`` to the object's JSON form (apiVersion and kind included)."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf: the body does not start with the Kubernetes protobuf magic number")
    envelope = _fields(body[len(MAGIC) :])
    type_meta = _fields(bytes(envelope[1][0][1])) if 1 in envelope else {}
    api_version = bytes(type_meta[1][0][1]).decode() if 1 in type_meta else ""
    kind = bytes(type_meta[2][0][1]).decode() if 2 in type_meta else ""
    raw = bytes(envelope[2][0][1]) if 2 in envelope else b""
    group = api_version.rpartition("/")[0]
    package = _META if kind in _META_KINDS else _PACKAGES.get(group)
    message = f"{package}.{kind}" if package else ""
    if message not in _table():
        raise bad_request(f"protobuf: no protobuf decoding for {api_version}/{kind}; send JSON")
    obj = decode_message(message, raw)
    result: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    result.update(obj)
    return result
