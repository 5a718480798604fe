"""The request log: every API call the emulator answered, for tests that
count and assert the calls a controller made."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestRecord:
    verb: str  # get, list, watch, create, update, patch, delete, deletecollection, or "discovery"
    method: str
    path: str
    query: dict[str, str]
    user_agent: str
    status: int
    timestamp: float
    resource: str = ""  # plural, with "/subresource" when there is one
    namespace: str = ""
    name: str = ""


@dataclass
class RequestLog:
    records: list[RequestRecord] = field(default_factory=list)

    def append(self, record: RequestRecord) -> None:
        self.records.append(record)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(list(self.records))

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> RequestRecord:
        return self.records[index]

    def clear(self) -> None:
        self.records.clear()

    def filter(
        self,
        *,
        user_agent: str | None = None,
        verb: str | None = None,
        resource: str | None = None,
        status: int | None = None,
        since: float | None = None,
    ) -> list[RequestRecord]:
        """Records matching every given criterion (``user_agent`` is a substring match)."""
        return [
            r
            for r in self.records
            if (user_agent is None or user_agent in r.user_agent)
            and (verb is None or r.verb == verb)
            and (resource is None or r.resource == resource)
            and (status is None or r.status == status)
            and (since is None or r.timestamp >= since)
        ]
