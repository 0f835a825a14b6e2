"""A fault matrix for the job resource types: 429, 408, 500, a reset connection and a slow answer at each
step of a job's create, update and delete (StartML*Job, GetML*Job, CancelML*Job), once and lasting.

A transient fault (once) must be retried to success. A lasting fault must fail the request with a
Reason naming the operation and the error; the outage then ends, and CloudFormation's follow-up (the
rollback, or the stack deletion tried again) must leave no job of the resource running. No request
may start a second job for its configuration, and none may hang. The steps rotate over the three job
kinds (data processing, model training, model transform), so each step meets each kind. The deletes
meet a running job: the resource was created with a CompletionSignalUrl (it answered once the job
started) and the job runs on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from handler_driver import CloudFormation
from reliability_figures import FiguresFile
from reliability_jobs import (
    KINDS,
    LONG_JOB,
    PROCESSING,
    CheckedJobPlayer,
    JobKind,
    JobLedger,
    base_properties,
    cancel_by_hand,
    completed_prerequisites,
    job_timings,
    reason_kind,
    wait_until,
    watcher_rules,
)
from reliability_support import Answered, in_profile

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault, LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState

READ_TIMEOUT = 0.5
SLOW_ANSWER = 2 * READ_TIMEOUT
CODE_IN_REASON = {
    "throttle": "TooManyRequestsException",
    "timeout": "ClientTimeoutException",
    "server_error": "InternalFailureException",
    "reset": "ConnectionClosedError",
    "slow": "ReadTimeoutError",
}


@dataclass(frozen=True)
class Step:
    """Where in a request the fault strikes: the `skip`+1-th call of the kind's `operation` (Start, Get, Cancel)."""

    name: str
    request_type: str
    operation: str
    skip: int = 0


STEPS = (
    Step("create-first-look", "Create", "Get"),
    Step("create-start", "Create", "Start"),
    Step("create-status-poll", "Create", "Get", skip=1),
    Step("update-first-look", "Update", "Get"),
    Step("update-start", "Update", "Start"),
    Step("update-status-poll", "Update", "Get", skip=1),
    Step("delete-first-look", "Delete", "Get"),
    Step("delete-cancel", "Delete", "Cancel"),
    Step("delete-status-poll", "Delete", "Get", skip=1),
)
SUCCEEDS_DESPITE_LASTING_FAULT = {
    # A Start whose answers are all too slow was performed all the same: the handler finds the job and adopts it.
    ("create-start", "slow"),
    ("update-start", "slow"),
}
CASES = [
    pytest.param(step, kind, lasting, KINDS[(s + k) % len(KINDS)],
                 id=f"{step.name}-{kind}-{'lasting' if lasting else 'once'}-{KINDS[(s + k) % len(KINDS)].name}")
    for s, step in enumerate(STEPS) for k, kind in enumerate(CODE_IN_REASON) for lasting in (False, True)
    if in_profile(s, k, lasting) or (lasting and (step.name, kind) in SUCCEEDS_DESPITE_LASTING_FAULT)
]


@dataclass
class JobMatrixTally:
    cases: int = 0
    retried_to_success: int = 0
    failed_naming_the_error: int = 0
    faults_injected: int = 0
    jobs_left_running: int = 0
    duplicates: int = 0
    invariant_checks: int = 0
    slowest_answer_seconds: float = 0.0
    kinds: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)
    job_kinds: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[JobMatrixTally]:
    counted = JobMatrixTally()
    yield counted
    figures.record("job_faults", cases=counted.cases, kinds=sorted(counted.kinds), steps=sorted(counted.steps),
                   job_kinds=sorted(counted.job_kinds), operations=sorted(counted.operations),
                   retried_to_success=counted.retried_to_success,
                   failed_naming_the_error=counted.failed_naming_the_error,
                   faults_injected=counted.faults_injected, jobs_left_running=counted.jobs_left_running,
                   duplicates=counted.duplicates, invariant_checks=counted.invariant_checks,
                   slowest_answer_seconds=round(counted.slowest_answer_seconds, 2))


