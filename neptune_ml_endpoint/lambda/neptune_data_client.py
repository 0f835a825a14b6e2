"""The Neptune Data API calls the resources make, through boto3's neptunedata: Get, Create and
Delete of ML endpoints; Start, Get and Cancel of data processing, model training and model
transform jobs.

The client talks to the cluster at the resource's NeptuneEndpoint, in the region named by
AWS_REGION, with botocore's "standard" retry mode: throttling (429
TooManyRequestsException), 5xx answers and connection or read timeouts are retried with
backoff. Neptune's 408 ClientTimeoutException is not among botocore's generic transient
errors: botocore retries it only when its neptunedata model marks the error retryable (botocore
1.44's does). With a model that does not, this module retries that one code itself, a bounded
number of times (see NeptuneDataClient._call), so a 408 is retried whatever the runtime's botocore.
A call whose attempts all end in 429 is tried again after a random pause: concurrent invocations
(one per resource of a stack) spread out instead of failing together.

Environment variables (optional; names in neptune_ml_endpoint.schema):
  NEPTUNE_ML_ENDPOINT_CONNECT_TIMEOUT         seconds to open a connection (default 5)
  NEPTUNE_ML_ENDPOINT_READ_TIMEOUT            seconds to wait for an answer (default 15)
  NEPTUNE_ML_ENDPOINT_MAX_ATTEMPTS            botocore attempts per call, the first included (default 4)
  NEPTUNE_ML_ENDPOINT_CLIENT_TIMEOUT_RETRIES  extra tries after a 408 ClientTimeoutException (default 2)
  NEPTUNE_ML_ENDPOINT_THROTTLE_RETRIES        extra tries once botocore's attempts all end in 429 (default 3;
                                              pauses up to 2, 4 and 8 s)
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import NoShapeFoundError

from neptune_ml_endpoint.contract.jobs import UNMODELLED_TRAINING_FIELDS
from neptune_ml_endpoint.schema import (
    ENV_CLIENT_TIMEOUT_RETRIES,
    ENV_CONNECT_TIMEOUT,
    ENV_MAX_ATTEMPTS,
    ENV_READ_TIMEOUT,
    ENV_THROTTLE_RETRIES,
)

logger = logging.getLogger(__name__)

USER_AGENT_EXTRA = "neptune-ml-endpoint"
NOT_FOUND = "MLResourceNotFoundException"
CLIENT_TIMEOUT = "ClientTimeoutException"
THROTTLED = "TooManyRequestsException"
THROTTLE_PAUSE_SECONDS = 2.0  # the first pause's ceiling; it doubles up to THROTTLE_PAUSE_MAX_SECONDS
THROTTLE_PAUSE_MAX_SECONDS = 8.0
_T = TypeVar("_T")


def env_number(name: str, default: float) -> float:
    """A positive number from the environment, or the default when unset or not a number."""
    try:
        value = float(os.environ[name])
    except (KeyError, ValueError):
        return default
    return value if value >= 0 else default


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retry counts of the Neptune Data API client."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_attempts: int = 4
    client_timeout_retries: int = 2
    throttle_retries: int = 3

    @classmethod
    def from_environment(cls) -> ClientSettings:
        """The defaults, overridden by the environment variables in this module's docstring."""
        defaults = cls()
        return cls(
            connect_timeout=env_number(ENV_CONNECT_TIMEOUT, defaults.connect_timeout),
            read_timeout=env_number(ENV_READ_TIMEOUT, defaults.read_timeout),
            max_attempts=max(1, int(env_number(ENV_MAX_ATTEMPTS, defaults.max_attempts))),
            client_timeout_retries=int(env_number(ENV_CLIENT_TIMEOUT_RETRIES, defaults.client_timeout_retries)),
            throttle_retries=int(env_number(ENV_THROTTLE_RETRIES, defaults.throttle_retries)),
        )


class NeptuneApiError(Exception):
    """A call that failed after retries; `reason` says which call, Neptune's code and its message.

    `retried` is True when an earlier attempt of the call was sent and may have been performed
    (botocore or this module tried again, or the last attempt got no answer).
    """

    def __init__(self, operation: str, code: str, detail: str, retried: bool = False) -> None:
        self.operation = operation
        self.code = code
        self.detail = detail
        self.retried = retried
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"{self.operation} failed with {self.code}: {self.detail or 'no details given'}"


@dataclass(frozen=True)
class EndpointStatus:
    """GetMLEndpoint's answer."""

    endpoint_id: str
    status: str
    sagemaker_name: str = ""
    sagemaker_arn: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class StartedEndpoint:
    """CreateMLEndpoint's answer (for a new endpoint or an update)."""

    endpoint_id: str
    arn: str
    creation_time_in_millis: int


Started = StartedEndpoint
"""Any Create or Start answer: id, ARN and creation time."""


@dataclass(frozen=True)
class JobKind:
    """One kind of Neptune ML job: its operations and the nested SageMaker jobs its Get answer holds."""

    noun: str
    operation: str
    """The operations' common part: DataProcessing in StartMLDataProcessingJob."""
    method: str
    """boto3's method part: data_processing in start_ml_data_processing_job."""
    stages: tuple[str, ...]
    main_stage: str
    """The nested job whose ARN, log URL and output location the resource reports."""


