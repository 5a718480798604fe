"""Event handlers: which reconcile ``Request``s an informer event produces.

A controller reconciles one kind (the Workspace) but watches others too: a
Deployment it owns, a cluster-scoped NodeClaim it created. Each handler maps
the changed object to the requests of the objects that care:

* ``EnqueueRequestForObject``: the object itself (the primary kind).
* ``EnqueueRequestForOwner``: its (controller) owner of a given kind, by ownerReference.
* ``EnqueueRequestForLabelledOwner``: the owner named by two labels, for
  cluster-scoped objects (NodeClaims, Machines, Nodes) that cannot carry an
  ownerReference to a namespaced Workspace.
* ``EnqueueRequestsFromMapFunc``: anything else.

An update enqueues the requests of both the old and the new object, so moving
an object from one owner to another reconciles both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

from kaito.api.meta import KubeObject
from kaito.api.resources import ResourceType
from kaito.kube.reconcile import Request
from kaito.kube.workqueue import Queue

T = TypeVar("T", bound=KubeObject)
T_contra = TypeVar("T_contra", bound=KubeObject, contravariant=True)


class EventHandler(Protocol[T_contra]):
    def create(self, obj: T_contra, queue: Queue[Request]) -> None: ...

    def update(self, old: T_contra, new: T_contra, queue: Queue[Request]) -> None: ...

    def delete(self, obj: T_contra, queue: Queue[Request]) -> None: ...

    def generic(self, obj: T_contra, queue: Queue[Request]) -> None: ...


class _MappingHandler(ABC, Generic[T]):
    """A handler defined by one mapping from an object to requests, the same for every event type."""

    @abstractmethod
    def requests(self, obj: T) -> Iterable[Request]: ...

    def create(self, obj: T, queue: Queue[Request]) -> None:
        for request in self.requests(obj):
            queue.add(request)

    def update(self, old: T, new: T, queue: Queue[Request]) -> None:
        for request in {*self.requests(old), *self.requests(new)}:
            queue.add(request)

    def delete(self, obj: T, queue: Queue[Request]) -> None:
        self.create(obj, queue)

    def generic(self, obj: T, queue: Queue[Request]) -> None:
        self.create(obj, queue)


class EnqueueRequestForObject(_MappingHandler[KubeObject]):
    def requests(self, obj: KubeObject) -> Iterable[Request]:
        return (Request(obj.name, obj.namespace),)


class EnqueueRequestForOwner(_MappingHandler[KubeObject]):
    """The owner of kind ``owner`` named in ``ownerReferences`` (only the controller owner by default).

    Owners match by API group and kind, whatever the version, as owner
    references written by an older API version still name the same object.
    """

    def __init__(self, owner: type[KubeObject] | ResourceType, *, only_controller: bool = True) -> None:
        self.owner = owner if isinstance(owner, ResourceType) else owner.RESOURCE
        self.only_controller = only_controller

    def requests(self, obj: KubeObject) -> Iterable[Request]:
        namespace = obj.namespace if self.owner.namespaced else ""
        found: list[Request] = []
        for ref in obj.metadata.owner_references or []:
            if self.only_controller and not ref.controller:
                continue
            group = ref.api_version.rpartition("/")[0]
            if ref.kind == self.owner.kind and group == self.owner.group:
                found.append(Request(ref.name, namespace))
        return found


class EnqueueRequestForLabelledOwner(_MappingHandler[KubeObject]):
    """The owner whose name and namespace two labels carry (the caller names the labels)."""

    def __init__(self, name_label: str, namespace_label: str) -> None:
        self.name_label = name_label
        self.namespace_label = namespace_label

    def requests(self, obj: KubeObject) -> Iterable[Request]:
        labels = obj.metadata.labels or {}
        name = labels.get(self.name_label)
        if not name:
            return ()
        return (Request(name, labels.get(self.namespace_label, "")),)


class EnqueueRequestsFromMapFunc(_MappingHandler[T]):
    def __init__(self, func: Callable[[T], Iterable[Request]]) -> None:
        self.func = func

    def requests(self, obj: T) -> Iterable[Request]:
        return self.func(obj)
