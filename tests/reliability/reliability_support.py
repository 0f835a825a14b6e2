"""Invoking the handler as Lambda does and checking what CloudFormation receives.

Every answer must come exactly once, within the invocation, with a Status CloudFormation
accepts, a Reason when it failed, a PhysicalResourceId, and a body of at most 4096 bytes.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from handler_driver import SHORT_SETTINGS, CloudFormation

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.testing import StackPlayer

RESPONSE_LIMIT_BYTES = 4096
INVOCATION_SECONDS = 10.0
"""The Lambda deadline each in-process invocation gets: long enough to wait for a local endpoint."""

PROFILE_VARIABLE = "RELIABILITY_PROFILE"
PROFILE = os.environ.get(PROFILE_VARIABLE) or "everyday"
"""everyday (make test) or reliability (make reliability, CI): see test_reliability_properties.py."""


def in_profile(*indexes: int | bool) -> bool:
    """Whether a case of a fault matrix runs in this profile: every case under reliability; under everyday
    (make test) the half whose indexes add up to an even number. With a yes/no last index (once or lasting,
    completing or failing), every combination of the other indexes still runs, with one of its two values,
    and every value of each other index meets both of them."""
    return PROFILE == "reliability" or sum(int(index) for index in indexes) % 2 == 0


RELIABILITY_TIMINGS = Timings(creating=0.05, updating=0.05, deleting=0.05)
FAST_WAITS = {
    schema.ENV_WAIT_FIRST_SECONDS: "0.02",
    schema.ENV_WAIT_MAX_SECONDS: "0.1",
}


def fast_api(**options: Any) -> LocalNeptuneMlApi:
    """A local Neptune ML API whose endpoints change state within a twentieth of a second."""
    timings = Timings(RELIABILITY_TIMINGS.creating, RELIABILITY_TIMINGS.updating, RELIABILITY_TIMINGS.deleting)
    return LocalNeptuneMlApi(timings=timings, **options)


def handler_environment(receiver: ResponseReceiver, stubs: LocalCloudStubs,
                        **overrides: str) -> dict[str, str]:
    """The Lambda function's environment: trust the receiver, reach the stubs, short settings."""
    return {**receiver.env(), **stubs.env(), **SHORT_SETTINGS, **FAST_WAITS, **overrides}


def lambda_function(patch: pytest.MonkeyPatch, handler_module: ModuleType, receiver: ResponseReceiver,
                    stubs: LocalCloudStubs, api: LocalNeptuneMlApi, **settings: str) -> CloudFormation:
    """Set the function's environment (with `settings` on top) and return a driver that invokes it."""
    for name, value in handler_environment(receiver, stubs, **settings).items():
        patch.setenv(name, value)
    patch.delenv("AWS_SAM_LOCAL", raising=False)
    return CloudFormation(handler_module.handler, receiver, stubs, api)


@dataclass(frozen=True)
class Answered:
    """One request and its one answer."""

    event: dict[str, Any]
    answer: dict[str, Any]
    seconds: float
    """From the invocation's start to the answer's arrival."""

    @property
    def succeeded(self) -> bool:
        return bool(self.answer["Status"] == "SUCCESS")

    @property
    def physical_id(self) -> str:
        return str(self.answer["PhysicalResourceId"])

    @property
    def size(self) -> int:
        return response_size(self.answer)


def response_size(answer: dict[str, Any]) -> int:
    """Bytes crhelper sends for this body: json.dumps with its defaults, so ASCII with escapes."""
    return len(json.dumps(answer).encode())


def answer_once(cloudformation: CloudFormation, event: dict[str, Any],
                seconds: float = INVOCATION_SECONDS) -> Answered:
    """Invoke once; exactly one well-formed answer must arrive before the invocation's deadline."""
    started = time.time()
    cloudformation.invoke(event, seconds)
    finished = time.time()
    records = cloudformation.receiver.records(cloudformation.key_of(event))
    assert len(records) == 1, f"expected one answer to {event['RequestType']}, got {len(records)}"
    assert finished - started <= seconds, f"the invocation ran {finished - started:.1f} s of {seconds} s"
    answered = Answered(event, records[0].body, records[0].received_at - started)
    assert answered.seconds <= seconds
    check_answer(event, answered.answer)
    return answered


def check_answer(event: dict[str, Any], answer: dict[str, Any]) -> None:
    """What CloudFormation requires of a custom resource's answer, and what the handler promises."""
    assert answer["Status"] in ("SUCCESS", "FAILED"), answer
    if answer["Status"] == "FAILED":
        assert str(answer.get("Reason") or "").strip(), "a FAILED answer needs a Reason"
    assert response_size(answer) <= RESPONSE_LIMIT_BYTES, f"{response_size(answer)} bytes"
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        assert answer[key] == event[key], key
    assert isinstance(answer["PhysicalResourceId"], str) and answer["PhysicalResourceId"]
    keeps_its_id = event["RequestType"] == "Delete" or (
        event["RequestType"] == "Update" and answer["Status"] == "FAILED")
    if keeps_its_id:
        assert answer["PhysicalResourceId"] == event["PhysicalResourceId"], "the physical id must not change"
    if answer["Status"] == "SUCCESS" and event["RequestType"] != "Delete":
        assert schema.is_endpoint_id(answer["PhysicalResourceId"]), answer["PhysicalResourceId"]


def live_endpoints(api: LocalNeptuneMlApi) -> list[str]:
    """Endpoints on the local API that are not being deleted."""
    return [endpoint_id for endpoint_id in api.endpoint_ids() if api.status(endpoint_id) != "Deleting"]


def endpoints_left(api: LocalNeptuneMlApi, settle: float = 2.0) -> list[str]:
    """Endpoints still on the local API once every deletion in progress has had time to finish."""
    end = time.monotonic() + settle
    while any(api.status(endpoint_id) == "Deleting" for endpoint_id in api.endpoint_ids()):
        if time.monotonic() > end:
            break
        time.sleep(0.02)
    return api.endpoint_ids()


def accepted_creates(api: LocalNeptuneMlApi) -> Counter[str]:
    """How many CreateMLEndpoint requests Neptune accepted (200) for each endpoint id."""
    return Counter(str(r.endpoint_id) for r in api.requests()
                   if r.operation == "CreateMLEndpoint" and r.status_code == 200)


@dataclass
class CheckedStackPlayer(StackPlayer):
    """testing.StackPlayer (one resource, its requests decided by the player's engine) whose every answer
    is checked (answer_once) and kept in `answers`, and after whose every success the local API holds
    exactly the endpoint the stack declares."""

    after_each_answer: Callable[[Answered], None] = lambda answered: None
    """Runs after every answer, before any follow-up (e.g. to end an injected outage)."""
    answers: list[Answered] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.answer = self._checked_answer
        self.after_success = self.expect_declared

    def _checked_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        answered = answer_once(self.cloudformation, event)
        self.answers.append(answered)
        self.after_each_answer(answered)
        return answered.answer

    def expect_declared(self, physical_id: str | None) -> None:
        """The local API holds exactly the endpoint the stack declares (and those being deleted)."""
        api = self.cloudformation.api
        declared = [physical_id] if physical_id is not None and schema.is_endpoint_id(physical_id) else []
        assert live_endpoints(api) == declared, f"declared {declared}, the API holds {api.endpoint_ids()}"
        if declared:
            assert api.status(declared[0]) == "InService"
