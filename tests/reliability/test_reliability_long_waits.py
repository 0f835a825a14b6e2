"""Long waits under faults: the watcher that signals a WaitConditionHandle, tick by tick.

Each case creates a job resource with a CompletionSignalUrl (it answers once the job started), then
delivers the watcher rule's Input as EventBridge would, every tick, while a fault strikes the
watcher's status check (GetML*Job) or the handle refuses a delivery. Whatever happens, the handle
must end with one signal status, the right one (SUCCESS for a job that completes, FAILURE with the
job's Reason for one that fails), under the job's own UniqueId (a repeated delivery of it counts
once); the watcher must stop; and no job may be left running.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from handler_driver import CloudFormation, LambdaContext, json_input
from reliability_figures import FiguresFile
from reliability_jobs import PROCESSING, base_properties, job_timings, watcher_rules
from reliability_support import in_profile

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault

FAULTS = ("throttle", "timeout", "server_error", "reset", "slow")
READ_TIMEOUT = 0.5
TICK_LIMIT = 40
OUTAGE_SECONDS = 1.0
"""How long a lasting fault strikes before it ends, as outages do: several ticks."""
TICK_SECONDS = 0.1
"""The pause between two deliveries of the watcher rule's Input (EventBridge's rate, shortened)."""


@dataclass
class WatchTally:
    cases: int = 0
    ticks: int = 0
    faulted_ticks: int = 0
    refused_signals: int = 0
    deliveries: int = 0
    wrong_signals: int = 0
    watchers_left: int = 0
    jobs_left_running: int = 0
    kinds: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[WatchTally]:
    counted = WatchTally()
    yield counted
    figures.record("long_waits", cases=counted.cases, ticks=counted.ticks, faulted_ticks=counted.faulted_ticks,
                   refused_signals=counted.refused_signals, deliveries=counted.deliveries,
                   wrong_signals=counted.wrong_signals,
                   watchers_left=counted.watchers_left, jobs_left_running=counted.jobs_left_running,
                   kinds=sorted(counted.kinds))


@pytest.fixture
def faulted(cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    monkeypatch.setenv(schema.ENV_MAX_ATTEMPTS, "2")
    monkeypatch.setenv(schema.ENV_READ_TIMEOUT, str(READ_TIMEOUT))
    monkeypatch.setenv(schema.ENV_THROTTLE_RETRIES, "0")
    cloudformation.api.timings = job_timings(job_seconds=0.3)
    return cloudformation


CASES = [pytest.param(fault, failing, lasting, id=f"{fault}-{'failing' if failing else 'completing'}-"
                      f"{'lasting' if lasting else 'once'}")
         for f, fault in enumerate((*FAULTS, "refused-signal")) for failing in (False, True) for lasting in (False, True)
         if in_profile(f, failing, lasting)]


@pytest.mark.parametrize(("fault", "failing", "lasting"), CASES)
def test_the_watcher_signals_the_right_status_once_whatever_strikes_a_tick(
        faulted: CloudFormation, tally: WatchTally, fault: str, failing: bool, lasting: bool) -> None:
    api, receiver = faulted.api, faulted.receiver
    handle = f"handle-{fault}-{failing}-{lasting}"
    properties = base_properties(PROCESSING, api.url, {})  # a processing job needs no earlier job
    if failing:
        properties["InputDataS3Location"] = "s3://bucket/failing-export/"
    properties |= {"CompletionSignalUrl": receiver.url_for(handle), "CompletionTimeoutSeconds": "43200"}
    event = faulted.event("Create", properties, logical_id="Watched")
    event["ResourceType"] = schema.DATA_PROCESSING_TYPE
    answer = faulted.send(event)
    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    job_id = answer["PhysicalResourceId"]
    refuse = fault == "refused-signal"
    refused_before = receiver.refused  # type: ignore[attr-defined]
    if refuse:
        receiver.refuse_next(3 if lasting else 1)  # type: ignore[attr-defined]
    else:
        api.add_fault(Fault(fault, operation=PROCESSING.get, count=None if lasting else 1, delay=2 * READ_TIMEOUT))
    outage_ends = time.monotonic() + OUTAGE_SECONDS

    ticks = 0
    while rules := watcher_rules(faulted):
        assert ticks < TICK_LIMIT, "the watcher did not stop"
        if lasting and time.monotonic() > outage_ends:
            api.clear_faults()
        faulted.handler(json_input(rules[0].targets[0].input), LambdaContext(30.0))
        ticks += 1
        time.sleep(TICK_SECONDS)
    api.clear_faults()

    signals = receiver.responses(handle)
    expected = "FAILURE" if failing else "SUCCESS"
    tally.cases += 1
    tally.ticks += ticks
    tally.faulted_ticks += 0 if refuse else min(ticks, 1 if not lasting else ticks)
    tally.refused_signals += receiver.refused - refused_before  # type: ignore[attr-defined]
    tally.deliveries += len(signals)
    tally.kinds.add(fault)
    tally.wrong_signals += sum(1 for s in signals if (s["Status"], s["UniqueId"]) != (expected, job_id))
    tally.watchers_left += len(watcher_rules(faulted))
    tally.jobs_left_running += api.job_status("dataprocessing", job_id) in ("InProgress", "Stopping")
    assert {(s["Status"], s["UniqueId"]) for s in signals} == {(expected, job_id)}
    if failing:
        assert "ClientError: Data processing failed" in signals[0]["Reason"]
    assert watcher_rules(faulted) == [] and faulted.stubs.permissions() == []
