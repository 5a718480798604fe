"""Reading Kubernetes manifests from YAML files, as kubectl does.

Timestamps stay strings (the API types keep RFC 3339 text), every document
remembers the line it starts on, and a syntax error becomes a ManifestError
naming the file and line instead of a parser traceback.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``creationTimestamp`` stays a string."""


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ManifestError(Exception):
    """A file that cannot be read or parsed; ``str()`` is ``FILE:LINE: what is wrong``."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        location = f"{source}:{line}" if line is not None else source
        super().__init__(f"{location}: {message}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class Document:
    source: str
    line: int
    content: Any


def parse_documents(text: str, source: str) -> list[Document]:
    """Every non-empty document in a multi-document YAML (or JSON) text."""
    documents = []
    try:
        loader = _ManifestLoader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                content = loader.construct_document(node)
                if content is not None:
                    documents.append(Document(source, node.start_mark.line + 1, content))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = " ".join(part for part in (err.context, err.problem) if part)
        raise ManifestError(source, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise ManifestError(source, f"invalid YAML: {err}") from None
    return documents


def load_documents(path: str | Path) -> list[Document]:
    source = str(path)
    try:
        text = sys.stdin.read() if source == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ManifestError(source, f"cannot read file: {reason}") from None
    return parse_documents(text, source)


def object_ref(content: Any) -> str:
    """``namespace/name`` of a manifest, with kubectl's ``default`` namespace when it names none."""
    metadata = content.get("metadata") if isinstance(content, dict) else None
    if not isinstance(metadata, dict):
        return "default/<unnamed>"
    namespace = str(metadata.get("namespace") or "default")
    generated = f"{metadata['generateName']}*" if metadata.get("generateName") else "<unnamed>"
    name = str(metadata.get("name") or generated)
    return f"{namespace}/{name}"
