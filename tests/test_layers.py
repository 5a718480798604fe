"""Imports point one way: each package may import only the layers written down here.

The order, lowest first (see the README's architecture section):

    kaito.api              types, well-known names, REST shapes, CRD generation; no I/O
    kaito.presets          the model catalog, SKUs, estimators
    kaito.validation       the Workspace rules shared by the webhook and ``kaito validate``
    kaito.kube             the generic controller library (knows no kaito type or label)
    kaito.cloudprovider    node provisioning back ends (Azure agent pools, the fake one)
    kaito.controllers.*    one package per controller: planners, builders, one reconciler, wiring
    kaito.webhook          the validating admission webhook
    kaito.operator         the composition root: controllers + webhook + manager
    kaito.cli              the ``kaito`` command (and the only place that may load kaito_sim)

Beside them, two distributions of their own: ``kaito_sim`` (the simulated cluster, a test
world that may use only ``kaito.api``) and ``kaito_runtime`` (the model-image package, which
imports nothing of the operator). Every import counts, function-local ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The generic controller library may use only the Kubernetes-generic parts of kaito.api.
KUBE_API_MODULES = ("kaito.api.core", "kaito.api.meta", "kaito.api.resources", "kaito.api.jsontypes")

ALLOWED: dict[str, tuple[str, ...]] = {
    "kaito.api": ("kaito.api",),
    "kaito.presets": ("kaito.api", "kaito.presets"),
    "kaito.validation": ("kaito.api", "kaito.presets", "kaito.validation"),
    "kaito.kube": (*KUBE_API_MODULES, "kaito.kube"),
    "kaito.cloudprovider": ("kaito.api", "kaito.presets", "kaito.kube", "kaito.cloudprovider"),
    "kaito.controllers": (
        "kaito.api",
        "kaito.presets",
        "kaito.validation",
        "kaito.kube",
        "kaito.cloudprovider",
        "kaito.controllers",
    ),
    "kaito.webhook": ("kaito.api", "kaito.presets", "kaito.validation", "kaito.kube", "kaito.webhook"),
    "kaito.operator": (
        "kaito.api",
        "kaito.presets",
        "kaito.validation",
        "kaito.kube",
        "kaito.cloudprovider",
        "kaito.controllers",
        "kaito.webhook",
        "kaito.operator",
    ),
    "kaito.cli": ("kaito", "kaito_sim"),
    "kaito": ("kaito.cli",),  # kaito/__init__.py and __main__.py
    "kaito_sim": ("kaito.api", "kaito_sim"),
    "kaito_runtime": ("kaito_runtime",),
}

PACKAGE_ROOTS = (ROOT / "src", ROOT / "sim" / "src", ROOT / "runtime" / "src")
OURS = ("kaito", "kaito_sim", "kaito_runtime")


def _module_name(path: Path) -> str:
    for root in PACKAGE_ROOTS:
        if path.is_relative_to(root):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts)
    raise AssertionError(f"{path} is under no package root")


def _layer(module: str) -> str:
    """The most specific key of ALLOWED that ``module`` belongs to."""
    best = ""
    for key in ALLOWED:
        if (module == key or module.startswith(key + ".")) and len(key) > len(best):
            best = key
    return best


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def _allowed(importer_layer: str, target: str) -> bool:
    if target == "kaito" and importer_layer.startswith("kaito"):
        return importer_layer != "kaito_runtime"  # kaito/__init__.py holds only __version__
    return any(target == prefix or target.startswith(prefix + ".") for prefix in ALLOWED[importer_layer])


def _sources() -> list[Path]:
    return sorted(p for root in PACKAGE_ROOTS for p in root.rglob("*.py"))


def test_every_source_file_belongs_to_a_layer() -> None:
    unplaced = [str(p.relative_to(ROOT)) for p in _sources() if not _layer(_module_name(p))]
    assert unplaced == []


def test_imports_point_down_the_layers() -> None:
    violations = []
    for path in _sources():
        module = _module_name(path)
        layer = _layer(module)
        for line, target in _imports(path, module):
            if not _allowed(layer, target):
                violations.append(f"{path.relative_to(ROOT)}:{line}: {layer} may not import {target}")
    assert violations == [], "\n".join(violations)


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("kaito.api.workspace", "kaito.presets.catalog", False),
        ("kaito.validation.tuning", "kaito.presets.tuning", True),
        ("kaito.kube.store", "kaito.api.wellknown", False),
        ("kaito.kube.client", "kaito.api.resources", True),
        ("kaito.controllers.workspace.reconciler", "kaito.webhook.service", False),
        ("kaito.webhook.service", "kaito.operator.controllers", False),
        ("kaito_sim.emulator.http", "kaito.validation", False),
        ("kaito_runtime.cli", "kaito.api", False),
        ("kaito.cli.sandbox.command", "kaito_sim.cluster", True),
    ],
)
def test_the_rules_themselves(importer: str, target: str, allowed: bool) -> None:
    """The checker refuses the cycles this layout removed, so it cannot pass by accepting everything."""
    assert _allowed(_layer(importer), target) is allowed
