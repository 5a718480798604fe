"""A write that passed the registry's checks and waits for validating admission.

kube-apiserver calls validating webhooks after defaulting and validation, just
before the object reaches storage. The emulator's writes are synchronous, so
each is split in two: ``Apiserver.prepare_*`` returns a :class:`PendingWrite`
(what admission sees, plus ``commit``), the HTTP layer awaits the webhooks,
then commits. ``commit`` raises :class:`StaleWrite` when the stored object
changed while the webhooks ran, and the caller starts over, as the real
server's GuaranteedUpdate loop does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from kaito_sim.emulator.registry import Resource

Obj = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class AdmissionAttributes:
    """kube-apiserver's ``admission.Attributes`` for one write, in the request's version."""

    operation: str  # CREATE, UPDATE or DELETE
    resource: Resource
    version: str
    subresource: str
    namespace: str  # for namespaces themselves, the namespace's name (except on create), as upstream
    name: str  # as the client gave it: empty on a generateName create
    obj: Obj | None  # what would be stored; None on DELETE
    old: Obj | None  # what is stored; None on CREATE
    options: Obj  # CreateOptions, UpdateOptions, PatchOptions or DeleteOptions, as sent to webhooks
    dry_run: bool


class StaleWrite(Exception):
    """The object changed between prepare and commit: prepare again."""


@dataclass
class PendingWrite(Generic[T]):
    attributes: AdmissionAttributes
    _commit: Callable[[], T]

    def commit(self) -> T:
        return self._commit()

    def then(self, after: Callable[[T], T]) -> PendingWrite[T]:
        """The same write with ``after`` applied to its result once committed."""
        commit = self._commit
        return PendingWrite(self.attributes, lambda: after(commit()))


def options_object(kind: str, **fields: Any) -> Obj:
    """A ``meta.k8s.io/v1`` options object, leaving out unset fields as the API does."""
    out: Obj = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
    out.update({k: v for k, v in fields.items() if not _unset(v)})
    return out


def _unset(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, (str, list, dict)) and not value)
