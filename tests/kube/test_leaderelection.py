"""Leader election logic on a fake clock against an in-memory lease with optimistic concurrency.

Time is simulated in 1/16 s steps (exact in binary floating point); between steps the event loop runs until
every candidate has settled (the in-memory lock does no real I/O), so each
test replays minutes of elections in milliseconds with exact timings.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from dataclasses import dataclass, field

import pytest

from kaito.kube import errors
from kaito.kube.clock import FakeClock
from kaito.kube.leaderelection import (
    LeaderElectionConfig,
    LeaderElectionLost,
    LeaderElectionRecord,
    LeaderElector,
)
from kaito.kube.metrics import REGISTRY

LEASE, RENEW, RETRY = 15.0, 10.0, 2.0


@dataclass
class MemoryLease:
    record: LeaderElectionRecord | None = None
    version: int = 0
    writes: list[LeaderElectionRecord] = field(default_factory=list)


class MemoryLock:
    """One candidate's view of the shared lease; can be cut off (errors) or made to hang."""

    def __init__(self, lease: MemoryLease) -> None:
        self.lease = lease
        self.seen = -1
        self.partitioned = False
        self.hanging = False

    def describe(self) -> str:
        return "memory/lease"

    async def _network(self) -> None:
        if self.hanging:
            await asyncio.get_running_loop().create_future()
        if self.partitioned:
            raise ConnectionError("network partition")

    async def get(self) -> LeaderElectionRecord | None:
        await self._network()
        self.seen = self.lease.version
        return self.lease.record

    async def create(self, record: LeaderElectionRecord) -> None:
        await self._network()
        if self.lease.record is not None:
            raise errors.AlreadyExists(409, "AlreadyExists", "lease exists")
        self._write(record)

    async def update(self, record: LeaderElectionRecord) -> None:
        await self._network()
        if self.seen != self.lease.version:
            raise errors.Conflict(409, "Conflict", "the object has been modified")
        self._write(record)

    def _write(self, record: LeaderElectionRecord) -> None:
        self.lease.record = record
        self.lease.version += 1
        self.lease.writes.append(record)
        self.seen = self.lease.version


@dataclass
class Candidate:
    elector: LeaderElector
    lock: MemoryLock
    task: asyncio.Task[None] | None = None
    intervals: list[list[float]] = field(default_factory=list)  # [started, stopped] while leading
    release: asyncio.Event = field(default_factory=asyncio.Event)


class Election:
    def __init__(self, lease_name: str = "test") -> None:
        self.clock = FakeClock()
        self.lease = MemoryLease()
        self.lease_name = lease_name

    def candidate(self, identity: str, **overrides: object) -> Candidate:
        config = LeaderElectionConfig(
            name=self.lease_name,
            identity=identity,
            lease_duration=LEASE,
            renew_deadline=RENEW,
            retry_period=RETRY,
            jitter=0.0,
        )
        config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
        lock = MemoryLock(self.lease)
        return Candidate(LeaderElector(lock, config, clock=self.clock), lock)

    def start(self, candidate: Candidate) -> None:
        async def lead() -> None:
            interval = [self.clock.now(), float("inf")]
            candidate.intervals.append(interval)
            try:
                await candidate.release.wait()
            finally:
                interval[1] = self.clock.now()

        candidate.task = asyncio.create_task(candidate.elector.run(lead))

    async def settle(self) -> None:
        for _ in range(30):
            await asyncio.sleep(0)

    async def run_for(self, seconds: float, step: float = 1 / 16) -> None:
        await self.settle()
        for _ in range(round(seconds / step)):
            self.clock.advance(step)
            await self.settle()

    async def run_until(self, condition: object, limit: float, step: float = 1 / 16) -> float:
        await self.settle()
        start = self.clock.now()
        while not condition():  # type: ignore[operator]
            if self.clock.now() - start > limit:
                raise AssertionError(f"not reached within {limit} simulated seconds")
            self.clock.advance(step)
            await self.settle()
        return self.clock.now()


def leading(candidate: Candidate) -> bool:
    return bool(candidate.intervals) and candidate.intervals[-1][1] == float("inf")


def assert_never_two_leaders(*candidates: Candidate) -> None:
    spans = sorted((start, stop) for c in candidates for start, stop in c.intervals)
    for (_, first_stop), (second_start, _) in itertools.pairwise(spans):
        assert first_stop <= second_start, f"two leaders acting at once: {spans}"


def renewals_by(election: Election, identity: str) -> int:
    return sum(1 for w in election.lease.writes if w.holder_identity == identity)


async def test_a_lone_candidate_acquires_at_once_and_renews_every_retry_period() -> None:
    election = Election()
    a = election.candidate("a")
    election.start(a)
    await election.run_for(0.01)
    assert leading(a) and a.elector.is_leader
    record = election.lease.record
    assert record is not None and record.holder_identity == "a" and record.lease_duration_seconds == 15
    await election.run_for(10.0)
    assert renewals_by(election, "a") == 1 + 5
    assert election.lease.record is not None and election.lease.record.acquire_time == record.acquire_time
    assert election.lease.record.renew_time != record.renew_time