DATA_PROCESSING = JobKind("data processing job", "DataProcessing", "data_processing", ("processingJob",),
                          "processingJob")
MODEL_TRAINING = JobKind("model training job", "ModelTraining", "model_training",
                         ("processingJob", "hpoJob", "modelTransformJob"), "hpoJob")
MODEL_TRANSFORM = JobKind("model transform job", "ModelTransform", "model_transform",
                          ("baseProcessingJob", "remoteModelTransformJob"), "remoteModelTransformJob")


@dataclass(frozen=True)
class Stage:
    """A nested SageMaker job of a Get answer."""

    field: str
    name: str = ""
    status: str = ""
    arn: str = ""
    output_location: str = ""
    failure_reason: str = ""
    log_url: str = ""


@dataclass(frozen=True)
class JobStatus:
    """GetML*Job's answer."""

    job_id: str
    status: str
    stages: tuple[Stage, ...] = ()
    main_stage: str = ""

    def stage(self, field: str) -> Stage:
        return next((stage for stage in self.stages if stage.field == field), Stage(field))

    @property
    def main(self) -> Stage:
        return self.stage(self.main_stage)

    def failure_reason(self, limit: int, min_detail: int = 60) -> str:
        """The first nested failure reason and its log URL within limit characters. The reason keeps at least
        min_detail characters; the URL goes whole or not at all (a cut URL leads nowhere; the handler's log
        has it)."""
        failed = [stage for stage in self.stages if stage.failure_reason]
        stage = failed[0] if failed else next((s for s in self.stages if s.log_url), self.main)
        detail = f"{stage.field}: {stage.failure_reason}" if failed else "Neptune gave no failureReason"
        log = f" (log: {stage.log_url})" if stage.log_url else ""
        if len(detail) + len(log) <= limit:
            return detail + log
        if len(log) <= limit - min(len(detail), min_detail):
            room = limit - len(log)
            return detail[: room - 3] + "..." + log
        return detail if len(detail) <= limit else detail[: limit - 3] + "..."

    def failure_text(self) -> str:
        """Every nested failure reason with its log URL; the main stage's log URL when none is given."""
        parts = [f"{stage.field} {stage.name}: {stage.failure_reason}" + (f" (log: {stage.log_url})"
                                                                           if stage.log_url else "")
                 for stage in self.stages if stage.failure_reason]
        if not parts:
            log_url = next((stage.log_url for stage in self.stages if stage.log_url), "")
            parts = ["Neptune gave no failureReason" + (f" (log: {log_url})" if log_url else "")]
        return "; ".join(parts)


@functools.lru_cache(maxsize=8)
def _boto_client(neptune_endpoint: str, region: str | None, settings: ClientSettings) -> Any:
    """One neptunedata client per cluster address and settings, reused across invocations."""
    config = Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        user_agent_extra=USER_AGENT_EXTRA,
    )
    client = boto3.client("neptunedata", endpoint_url=neptune_endpoint, config=config)
    events = client.meta.events
    events.register(f"before-parameter-build.neptunedata.{_TRAINING_START}", _set_unmodelled_fields_aside)
    events.register(f"before-call.neptunedata.{_TRAINING_START}", _add_unmodelled_fields_to_body)
    return client


_TRAINING_START = "StartMLModelTrainingJob"
_UNMODELLED = "neptune_ml_unmodelled_fields"


