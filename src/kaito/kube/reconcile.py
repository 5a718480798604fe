"""The reconcile contract: a ``Request`` names an object, a ``Reconciler`` returns a ``Result``.

Reconcilers are level-triggered: they get only the object's key, read the
current state and converge it, so any number of coalesced events is one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Request:
    """Which object to reconcile; ``namespace`` is empty for cluster-scoped objects."""

    name: str
    namespace: str = ""

    @classmethod
    def from_key(cls, key: str) -> Request:
        namespace, _, name = key.rpartition("/")
        return cls(name=name, namespace=namespace)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class Result:
    """What to do after a successful reconcile.

    ``requeue_after`` > 0 runs the request again after that many seconds (and
    resets its failure backoff). There is no bare ``requeue`` flag:
    controller-runtime deprecated it, since "try again soon" is either an
    error (raise, and get backoff) or a deadline (``requeue_after``).
    """

    requeue_after: float = 0.0

    def __post_init__(self) -> None:
        if self.requeue_after < 0:
            raise ValueError(f"requeue_after must not be negative, got {self.requeue_after}")


class Reconciler(Protocol):
    async def reconcile(self, request: Request) -> Result:
        """Drive the named object towards its desired state; raise to retry with backoff."""
        ...


class TerminalError(Exception):
    """A failure retrying cannot fix (invalid spec, say): logged and counted, not requeued."""
