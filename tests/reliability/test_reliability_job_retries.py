"""Lambda's retries and lost deliveries for the job resource types: a killed invocation run again, an
answer refused at first.

The function is killed (SIGKILL, with the execution environment it runs in) once Neptune has accepted its Start or Cancel, so
it never answers; Lambda then delivers the same event again. The retry must find what the first try
started: one job for the configuration, one answer; a retried Delete answers once the job has stopped.
Under an explicit Id that the retry cannot prove its own, the request fails and the job is left alone
(never cancelled). A ResponseURL that refuses the first delivery must still get the answer, once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from handler_driver import CloudFormation
from reliability_figures import FiguresFile
from reliability_jobs import (
    PROCESSING,
    TRAINING,
    TRANSFORM,
    JobKind,
    JobLedger,
    answer_job_once,
    base_properties,
    cancel_by_hand,
    completed_prerequisites,
    job_event,
    job_timings,
    wait_until,
)
from reliability_processes import start_invocation

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault

RUNNING_SECONDS = 0.6  # long enough that the first invocation is still waiting when it is killed
SLOW_START_ANSWER = 1.0
KILL_WITHIN_SECONDS = 20.0


@dataclass
class JobRetryTally:
    killed: int = 0
    most_jobs_after_a_retried_create: int = 0
    most_answers_to_a_retried_request: int = 0
    running_after_a_retried_delete: int = 0
    explicit_ids_cancelled: int = 0
    refused_deliveries: int = 0
    delivered_after_refusal: int = 0
    invariant_checks: int = 0

    def retried(self, jobs: int, answers: int) -> None:
        self.killed += 1
        self.most_jobs_after_a_retried_create = max(self.most_jobs_after_a_retried_create, jobs)
        self.most_answers_to_a_retried_request = max(self.most_answers_to_a_retried_request, answers)


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[JobRetryTally]:
    counted = JobRetryTally()
    yield counted
    figures.record("job_retries", killed_invocations=counted.killed,
                   most_jobs_after_a_retried_create=counted.most_jobs_after_a_retried_create,
                   most_answers_to_a_retried_request=counted.most_answers_to_a_retried_request,
                   running_after_a_retried_delete=counted.running_after_a_retried_delete,
                   explicit_ids_cancelled=counted.explicit_ids_cancelled,
                   refused_deliveries=counted.refused_deliveries,
                   delivered_after_refusal=counted.delivered_after_refusal,
                   invariant_checks=counted.invariant_checks)


@pytest.fixture
def jobs(cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    cloudformation.api.timings = job_timings(RUNNING_SECONDS)
    monkeypatch.setenv(schema.ENV_READ_TIMEOUT, str(SLOW_START_ANSWER + 3))
    return cloudformation


def _accepted(ledger: JobLedger, operation: str) -> bool:
    return any(r.operation == operation and r.status_code == 200 for r in ledger.api.requests()[ledger.since:])



def _wait_until_start_recorded(ledger: JobLedger) -> None:
    """A slow answer is recorded once sent, after its delay; wait for it before counting starts."""
    end = time.monotonic() + SLOW_START_ANSWER + 2.0
    while not _accepted(ledger, ledger.kind.start) and time.monotonic() < end:
        time.sleep(0.05)


@pytest.mark.parametrize(("moment", "kind"), [("start-performed-before-its-answer", PROCESSING),
                                              ("start-answered-while-waiting", TRAINING),
                                              ("start-performed-before-its-answer", TRANSFORM)],
                         ids=lambda value: value.name if isinstance(value, JobKind) else value)
def test_a_job_create_killed_midway_and_retried_starts_one_job_and_answers_once(
        jobs: CloudFormation, tally: JobRetryTally, moment: str, kind: JobKind) -> None:
    api = jobs.api
    prerequisites = completed_prerequisites(api)
    properties = base_properties(kind, api.url, prerequisites)
    ledger = JobLedger(api, kind, since=len(api.requests()))
    by_hand = set(prerequisites.values())
    if moment == "start-performed-before-its-answer":
        api.add_fault(Fault(kind="slow", operation=kind.start, delay=SLOW_START_ANSWER))
    event = job_event(jobs, kind.resource_type, "Create", properties, logical_id="Killed")
    key = jobs.key_of(event)

    moment_to_kill = ((lambda: bool(set(api.job_ids(kind.api_kind)) - by_hand)) if "before" in moment
                      else (lambda: _accepted(ledger, kind.start)))
    start_invocation(event, seconds=30.0).kill_when(moment_to_kill, KILL_WITHIN_SECONDS)
    assert jobs.receiver.responses(key) == [], "the killed invocation answered"

    retried = answer_job_once(jobs, event)  # Lambda delivers the same event again

    _wait_until_start_recorded(ledger)
    starts = ledger.starts()
    tally.retried(len(starts), len(jobs.receiver.responses(key)))
    assert retried.succeeded, retried.answer["Reason"]
    assert starts == [retried.physical_id], f"jobs started: {starts}"
    assert ledger.status(retried.physical_id) == "Completed"
    tally.invariant_checks += 3


@pytest.mark.parametrize(("moment", "adopted"), [("start-performed-before-its-answer", False),
                                                 ("start-recorded-while-waiting", True)])
def test_an_explicit_id_job_create_killed_midway_and_retried_never_starts_a_second_job_nor_cancels_it(
        jobs: CloudFormation, tally: JobRetryTally, moment: str, adopted: bool) -> None:
    api, kind = jobs.api, PROCESSING
    ledger = JobLedger(api, kind, since=len(api.requests()))
    if not adopted:
        api.add_fault(Fault(kind="slow", operation=kind.start, delay=SLOW_START_ANSWER))
    properties = base_properties(kind, api.url, {}) | {"Id": "nightly-killed"}
    event = job_event(jobs, kind.resource_type, "Create", properties, logical_id="KilledExplicit")

    moment_to_kill = (lambda: _marked_created(jobs)) if adopted else (lambda: bool(api.job_ids(kind.api_kind)))
    start_invocation(event, seconds=30.0).kill_when(moment_to_kill, KILL_WITHIN_SECONDS)
    retried = answer_job_once(jobs, event)

    _wait_until_start_recorded(ledger)
    tally.retried(len(ledger.starts()), len(jobs.receiver.responses(jobs.key_of(event))))
    assert ledger.starts() == ["nightly-killed"]
    if adopted:
        assert retried.succeeded, retried.answer["Reason"]
        assert retried.physical_id == "nightly-killed"
        delete = answer_job_once(jobs, job_event(jobs, kind.resource_type, "Delete", properties,
                                                 logical_id="KilledExplicit", physical_id="nightly-killed"))
        assert delete.succeeded
    else:
        # Neptune may or may not have started it for this request: fail without claiming it, and leave it alone.
        assert not retried.succeeded and "may not be this stack's" in retried.answer["Reason"]
        assert retried.physical_id != "nightly-killed"
        rollback = answer_job_once(jobs, job_event(jobs, kind.resource_type, "Delete", properties,
                                                   logical_id="KilledExplicit", physical_id=retried.physical_id))
        assert rollback.succeeded
        cancelled = "nightly-killed" in ledger.cancels()
        tally.explicit_ids_cancelled += cancelled
        assert not cancelled, "the rollback cancelled a job it could not prove its own"
        assert ledger.status("nightly-killed") in ("InProgress", "Completed")
        if ledger.status("nightly-killed") == "InProgress":
            cancel_by_hand(api, kind, "nightly-killed")  # the clean-up the Reason asks a person for
    tally.invariant_checks += 4


def _marked_created(cloudformation: CloudFormation) -> bool:
    """The first invocation recorded Neptune's acceptance of its Start in its creation marker."""
    return any('"phase":"created"' in rule.description for rule in cloudformation.stubs.rules())


