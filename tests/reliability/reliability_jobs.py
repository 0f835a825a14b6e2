"""The job resource types (Custom::NeptuneMlDataProcessingJob, ...ModelTrainingJob, ...ModelTransformJob) as
the reliability tests drive them: their events, a checked stack player for one job resource, and what the
local API says about the jobs a test's requests started, cancelled or left running.

Every answer must come exactly once, within the invocation that gives it (or, when a request is handed
over to crhelper's polling, from that polling), with a Status, a Reason when FAILED, the physical id
CloudFormation expects, and at most 4096 bytes. A Reason names what went wrong: a property, the job's
own failure, a taken id, an API call and its error, or a limit.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from handler_driver import SAFETY_MARGIN, STACK_ID, CloudFormation, LambdaContext, json_input
from reliability_support import INVOCATION_SECONDS, RESPONSE_LIMIT_BYTES, Answered, response_size

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.contract.jobs import JOB_CONTRACTS, parse_job_properties
from neptune_ml_endpoint.contract.values import PropertyError, check_job_id
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
    answer_of,
    custom_resource_event,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import DesiredResource, StackEngine
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState
from neptune_ml_endpoint.local.cloudformation.testing import SERVICE_TOKEN, StackPlayer

QUICK_JOB = 0.02
"""Seconds a job runs (and takes to stop) unless a test asks for longer."""
LONG_JOB = 30.0
"""Seconds a job runs that must still be running when its resource is deleted."""
RUNNING = ("InProgress", "Stopping")


def job_timings(job_seconds: float = QUICK_JOB, stopping: float = QUICK_JOB) -> Timings:
    """Endpoints as the other reliability tests have them; jobs of every kind running `job_seconds`."""
    return Timings(creating=0.05, updating=0.05, deleting=0.05, processing=job_seconds, training=job_seconds,
                   transform=job_seconds, stopping=stopping)


@dataclass(frozen=True)
class JobKind:
    """One job resource type and the local API's names for its jobs."""

    resource_type: str
    api_kind: str
    """The local API's collection: dataprocessing, modeltraining or modeltransform."""
    operation: str
    """The operations' common part: DataProcessing in StartMLDataProcessingJob."""
    output_property: str
    """A required S3 location property: a 'failing-' part in it makes the job end Failed."""
    method: str
    """boto3's method part: data_processing in cancel_ml_data_processing_job."""

    @property
    def start(self) -> str:
        return f"StartML{self.operation}Job"

    @property
    def get(self) -> str:
        return f"GetML{self.operation}Job"

    @property
    def cancel(self) -> str:
        return f"CancelML{self.operation}Job"

    @property
    def name(self) -> str:
        return self.api_kind

    def operation_of(self, short: str) -> str:
        """StartML...Job, GetML...Job or CancelML...Job, from "Start", "Get" or "Cancel"."""
        return f"{short}ML{self.operation}Job"

    def configuration(self, properties: Mapping[str, Any]) -> str | None:
        """The configuration key the handler derives job ids from; None for properties it refuses."""
        try:
            return parse_job_properties(JOB_CONTRACTS[self.resource_type], properties).configuration_key()
        except PropertyError:
            return None

    @property
    def property_names(self) -> tuple[str, ...]:
        return JOB_CONTRACTS[self.resource_type].property_names


PROCESSING = JobKind(schema.DATA_PROCESSING_TYPE, "dataprocessing", "DataProcessing", "ProcessedDataS3Location",
                     "data_processing")
TRAINING = JobKind(schema.MODEL_TRAINING_TYPE, "modeltraining", "ModelTraining", "TrainModelS3Location",
                   "model_training")
TRANSFORM = JobKind(schema.MODEL_TRANSFORM_TYPE, "modeltransform", "ModelTransform",
                    "ModelTransformOutputS3Location", "model_transform")
KINDS = (PROCESSING, TRAINING, TRANSFORM)
OPERATIONS = tuple(op for kind in KINDS for op in (kind.start, kind.get, kind.cancel))