async def test_a_second_candidate_waits_while_the_leader_renews() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    await election.run_for(0.5)
    election.start(b)
    await election.run_for(60.0)
    assert leading(a) and not b.intervals
    assert b.elector.observed_leader == "a"


async def test_killed_leader_is_replaced_after_the_lease_expires_and_not_before() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    await election.run_for(0.5)
    election.start(b)
    await election.run_for(7.0)
    assert a.task is not None
    last_renewal = max(i for i, w in enumerate(election.lease.writes) if w.holder_identity == "a")
    a.task.cancel()  # a crash: nothing released, the lease just stops being renewed
    killed_at = election.clock.now()
    await election.settle()
    assert len(election.lease.writes) == last_renewal + 1
    took_over = await election.run_until(lambda: leading(b), limit=60)
    assert LEASE <= took_over - killed_at <= LEASE + RETRY + 0.1
    assert election.lease.record is not None and election.lease.record.holder_identity == "b"
    assert election.lease.record.leader_transitions == 1
    assert_never_two_leaders(a, b)


async def test_partitioned_leader_stops_acting_before_anyone_else_can_start() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    await election.run_for(0.5)
    election.start(b)
    await election.run_for(5.0)
    a.lock.partitioned = True
    cut_at = election.clock.now()
    await election.run_until(lambda: leading(b), limit=60)
    assert a.task is not None and a.task.done()
    with pytest.raises(LeaderElectionLost):
        a.task.result()
    a_stopped = a.intervals[0][1]
    b_started = b.intervals[0][0]
    assert a_stopped - cut_at <= RENEW, "the leader must give up within the renew deadline"
    assert b_started - a_stopped >= LEASE - RENEW - RETRY, "a safety margin separates the two leaders"
    assert_never_two_leaders(a, b)


async def test_a_hanging_api_server_cannot_keep_a_leader_acting() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    await election.run_for(3.0)
    election.start(b)
    a.lock.hanging = True
    hung_at = election.clock.now()
    await election.run_until(lambda: leading(b), limit=60)
    assert a.intervals[0][1] - hung_at <= RENEW
    assert a.task is not None and a.task.done()
    with pytest.raises(LeaderElectionLost):
        a.task.result()
    assert_never_two_leaders(a, b)


async def test_a_leader_that_finishes_releases_the_lease_for_a_fast_handover() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    await election.run_for(0.5)
    election.start(b)
    await election.run_for(4.0)
    a.release.set()
    released_at = election.clock.now()
    await election.settle()
    assert a.task is not None and a.task.done() and a.task.exception() is None
    assert election.lease.record is not None and election.lease.record.holder_identity == ""
    took_over = await election.run_until(lambda: leading(b), limit=60)
    assert took_over - released_at <= RETRY + 0.1, "no need to wait for the lease to expire"
    assert_never_two_leaders(a, b)


async def test_candidates_starting_together_elect_exactly_one() -> None:
    election = Election()
    candidates = [election.candidate(name) for name in "abcde"]
    for c in candidates:
        election.start(c)
    await election.run_for(30.0)
    assert sum(leading(c) for c in candidates) == 1
    assert sum(len(c.intervals) for c in candidates) == 1


async def test_cancelling_while_waiting_for_the_lease_just_stops_trying() -> None:
    election = Election()
    a, b = election.candidate("a"), election.candidate("b")
    election.start(a)
    election.start(b)
    await election.run_for(1.0)
    waiting = b if leading(a) else a
    assert waiting.task is not None
    waiting.task.cancel()
    await election.settle()
    assert waiting.task.cancelled() and not waiting.intervals


async def test_master_status_gauge_follows_leadership(unique_name: str) -> None:
    election = Election(lease_name=unique_name)
    a = election.candidate("a")

    def status() -> float | None:
        return REGISTRY.get_sample_value("leader_election_master_status", {"name": unique_name})

    assert status() == 0
    election.start(a)
    await election.run_for(0.1)
    assert status() == 1
    a.release.set()
    await election.run_for(0.1)
    assert status() == 0


def test_timings_are_validated() -> None:
    with pytest.raises(ValueError):
        LeaderElectionConfig(lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError):
        LeaderElectionConfig(renew_deadline=2, retry_period=2)
    config = LeaderElectionConfig()
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (15.0, 10.0, 2.0)
    assert config.name == "ef60f9b0.io"


def test_identity_defaults_to_hostname_and_uuid() -> None:
    elector = LeaderElector(MemoryLock(MemoryLease()), LeaderElectionConfig(name="x"))
    host, _, suffix = elector.identity.rpartition("_")
    assert host and len(suffix) == 36
