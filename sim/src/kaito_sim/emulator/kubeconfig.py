"""kubeconfig files that kubectl, kubernetes-asyncio and kopf accept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig(
    server: str, context_name: str, token: str | None, namespace: str = "default"
) -> dict[str, Any]:
    user: dict[str, Any] = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context_name, "cluster": {"server": server}}],
        "users": [{"name": context_name, "user": user}],
        "contexts": [
            {
                "name": context_name,
                "context": {"cluster": context_name, "user": context_name, "namespace": namespace},
            }
        ],
        "current-context": context_name,
    }


def write_kubeconfig(path: str | os.PathLike[str], server: str, context_name: str, token: str | None) -> Path:
    """Write (replacing) a kubeconfig readable only by its owner, as kubectl expects of credentials."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig(server, context_name, token), sort_keys=False)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return target