def is_job_id(value: str) -> bool:
    try:
        check_job_id(value, "Id")
    except PropertyError:
        return False
    return True


def neptunedata(api: LocalNeptuneMlApi) -> Any:
    """A boto3 client of the local API, as a person at a notebook uses it."""
    return _client(api.url)


@functools.lru_cache(maxsize=4)
def _client(url: str) -> Any:
    return boto3.client("neptunedata", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def wait_until(condition: Callable[[], bool], limit: float = 10.0, what: str = "condition") -> None:
    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, f"{what} not reached within {limit} s"
        time.sleep(0.01)


def start_by_hand(api: LocalNeptuneMlApi, kind: JobKind, job_id: str, prerequisites: Mapping[str, str],
                  completed: bool = True) -> str:
    """A job started outside CloudFormation (as from a notebook); waited for when `completed`."""
    client = neptunedata(api)
    if kind is PROCESSING:
        client.start_ml_data_processing_job(id=job_id, inputDataS3Location="s3://bucket/export/",
                                            processedDataS3Location="s3://bucket/by-hand/")
    elif kind is TRAINING:
        client.start_ml_model_training_job(id=job_id, dataProcessingJobId=prerequisites["DataProcessingJobId"],
                                           trainModelS3Location="s3://bucket/by-hand/")
    else:
        client.start_ml_model_transform_job(id=job_id, dataProcessingJobId=prerequisites["DataProcessingJobId"],
                                            mlModelTrainingJobId=prerequisites["MlModelTrainingJobId"],
                                            modelTransformOutputS3Location="s3://bucket/by-hand/")
    if completed:
        wait_until(lambda: api.job_status(kind.api_kind, job_id) == "Completed", what=f"{job_id} Completed")
    return job_id


def cancel_by_hand(api: LocalNeptuneMlApi, kind: JobKind, job_id: str) -> None:
    getattr(neptunedata(api), f"cancel_ml_{kind.method}_job")(id=job_id)


def completed_prerequisites(api: LocalNeptuneMlApi, suffix: str = "") -> dict[str, str]:
    """A completed processing job and a completed training job on it, for training and transform resources."""
    tag = suffix or uuid.uuid4().hex[:8]
    processing = start_by_hand(api, PROCESSING, f"hand-data-{tag}", {})
    training = start_by_hand(api, TRAINING, f"hand-model-{tag}", {"DataProcessingJobId": processing})
    return {"DataProcessingJobId": processing, "MlModelTrainingJobId": training}


def base_properties(kind: JobKind, api_url: str, prerequisites: Mapping[str, str]) -> dict[str, Any]:
    """A valid property set of the kind, as CloudFormation sends it (strings)."""
    properties: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "NeptuneEndpoint": api_url}
    if kind is PROCESSING:
        properties |= {"InputDataS3Location": "s3://bucket/export/", "ProcessedDataS3Location": "s3://bucket/processed/"}
    elif kind is TRAINING:
        properties |= {"DataProcessingJobId": prerequisites["DataProcessingJobId"],
                       "TrainModelS3Location": "s3://bucket/training/"}
    else:
        properties |= {"DataProcessingJobId": prerequisites["DataProcessingJobId"],
                       "MlModelTrainingJobId": prerequisites["MlModelTrainingJobId"],
                       "ModelTransformOutputS3Location": "s3://bucket/transform/"}
    return properties



def job_event(cloudformation: CloudFormation, resource_type: str, request_type: str, properties: Mapping[str, Any],
              *, logical_id: str, physical_id: str | None = None, old_properties: Mapping[str, Any] | None = None,
              request_id: str | None = None) -> dict[str, Any]:
    """A job resource's request event, its ResponseURL on the test's receiver."""
    request = CustomResourceRequest(request_type, logical_id, resource_type, cloudformation.service_token,
                                    properties, old_properties, physical_id, request_id or str(uuid.uuid4()))
    return custom_resource_event(request, STACK_ID, request.request_id,
                                 cloudformation.receiver.url_for(cloudformation.key(logical_id, request.request_id)))


