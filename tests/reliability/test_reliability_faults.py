"""A fault matrix: 429, 408, 500, a reset connection and a slow answer at each step of each request.

A transient fault (once) must be retried to success. A lasting fault must fail the request
with a Reason naming the error; the outage then ends and CloudFormation's follow-up (the
rollback, or the stack deletion tried again) must leave no endpoint behind. No request may
hang, and no resource may ever get two endpoints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from handler_driver import CloudFormation
from reliability_figures import FiguresFile
from reliability_support import CheckedStackPlayer, accepted_creates, endpoints_left, in_profile

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
ENDPOINT_ID = "ep-faulted"


@dataclass(frozen=True)
class Step:
    """Where in a request the fault strikes: the `skip`+1-th call of `operation`."""

    name: str
    request_type: str
    operation: str
    skip: int = 0


STEPS = (
    Step("create-existence-check", "Create", "GetMLEndpoint"),
    Step("create-call", "Create", "CreateMLEndpoint"),
    Step("create-status-poll", "Create", "GetMLEndpoint", skip=1),
    Step("update-first-look", "Update", "GetMLEndpoint"),
    Step("update-call", "Update", "CreateMLEndpoint"),
    Step("update-status-poll", "Update", "GetMLEndpoint", skip=1),
    Step("delete-call", "Delete", "DeleteMLEndpoint"),
    Step("delete-status-poll", "Delete", "GetMLEndpoint"),
)
SUCCEEDS_DESPITE_LASTING_FAULT = {
    # A create whose answers are all too slow was performed all the same: the handler adopts it.
    ("create-call", "slow"),
}
CASES = [
    pytest.param(step, kind, lasting, id=f"{step.name}-{kind}-{'lasting' if lasting else 'once'}")
    for s, step in enumerate(STEPS) for k, kind in enumerate(CODE_IN_REASON) for lasting in (False, True)
    if in_profile(s, k, lasting) or (lasting and (step.name, kind) in SUCCEEDS_DESPITE_LASTING_FAULT)
]


@dataclass
class MatrixTally:
    cases: int = 0
    retried_to_success: int = 0
    failed_naming_the_error: int = 0
    endpoints_left: int = 0
    duplicates: int = 0
    slowest_answer_seconds: float = 0.0
    kinds: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[MatrixTally]:
    counted = MatrixTally()
    yield counted
    figures.record("faults", cases=counted.cases, kinds=sorted(counted.kinds), steps=sorted(counted.steps),
                   retried_to_success=counted.retried_to_success,
                   failed_naming_the_error=counted.failed_naming_the_error,
                   endpoints_left=counted.endpoints_left, duplicates=counted.duplicates,
                   slowest_answer_seconds=round(counted.slowest_answer_seconds, 2))


@pytest.fixture
def faulted(cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    """Two attempts per call (botocore's; the handler's own 429 retries are the concurrency test's), and a
    short read timeout, so slow answers time out."""
    monkeypatch.setenv(schema.ENV_MAX_ATTEMPTS, "2")
    monkeypatch.setenv(schema.ENV_READ_TIMEOUT, str(READ_TIMEOUT))
    monkeypatch.setenv(schema.ENV_THROTTLE_RETRIES, "0")
    return cloudformation


@pytest.mark.parametrize(("step", "kind", "lasting"), CASES)
def test_a_fault_is_retried_or_explained_and_leaves_no_orphan(
        faulted: CloudFormation, tally: MatrixTally, step: Step, kind: str, lasting: bool) -> None:
    api = faulted.api
    player = CheckedStackPlayer(faulted, "Endpoint", after_each_answer=lambda answered: api.clear_faults())
    properties = faulted.properties(Id=ENDPOINT_ID)
    fault = Fault(kind=kind, operation=step.operation, skip=step.skip,  # type: ignore[arg-type]
                  count=None if lasting else 1, delay=SLOW_ANSWER if kind == "slow" else 0.0)
    state = None if step.request_type == "Create" else player.create(properties)
    api.add_fault(fault)

    state = _play(player, step, state, properties)
    faulted_answer = player.answers[0 if step.request_type == "Create" else 1]
    if state is not None:
        player.delete(state)  # the stack's deletion
    left, created = endpoints_left(api), accepted_creates(api)
    _count(tally, step, kind, faulted_answer.succeeded, left, created)
    tally.slowest_answer_seconds = max([tally.slowest_answer_seconds, *(a.seconds for a in player.answers)])

    assert _struck(api, kind), "the fault never struck"
    if not lasting or (step.name, kind) in SUCCEEDS_DESPITE_LASTING_FAULT:
        assert faulted_answer.succeeded, faulted_answer.answer["Reason"]
    else:
        assert not faulted_answer.succeeded
        assert CODE_IN_REASON[kind] in faulted_answer.answer["Reason"], faulted_answer.answer["Reason"]
        assert step.operation in faulted_answer.answer["Reason"]
    assert left == [], "an endpoint outlived its stack"
    assert set(created) <= {ENDPOINT_ID}, f"endpoints created: {dict(created)}"
    if step.request_type == "Create":
        assert created[ENDPOINT_ID] <= 1, "the endpoint was created twice"


def _struck(api: LocalNeptuneMlApi, kind: str) -> bool:
    """Whether a request met the fault; a slow answer is recorded only once it has been sent."""
    end = time.monotonic() + SLOW_ANSWER + 1.0
    while not any(r.fault == kind for r in api.requests()):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _play(player: CheckedStackPlayer, step: Step, state: ResourceState | None,
          properties: dict[str, str]) -> ResourceState | None:
    """The faulted request and CloudFormation's follow-ups; the resource's state afterwards."""
    if step.request_type == "Create":
        return player.create(properties)
    assert state is not None, "the resource to update or delete was not created"
    if step.request_type == "Update":
        return player.update(state, {**properties, "MlModelTrainingJobId": "training-2"})
    if not player.delete(state):
        player.delete(state)  # deleting the stack again once the outage is over
    return None


def _count(tally: MatrixTally, step: Step, kind: str, succeeded: bool, left: list[str],
           created: dict[str, int]) -> None:
    tally.cases += 1
    tally.kinds.add(kind)
    tally.steps.add(step.name)
    tally.retried_to_success += succeeded
    tally.failed_naming_the_error += not succeeded
    tally.endpoints_left += len(left)
    tally.duplicates += len(set(created) - {ENDPOINT_ID})
