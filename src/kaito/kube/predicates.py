"""Predicates: which informer events a controller cares about (controller-runtime's ``predicate``).

An event that fails a predicate never reaches the work queue, which keeps a
controller from reconciling on every status heartbeat of the objects it watches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from kaito.api.meta import KubeObject
from kaito.kube import labels
from kaito.kube.labels import Selector

T = TypeVar("T", bound=KubeObject)
T_contra = TypeVar("T_contra", bound=KubeObject, contravariant=True)


class Predicate(Protocol[T_contra]):
    def create(self, obj: T_contra) -> bool: ...

    def update(self, old: T_contra, new: T_contra) -> bool: ...

    def delete(self, obj: T_contra) -> bool: ...

    def generic(self, obj: T_contra) -> bool: ...


@dataclass(frozen=True)
class Funcs(Generic[T]):
    """A predicate from optional functions; a missing function lets its events through."""

    on_create: Callable[[T], bool] | None = None
    on_update: Callable[[T, T], bool] | None = None
    on_delete: Callable[[T], bool] | None = None
    on_generic: Callable[[T], bool] | None = None

    def create(self, obj: T) -> bool:
        return self.on_create is None or self.on_create(obj)

    def update(self, old: T, new: T) -> bool:
        return self.on_update is None or self.on_update(old, new)

    def delete(self, obj: T) -> bool:
        return self.on_delete is None or self.on_delete(obj)

    def generic(self, obj: T) -> bool:
        return self.on_generic is None or self.on_generic(obj)


class _UpdateOnly:
    """Base for predicates that judge updates only and pass every other event."""

    def create(self, obj: KubeObject) -> bool:
        return True

    def delete(self, obj: KubeObject) -> bool:
        return True

    def generic(self, obj: KubeObject) -> bool:
        return True


class GenerationChanged(_UpdateOnly):
    """Updates whose ``metadata.generation`` moved, i.e. spec changes, not status writes."""

    def update(self, old: KubeObject, new: KubeObject) -> bool:
        return old.metadata.generation != new.metadata.generation


class ResourceVersionChanged(_UpdateOnly):
    """Updates that are real changes, not periodic resyncs of an unchanged object."""

    def update(self, old: KubeObject, new: KubeObject) -> bool:
        return old.metadata.resource_version != new.metadata.resource_version


class LabelsChanged(_UpdateOnly):
    def update(self, old: KubeObject, new: KubeObject) -> bool:
        return (old.metadata.labels or {}) != (new.metadata.labels or {})


class AnnotationsChanged(_UpdateOnly):
    def update(self, old: KubeObject, new: KubeObject) -> bool:
        return (old.metadata.annotations or {}) != (new.metadata.annotations or {})


class LabelSelectorMatches:
    """Events of objects whose labels match ``selector`` (for an update, the new object's)."""

    def __init__(self, selector: Selector) -> None:
        self.selector = selector

    def _ok(self, obj: KubeObject) -> bool:
        return labels.matches(self.selector, obj.metadata.labels)

    def create(self, obj: KubeObject) -> bool:
        return self._ok(obj)

    def update(self, old: KubeObject, new: KubeObject) -> bool:
        return self._ok(new)

    def delete(self, obj: KubeObject) -> bool:
        return self._ok(obj)

    def generic(self, obj: KubeObject) -> bool:
        return self._ok(obj)


class Or(Generic[T]):
    """Passes an event when any of ``predicates`` does.

    There is no ``And``: every predicate given to ``Controller.watches`` must pass.
    """

    def __init__(self, *predicates: Predicate[T]) -> None:
        self.predicates = predicates

    def create(self, obj: T) -> bool:
        return any(p.create(obj) for p in self.predicates)

    def update(self, old: T, new: T) -> bool:
        return any(p.update(old, new) for p in self.predicates)

    def delete(self, obj: T) -> bool:
        return any(p.delete(obj) for p in self.predicates)

    def generic(self, obj: T) -> bool:
        return any(p.generic(obj) for p in self.predicates)


class Not(Generic[T]):
    def __init__(self, predicate: Predicate[T]) -> None:
        self.predicate = predicate

    def create(self, obj: T) -> bool:
        return not self.predicate.create(obj)

    def update(self, old: T, new: T) -> bool:
        return not self.predicate.update(old, new)

    def delete(self, obj: T) -> bool:
        return not self.predicate.delete(obj)

    def generic(self, obj: T) -> bool:
        return not self.predicate.generic(obj)
