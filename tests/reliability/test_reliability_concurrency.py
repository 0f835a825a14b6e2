"""Twenty endpoints created at once against a cluster that throttles: all InService, none twice.

Each Create runs in an execution environment of its own (the local player's Lambda runtime), as
concurrent invocations do in Lambda; the trace header Lambda gives each invocation tells its calls apart. The local API answers 429 above a request rate; the handler's
retries (botocore's standard mode) and its pauses between status checks must absorb it.
"""

from __future__ import annotations

import statistics

import pytest
from handler_driver import CloudFormation
from reliability_figures import FiguresFile
from reliability_processes import calls_of, invoke_concurrently
from reliability_support import accepted_creates, check_answer

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Timings

ENDPOINTS = 20
REQUESTS_PER_SECOND = 10.0
INVOCATION_SECONDS = 60.0
SETTINGS = {  # the handler's default retries; status checks a little apart, as in a real deployment
    schema.ENV_MAX_ATTEMPTS: "4",
    schema.ENV_WAIT_FIRST_SECONDS: "0.3",
    schema.ENV_WAIT_MAX_SECONDS: "1",
    schema.ENV_SAFETY_MARGIN_SECONDS: "5",
}


def test_twenty_creates_at_once_under_throttling_all_succeed_once(
        cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch, figures: FiguresFile) -> None:
    api = cloudformation.api
    api.timings = Timings(creating=1.0, updating=0.1, deleting=0.1)
    api.set_rate_limit(REQUESTS_PER_SECOND)
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    events = [cloudformation.event("Create", cloudformation.properties(), logical_id=f"Endpoint{n}")
              for n in range(ENDPOINTS)]

    invocations = invoke_concurrently(events, INVOCATION_SECONDS)

    answers = [cloudformation.only_answer(event) for event in events]
    endpoint_ids = [answer["PhysicalResourceId"] for answer in answers]
    recorded = api.requests()
    calls = [calls_of(invocation, recorded) for invocation in invocations]
    throttled = sum(r.fault == "rate_limit" for r in recorded)
    figures.record("concurrency", endpoints=ENDPOINTS, rate_limit_per_second=REQUESTS_PER_SECOND,
                   in_service=sum(api.status(i) == "InService" for i in set(endpoint_ids)),
                   duplicates=len(endpoint_ids) - len(set(endpoint_ids)) + len(set(api.endpoint_ids()) - set(endpoint_ids)),
                   api_calls=len(recorded), throttled=throttled, calls_per_endpoint_max=max(calls),
                   calls_per_endpoint_median=statistics.median(calls), calls_per_endpoint_min=min(calls))

    for event, answer in zip(events, answers, strict=True):
        check_answer(event, answer)
        assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert all(invocation.succeeded for invocation in invocations), [i.error for i in invocations]
    assert sorted(api.endpoint_ids()) == sorted(set(endpoint_ids)) and len(set(endpoint_ids)) == ENDPOINTS
    assert all(api.status(endpoint_id) == "InService" for endpoint_id in endpoint_ids)
    assert all(count == 1 for count in accepted_creates(api).values()), "an endpoint was created twice"
    assert throttled > 0, "the rate limit never struck, so the test proves nothing"
    assert sum(calls) == len(recorded), "a call the API answered came from none of the invocations"
    assert max(calls) <= 40, f"calls per endpoint: {sorted(calls)}"
    print(f"API calls per endpoint: max {max(calls)}, median {statistics.median(calls)}; {throttled} throttled")
