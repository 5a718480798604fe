"""The controllers ``kaito controller --controllers ...`` can start, by name.

Each entry is a setup function that asks the manager for the informers it
needs and adds its controller(s). A name mapped to None is planned but not
built yet: asking for it is an error that says so, rather than "unknown".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.setup import setup_workspace_controller
from kaito.kube.manager import Manager
from kaito.webhook.service import WebhookOptions, add_webhook


@dataclass(frozen=True)
class SetupOptions:
    """What the command line tells every controller."""

    concurrent_reconciles: int = 5
    workspace: WorkspaceOptions = field(default_factory=WorkspaceOptions)
    # The validating admission webhook, served with the workspace controller; None: not served.
    webhook: WebhookOptions | None = None


SetupFunc = Callable[[Manager, SetupOptions], None]


def _workspace(manager: Manager, options: SetupOptions) -> None:
    setup_workspace_controller(manager, options.workspace, options.concurrent_reconciles)
    if options.webhook is not None:
        add_webhook(manager, options.webhook)


CONTROLLERS: dict[str, SetupFunc | None] = {
    "workspace": _workspace,
    "nodeclaim": None,  # karpenter.sh/v1 NodeClaim node provisioner (Azure agent pools)
    "machine": None,  # karpenter.sh/v1alpha5 Machine node provisioner (Azure agent pools)
}


class ControllerSelectionError(ValueError):
    """A requested controller name is unknown or not available in this build."""


def available() -> list[str]:
    return [name for name, setup in CONTROLLERS.items() if setup is not None]


def resolve(names: Iterable[str] | None) -> list[tuple[str, SetupFunc]]:
    """The setup functions for ``names`` (every available controller when None), in the order asked."""
    wanted = available() if names is None else list(dict.fromkeys(names))
    offered = ", ".join(available()) or "none"
    chosen: list[tuple[str, SetupFunc]] = []
    for name in wanted:
        if name not in CONTROLLERS:
            raise ControllerSelectionError(f"unknown controller {name!r} (available: {offered})")
        setup = CONTROLLERS[name]
        if setup is None:
            raise ControllerSelectionError(f"controller {name!r} is not available yet (available: {offered})")
        chosen.append((name, setup))
    return chosen


def setup_controllers(manager: Manager, chosen: list[tuple[str, SetupFunc]], options: SetupOptions) -> None:
    for _, setup in chosen:
        setup(manager, options)
