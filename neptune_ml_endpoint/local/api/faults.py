"""Injected faults and the rate limit, for testing clients' retries.

A Fault applies to requests for one operation (or to every operation when
`operation` is None), lets the first `skip` matching requests through, then
applies to the next `count` of them (every one when `count` is None):

- "throttle": 429 TooManyRequestsException, the operation is not performed;
- "timeout": 408 ClientTimeoutException, the operation is not performed;
- "server_error": 500 InternalFailureException, the operation is not performed;
- "reset": the TCP connection is reset without a response, the operation is not performed;
- "slow": the operation is performed, then the answer waits `delay` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

from neptune_ml_endpoint.local.api.routes import OPERATIONS

FaultKind = Literal["throttle", "timeout", "server_error", "reset", "slow"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class Fault:
    """One fault to inject; see the module docstring for the kinds."""

    kind: FaultKind
    operation: str | None = None
    count: int | None = 1
    skip: int = 0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if self.operation is not None and self.operation not in OPERATIONS:
            raise ValueError(f"operation {self.operation!r} is not one of {', '.join(OPERATIONS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1, or None for every matching request")
        if self.skip < 0 or self.delay < 0:
            raise ValueError("skip and delay cannot be negative")
        if self.kind == "slow" and self.delay <= 0:
            raise ValueError("a slow fault needs a delay in seconds")

    @classmethod
    def parse(cls, text: str) -> Fault:
        """A fault from "KIND[,operation=NAME][,count=N|all][,skip=N][,delay=SECONDS]"."""
        kind, *options = [part.strip() for part in text.split(",")]
        names = {f.name for f in fields(cls)} - {"kind"}
        values: dict[str, object] = {}
        for option in options:
            name, sep, value = option.partition("=")
            if not sep or name not in names:
                raise ValueError(f"{option!r} is not one of {', '.join(sorted(names))} given as name=value")
            values[name] = _option_value(name, value)
        return cls(kind, **values)  # type: ignore[arg-type]

    def matches(self, operation: str) -> bool:
        return self.operation is None or self.operation == operation


def _option_value(name: str, value: str) -> object:
    if name == "operation":
        return value
    if name == "count" and value == "all":
        return None
    return float(value) if name == "delay" else int(value)


@dataclass
class _ActiveFault:
    fault: Fault
    seen: int = 0
    applied: int = 0

    @property
    def exhausted(self) -> bool:
        return self.fault.count is not None and self.applied >= self.fault.count


@dataclass
class FaultPlan:
    """The faults in force, in the order they were added; thread-safe."""

    _active: list[_ActiveFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._active.append(_ActiveFault(fault))

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault to apply to this request, if any; counts it as seen or applied."""
        with self._lock:
            chosen: Fault | None = None
            for active in self._active:
                if not active.fault.matches(operation):
                    continue
                active.seen += 1
                if active.seen > active.fault.skip:
                    active.applied += 1
                    chosen = active.fault
                    break
            self._active = [active for active in self._active if not active.exhausted]
            return chosen


@dataclass
class RateLimiter:
    """A token bucket over all operations: `requests_per_second` sustained, bursts of as many."""

    requests_per_second: float | None = None
    clock: Callable[[], float] = time.monotonic
    _tokens: float = 0.0
    _updated_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.set_rate(self.requests_per_second)

    def set_rate(self, requests_per_second: float | None) -> None:
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("the rate limit must be positive, or None for no limit")
        with self._lock:
            self.requests_per_second = requests_per_second
            self._tokens = self._capacity
            self._updated_at = self.clock()

    def allow(self) -> bool:
        """Take a token; False when the bucket is empty (the request should get a 429)."""
        with self._lock:
            rate = self.requests_per_second
            if rate is None:
                return True
            now = self.clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated_at) * rate)
            self._updated_at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True

    @property
    def _capacity(self) -> float:
        return max(1.0, self.requests_per_second or 0.0)
