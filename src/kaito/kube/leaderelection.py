"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go's ``leaderelection`` does it.

Candidates race to write their identity into the Lease; the holder renews it
every ``retry_period``. Others consider the lease expired ``lease_duration``
after they last *saw it change* (their own monotonic clock, so clock skew
between machines does not matter) and only then take it over.

The holder gives up once it has failed to renew for ``renew_deadline``
(measured from the start of its last successful renewal), which is shorter
than ``lease_duration``: it stops acting before anyone else can start, so two
leaders never act at once. Losing the lease cancels the leading work and
raises ``LeaderElectionLost``; the manager then exits non-zero, like
controller-runtime, and Kubernetes restarts the pod with fresh caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from kaito.api.core import Lease, LeaseSpec
from kaito.api.meta import ObjectMeta
from kaito.kube import errors
from kaito.kube.client import Client
from kaito.kube.clock import Clock, RealClock
from kaito.kube.metrics import LEADER_ELECTION_STATUS

log = structlog.get_logger("kaito.leaderelection")

DEFAULT_LEADER_ELECTION_ID = "ef60f9b0.io"  # upstream KAITO's


def default_identity() -> str:
    """``<hostname>_<uuid>``, as controller-runtime names candidates."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def format_micro_time(clock: Clock) -> str:
    """A ``metav1.MicroTime``: RFC 3339 with microseconds."""
    return clock.wall().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaderElectionRecord:
    holder_identity: str
    lease_duration_seconds: int
    acquire_time: str | None = None
    renew_time: str | None = None
    leader_transitions: int = 0


class ResourceLock(Protocol):
    """Where the record lives; ``update`` must fail (``Conflict``) if it changed since ``get``."""

    async def get(self) -> LeaderElectionRecord | None:
        """The current record, or None when the lock object does not exist yet."""
        ...

    async def create(self, record: LeaderElectionRecord) -> None: ...

    async def update(self, record: LeaderElectionRecord) -> None: ...

    def describe(self) -> str: ...


class LeaseLock:
    """A ``ResourceLock`` on a Lease object."""

    def __init__(self, client: Client, namespace: str, name: str) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self._lease: Lease | None = None

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def get(self) -> LeaderElectionRecord | None:
        try:
            self._lease = await self.client.get(Lease, self.name, self.namespace)
        except errors.NotFound:
            self._lease = None
            return None
        spec = self._lease.spec or LeaseSpec()
        return LeaderElectionRecord(
            holder_identity=spec.holder_identity or "",
            lease_duration_seconds=spec.lease_duration_seconds or 0,
            acquire_time=spec.acquire_time,
            renew_time=spec.renew_time,
            leader_transitions=spec.lease_transitions or 0,
        )

    async def create(self, record: LeaderElectionRecord) -> None:
        lease = Lease(metadata=ObjectMeta(name=self.name, namespace=self.namespace), spec=self._spec(record))
        self._lease = await self.client.create(lease)

    async def update(self, record: LeaderElectionRecord) -> None:
        if self._lease is None:
            raise RuntimeError("LeaseLock.update before get")
        lease = self._lease.model_copy(update={"spec": self._spec(record)})
        self._lease = await self.client.update(lease)

    @staticmethod
    def _spec(record: LeaderElectionRecord) -> LeaseSpec:
        return LeaseSpec(
            holder_identity=record.holder_identity,
            lease_duration_seconds=record.lease_duration_seconds,
            acquire_time=record.acquire_time,
            renew_time=record.renew_time,
            lease_transitions=record.leader_transitions,
        )


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Timings in seconds (client-go's defaults); ``name`` labels ``leader_election_master_status``."""

    name: str = DEFAULT_LEADER_ELECTION_ID
    identity: str = ""
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    # Acquisition attempts are spread over retry_period * (1 + jitter * U[0,1)).
    jitter: float = 0.2
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease duration must be greater than the renew deadline")
        if self.renew_deadline <= self.retry_period * (1.0 + self.jitter):
            raise ValueError("renew deadline must be greater than retry period * (1 + jitter)")
        if self.retry_period <= 0:
            raise ValueError("retry period must be positive")


class LeaderElectionLost(Exception):
    """This process held the lease and could not renew it in time."""


