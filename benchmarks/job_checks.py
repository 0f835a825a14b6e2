"""Benchmark 7, computed: status checks a job of a given length costs, from the handler's own schedule.

The handler's `wait_in_invocation` (ml_endpoint_waiter.py, imported from the handler's folder) runs
with its default WaitSettings against a simulated clock: a fake sleep advances the clock, a fake
resource counts status checks and reports the job Completed once the clock reaches its length, and
the deadline is Lambda's 15 minutes less the safety margin. What the first invocation leaves goes to
crhelper's polling, one check a minute; a job whose timeout is over an hour answers at once and its
watcher checks once a minute. Every Get after the job's Start is counted (the lookup before Start is
not). The measured rows (job_delay.py) check these figures on the wall clock.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from benchmarks.report_delay import REAL_POLLING_PERIOD_SECONDS
from benchmarks.table import Row
from neptune_ml_endpoint.local.cloudformation.testing import HANDLER_DIR, LocalCloud

JOB_MINUTES = (5.0, 20.0, 50.0)
"""Jobs the custom resource waits for itself (timeout up to an hour; 50 minutes leaves the give-up margin)."""
WATCHED_JOB_MINUTES = (180.0,)
"""Jobs given a timeout over an hour: the WaitCondition and the watcher."""


@dataclass(frozen=True)
class CheckCount:
    """Status checks of one job: in its first invocation, then by polling (or the watcher)."""

    minutes: float
    in_invocation: int
    polled: int
    handed_over_at: float
    """Seconds after Start when the first invocation stopped waiting (0: it never waited)."""

    @property
    def total(self) -> int:
        return self.in_invocation + self.polled

    @property
    def per_hour(self) -> float:
        return self.total / (self.minutes / 60)


@contextmanager
def _handler_modules() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The handler's ml_endpoint_waiter and custom_resource, imported from its folder (not a package)."""
    sys.path.insert(0, str(HANDLER_DIR))
    try:
        yield importlib.import_module("ml_endpoint_waiter"), importlib.import_module("custom_resource")
    finally:
        sys.path.remove(str(HANDLER_DIR))


def count(minutes: float, watched: bool = False, lambda_seconds: float = LocalCloud.LAMBDA_TIMEOUT_SECONDS,
          poll_seconds: float = REAL_POLLING_PERIOD_SECONDS) -> CheckCount:
    """The checks a job of `minutes` costs with the handler's default settings."""
    length = minutes * 60
    if watched:
        return CheckCount(minutes, 0, math.ceil(length / poll_seconds), 0.0)
    with _handler_modules() as (waiter, custom_resource):
        settings = waiter.WaitSettings()
        clock = [0.0]
        checks = [0]
        wait = custom_resource.Wait(custom_resource.Wait.READY, "job")
        done = custom_resource.Finished("job", {})

        class Deadline:
            def seconds_left(self) -> float:
                return float(lambda_seconds - settings.safety_margin - clock[0])

        class Job:
            def check(self, outcome: Any) -> Any:
                checks[0] += 1
                return done if clock[0] >= length else outcome

        def sleep(seconds: float) -> None:
            clock[0] += seconds

        outcome = waiter.wait_in_invocation(Job(), wait, Deadline(), settings, sleep)
    if not isinstance(outcome, custom_resource.Wait):
        return CheckCount(minutes, checks[0], 0, 0.0)
    handed_over = clock[0]
    return CheckCount(minutes, checks[0], math.ceil((length - handed_over) / poll_seconds), handed_over)


def default_settings() -> Any:
    """The handler's default WaitSettings."""
    with _handler_modules() as (waiter, _):
        return waiter.WaitSettings()


def settings_text() -> str:
    with _handler_modules() as (waiter, _):
        settings = waiter.WaitSettings()
        growth = waiter._GROWTH
    return (f"pauses {settings.first_pause:g} s growing {growth:g}x to {settings.max_pause:g} s, "
            f"{settings.safety_margin:g} s kept back of Lambda's {LocalCloud.LAMBDA_TIMEOUT_SECONDS:g} s")


def run(minutes: Sequence[float] = JOB_MINUTES, watched_minutes: Sequence[float] = WATCHED_JOB_MINUTES) -> list[Row]:
    name = "7 job status checks, computed from the handler's schedule"
    rows = [Row(name, "handler defaults", settings_text())]
    for value in minutes:
        result = count(value)
        where = (f"{result.in_invocation} in the first invocation (to {result.handed_over_at / 60:.1f} min) "
                 f"+ {result.polled} polls" if result.polled else f"{result.in_invocation}, all in the first invocation")
        rows.append(Row(name, f"job of {value:g} min (timeout 1 h)",
                        f"{result.total} checks = {result.per_hour:.0f} per job-hour ({where})"))
    for value in watched_minutes:
        result = count(value, watched=True)
        rows.append(Row(name, f"job of {value:g} min (timeout over 1 h: watcher)",
                        f"{result.total} checks = {result.per_hour:.0f} per job-hour (one per watcher tick)"))
    return rows
