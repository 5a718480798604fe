"""A controller runtime on asyncio, after client-go and controller-runtime.

Informers keep indexed caches of the kinds a controller reads; their events,
filtered by predicates and mapped to reconcile requests by handlers, feed
rate-limited work queues; workers call a ``Reconciler`` and act on its
``Result``. A ``Manager`` runs it all with leader election, health probes,
Prometheus metrics and graceful shutdown.
"""

from kaito.kube.client import Client, PatchType, Preconditions, RetryPolicy
from kaito.kube.config import RestConfig, load_rest_config
from kaito.kube.controller import Controller
from kaito.kube.events import EventRecorder
from kaito.kube.handlers import (
    EnqueueRequestForLabelledOwner,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
)
from kaito.kube.informer import Informer
from kaito.kube.leaderelection import LeaderElectionConfig, LeaderElectionLost
from kaito.kube.manager import Manager, ManagerOptions
from kaito.kube.reconcile import Reconciler, Request, Result, TerminalError

__all__ = [
    "Client",
    "Controller",
    "EnqueueRequestForLabelledOwner",
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventRecorder",
    "Informer",
    "LeaderElectionConfig",
    "LeaderElectionLost",
    "Manager",
    "ManagerOptions",
    "PatchType",
    "Preconditions",
    "Reconciler",
    "Request",
    "RestConfig",
    "Result",
    "RetryPolicy",
    "TerminalError",
    "load_rest_config",
]
