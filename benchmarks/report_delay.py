"""Benchmarks 1, 2 and the first half of 4: how long after the endpoint is ready the answer arrives,
and how many status checks the waiting costs.

(a) Ready within one invocation: the handler runs with Lambda's full 15 minutes and its default
    wait schedule; transition times are spread so every phase of that schedule is hit.
(b) Longer than one invocation: the first invocation has 5 s left, less than the handler's
    safety margin, so it hands over to crhelper's polling at once; the polling rule fires every
    `period` seconds (ScaledRateSchedule), standing for EventBridge's rate(1 minute).
Delete: as (a), from DeleteMLEndpoint's arrival plus the deletion time to the answer.
Status checks per endpoint-minute: creates with a long creating time, run beside (a).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from benchmarks.eventbridge_schedule import ScaledRateSchedule
from benchmarks.lifecycle import Lifecycle, LifecycleRunner, StepTiming
from benchmarks.stats import Summary, spread
from benchmarks.table import Row, verdict
from neptune_ml_endpoint.local.cloudformation.testing import LocalCloud

IN_INVOCATION_TARGET_SECONDS = 5.0
"""CDK's Provider framework polls every 5 s; answering within that is the bar."""

HAND_OVER_INVOCATION_SECONDS = 5.0
"""What the first invocation has left in (b): below the safety margin, so the handler hands over at once."""

REAL_POLLING_PERIOD_SECONDS = 60.0


@dataclass(frozen=True)
class DelayPlan:
    """How many endpoints and which transition times each part uses."""

    endpoints: int
    in_invocation_seconds: tuple[float, float]
    polling_period: float
    long_create_seconds: float
    long_create_endpoints: int


def run(cloud: LocalCloud, plan: DelayPlan) -> list[Row]:
    """All parts, (a) with the long creates beside it, then (b); the table rows."""
    in_invocation = LifecycleRunner(cloud)
    with ThreadPoolExecutor(max_workers=2) as threads:
        beside = threads.submit(in_invocation.run_all, "long",
                                [Lifecycle(plan.long_create_seconds)] * plan.long_create_endpoints)
        steps_a = in_invocation.run_all("ready", _lifecycles(plan.endpoints, *plan.in_invocation_seconds,
                                                             with_delete=True))
        long_creates = beside.result()
    polling = LifecycleRunner(cloud, first_invocation_seconds=HAND_OVER_INVOCATION_SECONDS,
                              answer_timeout=plan.polling_period * 3 + 60)
    with ScaledRateSchedule(cloud, plan.polling_period):
        period = plan.polling_period
        steps_b = polling.run_all("polled", _lifecycles(plan.endpoints, 0.2 * period, 2.2 * period,
                                                        with_delete=False))
    return (_in_invocation_rows(steps_a) + _polling_rows(cloud, steps_b, period)
            + _check_rate_rows(cloud, long_creates, steps_b, period))


def _lifecycles(count: int, low: float, high: float, with_delete: bool) -> list[Lifecycle]:
    """count lifecycles whose create, update and delete times are spread over [low, high)."""
    times = spread(count, low, high)
    return [Lifecycle(times[index], times[(index + count // 3 + 1) % count],
                      times[(index + 2 * count // 3 + 2) % count] if with_delete else None)
            for index in range(count)]


def _delays(steps: Sequence[StepTiming], request_type: str) -> Summary:
    return Summary.of([step.delay for step in steps if step.request_type == request_type])


def _in_invocation_rows(steps: Sequence[StepTiming]) -> list[Row]:
    rows = []
    target = f"< {IN_INVOCATION_TARGET_SECONDS:g} s (max)"
    for request_type in ("Create", "Update"):
        delays = _delays(steps, request_type)
        rows.append(Row("1a report delay, ready within one invocation",
                        f"{request_type}: InService to answer", delays.describe("s"), target,
                        verdict(delays.high < IN_INVOCATION_TARGET_SECONDS)))
    deletes = _delays(steps, "Delete")
    rows.append(Row("2 delete delay", "Delete: endpoint gone to answer", deletes.describe("s")))
    return rows


def _polling_rows(cloud: LocalCloud, steps: Sequence[StepTiming], period: float) -> list[Row]:
    """Delays in polling periods; the target holds when the first poll after InService answers
    (the delay is then the wait for that poll, under one period, plus the poll's own work)."""
    rows = []
    for request_type in ("Create", "Update"):
        chosen = [step for step in steps if step.request_type == request_type]
        in_periods = Summary.of([step.delay for step in chosen]).scaled(1 / period)
        first_poll = sum(1 for step in chosen if _status_checks(cloud, step, step.settled_at) == 1)
        rows.append(Row(f"1b report delay, polled every {period:g} s (standing for 60 s)",
                        f"{request_type}: InService to answer, in polling periods",
                        f"{in_periods.describe('periods')}; answered by the first poll after InService: "
                        f"{first_poll} of {len(chosen)}",
                        "< 1 period: the first poll after InService answers", verdict(first_poll == len(chosen))))
    return rows


def _check_rate_rows(cloud: LocalCloud, long_creates: Sequence[StepTiming], polled: Sequence[StepTiming],
                     period: float) -> list[Row]:
    per_minute = [_status_checks(cloud, step) / (_waited(step) / 60) for step in long_creates]
    polled_creates = [step for step in polled if step.request_type == "Create"]
    per_period = [_status_checks(cloud, step) / (_waited(step) / period) for step in polled_creates]
    long_seconds = long_creates[0].transition_seconds
    return [
        Row("4 status checks while waiting", f"in one invocation (creating takes {long_seconds:g} s)",
            Summary.of(per_minute).describe("per endpoint-minute", 1)),
        Row("4 status checks while waiting", "handed over to polling (creates of 1b)",
            Summary.of(per_period).describe("per polling period", 2)
            + f" = per endpoint-minute at EventBridge's {REAL_POLLING_PERIOD_SECONDS:g} s"),
    ]


def _waited(step: StepTiming) -> float:
    """Seconds from the request's CreateMLEndpoint to its answer."""
    return step.answered_at - step.started_at


def _status_checks(cloud: LocalCloud, step: StepTiming, since: float | None = None) -> int:
    """GetMLEndpoint calls for the step's endpoint from `since` (by default its CreateMLEndpoint)
    to its answer."""
    start = step.started_at if since is None else since
    return sum(1 for call in cloud.api_calls(step.endpoint_id, "GetMLEndpoint")
               if start < call.at <= step.answered_at)