def _set_unmodelled_fields_aside(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Take the documented training fields botocore's model lacks out of the parameters it validates."""
    unmodelled = {name: params.pop(name) for name in UNMODELLED_TRAINING_FIELDS if name in params}
    if unmodelled:
        context[_UNMODELLED] = unmodelled


def _add_unmodelled_fields_to_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Put them into the serialized JSON body, before the request is signed."""
    unmodelled = context.get(_UNMODELLED)
    if unmodelled:
        body = json.loads(params.get("body") or b"{}")
        body.update(unmodelled)
        params["body"] = json.dumps(body).encode()


def botocore_retries_client_timeouts(client: Any) -> bool:
    """True when botocore's model marks ClientTimeoutException retryable, so standard mode retries it."""
    try:
        shape = client.meta.service_model.shape_for(CLIENT_TIMEOUT)
    except NoShapeFoundError:  # a model without the shape
        return False
    return shape.metadata.get("retryable") is not None


class NeptuneDataClient:
    """GetMLEndpoint, CreateMLEndpoint and DeleteMLEndpoint on one cluster, errors made readable."""

    def __init__(self, neptune_endpoint: str, role_arn: str | None,
                 settings: ClientSettings | None = None) -> None:
        self._settings = settings or ClientSettings.from_environment()
        self._client = _boto_client(neptune_endpoint, os.environ.get("AWS_REGION"), self._settings)
        self._role = {"neptuneIamRoleArn": role_arn} if role_arn else {}
        self._client_timeout_retries = (
            0 if botocore_retries_client_timeouts(self._client) else self._settings.client_timeout_retries
        )

    def get_endpoint(self, endpoint_id: str) -> EndpointStatus | None:
        """The endpoint's status, or None when Neptune does not know the id."""
        try:
            answer = self._call("GetMLEndpoint", lambda: self._client.get_ml_endpoint(id=endpoint_id, **self._role))
        except NeptuneApiError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        sagemaker = answer.get("endpoint") or {}
        return EndpointStatus(
            endpoint_id=answer.get("id") or endpoint_id,
            status=answer.get("status") or sagemaker.get("status") or "",
            sagemaker_name=sagemaker.get("name") or "",
            sagemaker_arn=sagemaker.get("arn") or "",
            failure_reason=sagemaker.get("failureReason") or "",
        )

    def create_endpoint(self, request: dict[str, Any]) -> StartedEndpoint:
        """CreateMLEndpoint with the request from EndpointSpec.create_request (update or new)."""
        answer = self._call("CreateMLEndpoint", lambda: self._client.create_ml_endpoint(**request))
        return StartedEndpoint(
            endpoint_id=answer.get("id") or request["id"],
            arn=answer.get("arn") or "",
            creation_time_in_millis=int(answer.get("creationTimeInMillis") or 0),
        )

    def delete_endpoint(self, endpoint_id: str) -> bool:
        """Start deleting the endpoint; False when Neptune does not know the id."""
        try:
            self._call("DeleteMLEndpoint", lambda: self._client.delete_ml_endpoint(id=endpoint_id, **self._role))
        except NeptuneApiError as error:
            if error.code == NOT_FOUND:
                return False
            raise
        return True

    def start_job(self, kind: JobKind, request: dict[str, Any]) -> Started:
        """StartML*Job with the request from JobSpec.start_request."""
        start = getattr(self._client, f"start_ml_{kind.method}_job")
        answer = self._call(f"StartML{kind.operation}Job", lambda: start(**request))
        return Started(endpoint_id=answer.get("id") or request["id"], arn=answer.get("arn") or "",
                       creation_time_in_millis=int(answer.get("creationTimeInMillis") or 0))

    def get_job(self, kind: JobKind, job_id: str) -> JobStatus | None:
        """The job's status and nested jobs, or None when Neptune does not know the id."""
        get = getattr(self._client, f"get_ml_{kind.method}_job")
        try:
            answer = self._call(f"GetML{kind.operation}Job", lambda: get(id=job_id, **self._role))
        except NeptuneApiError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        stages = tuple(
            Stage(field, name=str(nested.get("name") or ""), status=str(nested.get("status") or ""),
                  arn=str(nested.get("arn") or ""), output_location=str(nested.get("outputLocation") or ""),
                  failure_reason=str(nested.get("failureReason") or ""),
                  log_url=str(nested.get("cloudwatchLogUrl") or ""))
            for field in kind.stages if isinstance(nested := answer.get(field), dict)
        )
        return JobStatus(str(answer.get("id") or job_id), str(answer.get("status") or ""), stages, kind.main_stage)

    def cancel_job(self, kind: JobKind, job_id: str, clean: bool) -> bool:
        """Start cancelling a running job; False when Neptune does not know the id."""
        cancel = getattr(self._client, f"cancel_ml_{kind.method}_job")
        try:
            self._call(f"CancelML{kind.operation}Job", lambda: cancel(id=job_id, clean=clean, **self._role))
        except NeptuneApiError as error:
            if error.code == NOT_FOUND:
                return False
            raise
        return True

    def _call(self, operation: str, call: Callable[[], _T]) -> _T:
        """Run one API call, retrying 408s when botocore does not and 429s beyond botocore's attempts,
        and turn failures into NeptuneApiError.

        Neptune answers 408 ClientTimeoutException when a request timed out inside the cluster.
        Repeating the call is safe: Get and Delete are idempotent, and a repeated create of an
        endpoint that the first try did start is refused, which the caller resolves by adopting it.
        """
        timeouts = throttles = 0
        while True:
            try:
                return call()
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code") or "UnknownError")
                if code == CLIENT_TIMEOUT and timeouts < self._client_timeout_retries:
                    logger.info("%s timed out in Neptune (408); trying again", operation)
                    time.sleep(min(0.5 * 2**timeouts, 4.0))
                    timeouts += 1
                    continue
                if code == THROTTLED and throttles < self._settings.throttle_retries:
                    logger.info("%s is still throttled (429) after botocore's retries; trying again", operation)
                    time.sleep(random.uniform(0.0, min(THROTTLE_PAUSE_SECONDS * 2**throttles,
                                                       THROTTLE_PAUSE_MAX_SECONDS)))
                    throttles += 1
                    continue
                detail = str(error.response.get("detailedMessage") or error.response.get("Error", {}).get("Message")
                             or "")
                botocore_retries = int(error.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0)
                raise NeptuneApiError(operation, code, detail,
                                      retried=bool(botocore_retries or timeouts or throttles)) from None
            except BotoCoreError as error:
                raise NeptuneApiError(operation, type(error).__name__, str(error), retried=True) from None