# --- checking answers ------------------------------------------------------------------------------------

def check_job_answer(event: dict[str, Any], answer: dict[str, Any]) -> None:
    """What CloudFormation requires of a job resource's answer, and what the handler promises."""
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
        assert is_job_id(answer["PhysicalResourceId"]), answer["PhysicalResourceId"]
        assert answer["Data"]["Id"] == answer["PhysicalResourceId"], answer["Data"]


def answer_job_once(cloudformation: CloudFormation, event: dict[str, Any], first_invocation: float | None = None,
                    poll_pause: float = 0.05) -> Answered:
    """Invoke once; the one answer comes within the invocation. With `first_invocation` seconds, the
    request may be handed over to crhelper's polling, whose rule is then delivered until it answers."""
    key = cloudformation.key_of(event)
    started = time.time()
    seconds = first_invocation if first_invocation is not None else INVOCATION_SECONDS
    cloudformation.invoke(event, seconds)
    assert time.time() - started <= seconds, f"the invocation ran {time.time() - started:.1f} s of {seconds} s"
    if first_invocation is not None and not cloudformation.receiver.records(key):
        cloudformation.poll_until_answered(event, pause=poll_pause)
    records = cloudformation.receiver.records(key)
    assert len(records) == 1, f"expected one answer to {event['RequestType']}, got {len(records)}"
    answered = Answered(event, records[0].body, records[0].received_at - started)
    check_job_answer(event, answered.answer)
    return answered


REASON_KINDS = ("property", "job failure", "taken id", "jobs cannot be changed", "API error", "limit", "time out",
                "gone")


def reason_kind(kind: JobKind, reason: str) -> str | None:
    """What a FAILED answer's Reason names (one of REASON_KINDS); None when it names nothing known."""
    head = reason.split(":", 1)[0].strip()
    if head in kind.property_names or head.split(".", 1)[0] in kind.property_names or "is not a property of" in reason:
        return "property"
    body = reason.split(": ", 1)[1] if ": " in reason else reason
    if " ended Failed: " in reason or " ended Stopped: " in reason:
        return "job failure"
    if body.startswith("AlreadyExists:"):
        return "taken id"
    if "jobs cannot be changed" in reason:
        return "jobs cannot be changed"
    if any(op in body for op in OPERATIONS) and " failed with " in body:
        return "API error"
    if "the logical id is longer than" in reason or "Shorten the logical id" in reason:
        return "limit"
    if "ServiceTimeout was nearly up" in reason:
        return "time out"
    if "no longer exists" in reason or "disappeared while it ran" in reason:
        return "gone"
    return None


# --- the jobs a test's requests touched ------------------------------------------------------------------

@dataclass
class JobLedger:
    """The local API's record, read from request `since` on: jobs started and cancelled by the handler."""

    api: LocalNeptuneMlApi
    kind: JobKind
    since: int = 0
    by_hand: set[str] = field(default_factory=set)
    """Jobs started outside CloudFormation: never the handler's."""

    def mark(self) -> int:
        return len(self.api.requests())

    def starts(self, since: int | None = None, until: int | None = None) -> list[str]:
        """Job ids whose Start the API accepted, oldest first (by-hand ones left out)."""
        requests = self.api.requests()[self.since if since is None else since:until]
        return [str(r.endpoint_id) for r in requests if r.operation == self.kind.start and r.status_code == 200
                and r.endpoint_id not in self.by_hand]

    def cancels(self, since: int | None = None) -> list[str]:
        """Job ids a Cancel named (whatever the API answered)."""
        return [str(r.endpoint_id) for r in self.api.requests()[self.since if since is None else since:]
                if r.operation == self.kind.cancel]

    def status(self, job_id: str) -> str | None:
        return self.api.job_status(self.kind.api_kind, job_id)

    def running(self) -> list[str]:
        """The handler's jobs still InProgress or Stopping."""
        return [job_id for job_id in dict.fromkeys(self.starts()) if self.status(job_id) in RUNNING]