def test_a_job_delete_killed_midway_and_retried_answers_once_the_job_stopped(
        jobs: CloudFormation, tally: JobRetryTally) -> None:
    api, kind = jobs.api, TRANSFORM
    properties = base_properties(kind, api.url, completed_prerequisites(api)) | {"Clean": "true"}
    ledger = JobLedger(api, kind, since=len(api.requests()))
    api.timings = job_timings(30.0, stopping=RUNNING_SECONDS)
    properties |= {"CompletionSignalUrl": jobs.receiver.url_for(f"handle-killed-{kind.name}"),
                   "CompletionTimeoutSeconds": "43200"}
    created = answer_job_once(jobs, job_event(jobs, kind.resource_type, "Create", properties, logical_id="Doomed"))
    assert created.succeeded, created.answer["Reason"]
    event = job_event(jobs, kind.resource_type, "Delete", properties, logical_id="Doomed",
                      physical_id=created.physical_id)

    start_invocation(event, seconds=30.0).kill_when(lambda: _accepted(ledger, kind.cancel), KILL_WITHIN_SECONDS)

    retried = answer_job_once(jobs, event)

    answers = len(jobs.receiver.responses(jobs.key_of(event)))
    running = ledger.running()
    tally.retried(0, answers)
    tally.running_after_a_retried_delete += len(running)
    assert retried.succeeded, retried.answer["Reason"]
    assert running == [] and ledger.status(created.physical_id) == "Stopped"
    assert answers == 1
    tally.invariant_checks += 3


def test_a_job_answer_refused_at_first_is_delivered_once(jobs: CloudFormation, tally: JobRetryTally) -> None:
    receiver, api = jobs.receiver, jobs.api
    api.timings = job_timings()
    refused_before = receiver.refused
    receiver.refuse_next(1)
    event = job_event(jobs, TRAINING.resource_type, "Create",
                      base_properties(TRAINING, api.url, completed_prerequisites(api)), logical_id="Refused")

    answered = answer_job_once(jobs, event)  # crhelper tries again two seconds later

    tally.refused_deliveries += receiver.refused - refused_before
    tally.delivered_after_refusal += len(receiver.responses(jobs.key_of(event)))
    assert receiver.refused == refused_before + 1, "the first delivery was not refused"
    assert answered.succeeded, answered.answer["Reason"]
    assert api.job_ids(TRAINING.api_kind)[-1] == answered.physical_id
    wait_until(lambda: len(receiver.responses(jobs.key_of(event))) == 1, limit=1.0)
    tally.invariant_checks += 3