class LeaderElector:
    def __init__(
        self,
        lock: ResourceLock,
        config: LeaderElectionConfig,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.lock = lock
        self.config = config if config.identity else replace(config, identity=default_identity())
        self._clock = clock or RealClock()
        self._rng = rng or random.Random()
        self._observed: LeaderElectionRecord | None = None
        self._observed_at = 0.0
        self._renewed_at = 0.0
        self._leading = False
        self._status = LEADER_ELECTION_STATUS.labels(self.config.name)
        self._status.set(0)
        self._log = log.bind(lease=lock.describe(), identity=self.config.identity)

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def observed_leader(self) -> str:
        return self._observed.holder_identity if self._observed else ""

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Acquire the lease (waiting as long as it takes), then run ``lead`` while renewing it.

        Returns when ``lead`` returns, releasing the lease. Raises
        ``LeaderElectionLost`` (after cancelling ``lead``) when renewal fails.
        Cancelling ``run`` before the lease is acquired just stops trying.
        """
        await self._acquire()
        self._leading = True
        self._status.set(1)
        self._log.info("became leader")
        leading = asyncio.create_task(lead(), name="leading")
        renewing = asyncio.create_task(self._renew_until_lost(), name="renew-lease")
        lost = False
        try:
            done, _ = await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
            lost = leading not in done
        finally:
            # On loss (or our own cancellation) stop acting now, before anyone else can start.
            leading.cancel()
            renewing.cancel()
            await asyncio.gather(leading, renewing, return_exceptions=True)
            self._leading = False
            self._status.set(0)
        if lost:
            self._log.error("leader election lost")
            raise LeaderElectionLost(f"lost lease {self.lock.describe()}")
        self._log.info("stopped leading")
        if self.config.release_on_cancel:
            await self._release()
        leading.result()  # re-raise what the leading work failed with, if anything

    async def _acquire(self) -> None:
        self._log.info("attempting to acquire leader lease")
        while True:
            started = self._clock.now()
            if await self._try_acquire_or_renew():
                self._renewed_at = started
                return
            holder = self.observed_leader
            if holder:
                self._log.debug("lease is held by another candidate", holder=holder)
            spread = 1.0 + self.config.jitter * self._rng.random()
            await self._clock.sleep(self.config.retry_period * spread)

    async def _renew_until_lost(self) -> None:
        """Returns when the lease could not be renewed within ``renew_deadline``."""
        while True:
            await self._clock.sleep(self.config.retry_period)
            while True:
                started = self._clock.now()
                remaining = self._renewed_at + self.config.renew_deadline - started
                if remaining <= 0:
                    return
                if await self._within(remaining, self._try_acquire_or_renew()):
                    self._renewed_at = started
                    break
                remaining = self._renewed_at + self.config.renew_deadline - self._clock.now()
                if remaining <= 0:
                    return
                await self._clock.sleep(min(self.config.retry_period, remaining))

    async def _within(self, seconds: float, attempt: Awaitable[bool]) -> bool:
        """``attempt``'s answer, or False when it takes longer than ``seconds`` (on our clock)."""
        task = asyncio.ensure_future(attempt)
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return task.done() and not task.cancelled() and task.result()

    async def _try_acquire_or_renew(self) -> bool:
        now_wall = format_micro_time(self._clock)
        desired = LeaderElectionRecord(
            holder_identity=self.identity,
            lease_duration_seconds=max(1, round(self.config.lease_duration)),
            acquire_time=now_wall,
            renew_time=now_wall,
        )
        try:
            current = await self.lock.get()
            if current is None:
                await self.lock.create(desired)
                self._observe(desired)
                return True
            if current != self._observed:
                self._observe(current)
            held_by_other = current.holder_identity not in ("", self.identity)
            expires_at = self._observed_at + current.lease_duration_seconds
            if held_by_other and expires_at > self._clock.now():
                return False
            if current.holder_identity == self.identity:
                desired = replace(
                    desired, acquire_time=current.acquire_time, leader_transitions=current.leader_transitions
                )
            else:
                desired = replace(desired, leader_transitions=current.leader_transitions + 1)
            await self.lock.update(desired)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._log.info("failed to acquire or renew lease", error=str(err))
            return False
        self._observe(desired)
        return True

    def _observe(self, record: LeaderElectionRecord) -> None:
        self._observed = record
        self._observed_at = self._clock.now()

    async def _release(self) -> None:
        """Hand the lease back so a successor need not wait for it to expire.

        The record is read again first: a renewal cancelled mid-flight may have
        landed on the server after this process last saw the lease.
        """
        try:
            current = await self.lock.get()
            if current is None or current.holder_identity != self.identity:
                return
            now_wall = format_micro_time(self._clock)
            record = LeaderElectionRecord(
                holder_identity="",
                lease_duration_seconds=1,
                acquire_time=now_wall,
                renew_time=now_wall,
                leader_transitions=current.leader_transitions,
            )
            await self.lock.update(record)
        except Exception as err:
            self._log.warning("failed to release lease", error=str(err))
            return
        self._observe(record)
        self._log.info("released lease")
