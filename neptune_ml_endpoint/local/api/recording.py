"""A record of every request the API answered (or reset), for tests and for users."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordedRequest:
    """One request: what it asked, how it was answered, and which fault (if any) shaped the answer."""

    operation: str | None
    endpoint_id: str | None
    """The id of the endpoint or job the request names (jobs' ids too, despite the name)."""
    status_code: int | None
    at: float
    fault: str | None
    method: str = ""
    path: str = ""
    error_code: str | None = None
    trace_id: str | None = None
    """The X-Amzn-Trace-Id header: in Lambda (and the local player), which invocation sent the request."""


@dataclass
class RequestLog:
    """Thread-safe list of RecordedRequests."""

    _entries: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)
