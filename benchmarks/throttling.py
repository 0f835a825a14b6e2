"""Benchmark 4, second half: API calls and retries per endpoint when the cluster throttles.

`endpoints` creates start together, first without a rate limit, then with the local API
answering 429 TooManyRequestsException above `requests_per_second` (its token bucket holds
as many requests as it allows per second). Each run counts every request the API answered
(throttled CreateMLEndpoint requests carry no id, so counts are totals divided by the number of
endpoints), the 429s among them (each one a botocore retry or, on the last attempt, a failed
call) and how many creates CloudFormation would see succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.stats import Summary
from benchmarks.table import Row, verdict
from neptune_ml_endpoint.local.cloudformation.testing import LocalCloud

THROTTLED = 429


@dataclass(frozen=True)
class ThrottlePlan:
    endpoints: int
    creating_seconds: float
    requests_per_second: float
    repetitions: int


@dataclass(frozen=True)
class CreateWave:
    """What one wave of simultaneous creates cost and how it ended."""

    calls_per_endpoint: float
    throttled_per_endpoint: float
    succeeded: int
    endpoints: int


def run(cloud: LocalCloud, plan: ThrottlePlan) -> list[Row]:
    cloud.api.timings.creating = plan.creating_seconds
    free = [_wave(cloud, f"free{n}", plan.endpoints, None) for n in range(plan.repetitions)]
    limited = [_wave(cloud, f"limited{n}", plan.endpoints, plan.requests_per_second)
                for n in range(plan.repetitions)]
    name = f"4 API calls, {plan.endpoints} creates at once ({plan.creating_seconds:g} s each)"
    limit = f"limit {plan.requests_per_second:g} req/s"
    succeeded = sum(wave.succeeded for wave in limited)
    attempted = sum(wave.endpoints for wave in limited)
    return [
        Row(name, "calls per endpoint, no limit",
            Summary.of([w.calls_per_endpoint for w in free]).describe("", 1) + " over waves"),
        Row(name, f"calls per endpoint, {limit}",
            Summary.of([w.calls_per_endpoint for w in limited]).describe("", 1) + " over waves"),
        Row(name, f"429 answers (retries) per endpoint, {limit}",
            Summary.of([w.throttled_per_endpoint for w in limited]).describe("", 1) + " over waves"),
        Row(name, f"creates answered SUCCESS, {limit}", f"{succeeded} of {attempted}",
            "all", verdict(succeeded == attempted)),
    ]


def _wave(cloud: LocalCloud, prefix: str, endpoints: int, requests_per_second: float | None) -> CreateWave:
    """`endpoints` creates invoked at once; waits for every answer."""
    before = len(cloud.api.requests())
    cloud.api.set_rate_limit(requests_per_second)
    try:
        events = [cloud.event("Create", cloud.properties(Id=f"{prefix}-{n}"), logical_id=f"{prefix}{n}")
                  for n in range(1, endpoints + 1)]
        for event in events:
            cloud.invoke(event)
        answers = [cloud.answer(event, timeout=cloud.api.timings.creating + 120).body for event in events]
    finally:
        cloud.api.set_rate_limit(None)
    calls = cloud.api.requests()[before:]
    return CreateWave(
        calls_per_endpoint=len(calls) / endpoints,
        throttled_per_endpoint=sum(1 for call in calls if call.status_code == THROTTLED) / endpoints,
        succeeded=sum(1 for answer in answers if answer.get("Status") == "SUCCESS"),
        endpoints=endpoints,
    )