@pytest.fixture
def faulted(cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    """Two attempts per call, a short read timeout (slow answers time out), no extra 429 retries; quick jobs."""
    monkeypatch.setenv(schema.ENV_MAX_ATTEMPTS, "2")
    monkeypatch.setenv(schema.ENV_READ_TIMEOUT, str(READ_TIMEOUT))
    monkeypatch.setenv(schema.ENV_THROTTLE_RETRIES, "0")
    cloudformation.api.timings = job_timings()
    return cloudformation


@pytest.mark.parametrize(("step", "kind", "lasting", "job_kind"), CASES)
def test_a_fault_at_a_job_step_is_retried_or_explained_and_leaves_no_job_running(
        faulted: CloudFormation, tally: JobMatrixTally, step: Step, kind: str, lasting: bool, job_kind: JobKind) -> None:
    api = faulted.api
    properties = base_properties(job_kind, api.url, completed_prerequisites(api))
    if step.request_type == "Delete":  # the job runs on after its resource answered
        properties |= {"CompletionSignalUrl": faulted.receiver.url_for(f"handle-{step.name}-{kind}"),
                       "CompletionTimeoutSeconds": "43200"}
        api.timings = job_timings(LONG_JOB)
    ledger = JobLedger(api, job_kind, since=len(api.requests()))
    player = CheckedJobPlayer(faulted, "Job", resource_type=job_kind.resource_type, ledger=ledger,
                              after_each_answer=lambda answered, started: api.clear_faults())
    operation = job_kind.operation_of(step.operation)
    fault = Fault(kind=kind, operation=operation, skip=step.skip,  # type: ignore[arg-type]
                  count=None if lasting else 1, delay=SLOW_ANSWER if kind == "slow" else 0.0)
    state = None if step.request_type == "Create" else player.create(properties)
    assert step.request_type == "Create" or state is not None, "the resource to update or delete was not created"
    if step.request_type == "Delete":
        assert ledger.status(state.physical_id if state else "") == "InProgress"
    faulted_index = len(player.answers)
    api.add_fault(fault)

    state = _play(player, step, state, properties, job_kind)
    faulted_answer = player.answers[faulted_index]
    if state is not None:
        player.delete(state)  # the stack's deletion
    _count(tally, step, kind, job_kind, operation, faulted_answer, player.answers)
    tally.faults_injected += sum(r.fault == kind for r in api.requests())

    assert _struck(api, kind), "the fault never struck"
    if not lasting or (step.name, kind) in SUCCEEDS_DESPITE_LASTING_FAULT:
        assert faulted_answer.succeeded, faulted_answer.answer["Reason"]
    else:
        reason = faulted_answer.answer["Reason"]
        assert not faulted_answer.succeeded
        assert CODE_IN_REASON[kind] in reason and operation in reason, reason
        assert reason_kind(job_kind, reason) == "API error", reason
    running = _settled_running(ledger)
    tally.jobs_left_running += len(running)
    assert running == [], "a job of the resource runs on"
    starts = ledger.starts()
    tally.duplicates += len(starts) - len(set(starts))
    expected_starts = 2 if step.request_type == "Update" else 1
    assert len(starts) <= expected_starts, f"jobs started: {starts}"
    assert watcher_rules(faulted) == [], "a watcher outlived its job's resource"
    tally.invariant_checks += 5


def _play(player: CheckedJobPlayer, step: Step, state: ResourceState | None, properties: dict[str, str],
          job_kind: JobKind) -> ResourceState | None:
    """The faulted request and CloudFormation's follow-ups; the resource's state afterwards."""
    if step.request_type == "Create":
        return player.create(properties)
    assert state is not None
    if step.request_type == "Update":
        return player.update(state, {**properties, job_kind.output_property: "s3://bucket/retrained/"})
    if not player.delete(state):
        player.delete(state)  # deleting the stack again once the outage is over
    return None


def _settled_running(ledger: JobLedger) -> list[str]:
    """The resource's jobs still running once a Stopping one has had time to stop."""
    try:
        wait_until(lambda: ledger.running() == [], limit=2.0)
    except AssertionError:
        pass
    return ledger.running()


def _struck(api: LocalNeptuneMlApi, kind: str) -> bool:
    """Whether a request met the fault; a slow answer is recorded only once it has been sent."""
    end = time.monotonic() + SLOW_ANSWER + 1.0
    while not any(r.fault == kind for r in api.requests()):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _count(tally: JobMatrixTally, step: Step, kind: str, job_kind: JobKind, operation: str, faulted: Answered,
           answers: list[Answered]) -> None:
    tally.cases += 1
    tally.kinds.add(kind)
    tally.steps.add(step.name)
    tally.job_kinds.add(job_kind.name)
    tally.operations.add(operation)
    tally.retried_to_success += faulted.succeeded
    tally.failed_naming_the_error += not faulted.succeeded
    tally.slowest_answer_seconds = max([tally.slowest_answer_seconds, *(a.seconds for a in answers)])


def test_an_update_failing_after_it_started_its_new_job_leaves_that_job_not_running(faulted: CloudFormation) -> None:
    api, kind = faulted.api, PROCESSING
    properties = base_properties(kind, api.url, {})
    ledger = JobLedger(api, kind, since=len(api.requests()))
    player = CheckedJobPlayer(faulted, "Retrained", resource_type=kind.resource_type, ledger=ledger,
                              after_each_answer=lambda answered, started: api.clear_faults())
    state = player.create(properties)
    assert state is not None
    api.timings = job_timings(LONG_JOB)
    api.add_fault(Fault(kind="server_error", operation=kind.get, skip=1, count=None))

    state = player.update(state, {**properties, kind.output_property: "s3://bucket/retrained/"})
    player.delete(state)

    update = player.started[1]
    assert not player.answers[1].succeeded and len(update) == 1
    new_job = update[0]
    try:
        assert ledger.status(new_job) != "InProgress", (
            f"{new_job}, started by the failed update, runs on and CloudFormation does not know it")
    finally:
        if ledger.status(new_job) == "InProgress":
            cancel_by_hand(api, kind, new_job)