# --- one job resource played by the engine ---------------------------------------------------------------

@dataclass
class JobStackPlayer(StackPlayer):
    """testing.StackPlayer for a job resource type: the same engine, events of `resource_type`."""

    resource_type: str = schema.DATA_PROCESSING_TYPE

    def resource(self, physical_id: str, properties: Mapping[str, Any]) -> ResourceState:
        return ResourceState(self.logical_id, self.resource_type, physical_id, dict(properties), {},
                             self.cloudformation.service_token)

    def _deploy(self, properties: Mapping[str, Any], previous: dict[str, ResourceState]) -> ResourceState | None:
        desired = {self.logical_id: DesiredResource(self.logical_id, self.resource_type)}
        result = StackEngine("demo", self._send, _NoEvents()).deploy(
            desired, lambda logical_id, deployed: dict(properties), previous, created=bool(previous))
        state = result.resources.get(self.logical_id)
        if result.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
            self.after_success(state.physical_id if state is not None else None)
        return state

    def _send(self, request: CustomResourceRequest) -> CustomResourceAnswer:
        event = job_event(self.cloudformation, request.resource_type, request.request_type, request.properties,
                          logical_id=request.logical_id, physical_id=request.physical_id,
                          old_properties=request.old_properties, request_id=request.request_id)
        return answer_of(request, event["StackId"], (self.answer or self.cloudformation.send)(event))


class _NoEvents:
    def begin_stack(self, *args: Any) -> None:
        pass

    event = begin_stack


@dataclass
class CheckedJobPlayer(JobStackPlayer):
    """A JobStackPlayer whose every answer is checked (answer_job_once) and kept in `answers`, with the job
    starts each request made (`starts`, by answer). `first_invocation(event)` gives the seconds the
    request's first invocation has (None: all it needs)."""

    after_each_answer: Callable[[Answered, list[str]], None] = lambda answered, started: None
    """Runs after every answer with the jobs its request started, before any follow-up."""
    first_invocation: Callable[[dict[str, Any]], float | None] = lambda event: None
    answers: list[Answered] = field(default_factory=list)
    started: list[list[str]] = field(default_factory=list)
    ledger: JobLedger | None = None

    def __post_init__(self) -> None:
        self.answer = self._checked_answer

    def _checked_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.ledger is not None
        before = self.ledger.mark()
        answered = answer_job_once(self.cloudformation, event, self.first_invocation(event))
        started = self.ledger.starts(since=before)
        self.answers.append(answered)
        self.started.append(started)
        self.after_each_answer(answered, started)
        return answered.answer


# --- crhelper's polling and the jobs' watchers, as EventBridge runs them -----------------------------------

def watcher_rules(cloudformation: CloudFormation) -> list[Any]:
    return [rule for rule in cloudformation.stubs.rules()
            if rule.targets and "NeptuneMlWatch" in str(rule.targets[0].input)]


def polling_rules(cloudformation: CloudFormation) -> list[Any]:
    return [rule for rule in cloudformation.stubs.rules()
            if rule.targets and "CrHelperPoll" in str(rule.targets[0].input)]


def deliver_polls_until_done(cloudformation: CloudFormation, limit: float = 15.0) -> None:
    """Deliver every polling rule's Input until crhelper has removed them all."""
    end = time.monotonic() + limit
    while rules := polling_rules(cloudformation):
        assert time.monotonic() < end, "polling did not end"
        for rule in rules:
            cloudformation.handler(json_input(rule.targets[0].input), LambdaContext(30.0))
        time.sleep(0.05)


HANDOVER_SECONDS = SAFETY_MARGIN
"""A first invocation this short starts the job and hands over to crhelper's polling at once."""
