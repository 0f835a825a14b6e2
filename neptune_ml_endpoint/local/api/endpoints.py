"""The endpoint store and its state machine.

Statuses advance with time, worked out from timestamps whenever they are read:
Creating -> InService after `Timings.creating` seconds, Updating -> InService after
`Timings.updating`, Deleting -> gone after `Timings.deleting`. An endpoint whose
training or transform job id starts with "failing-" ends Failed instead of InService.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neptune_ml_endpoint.local.api.aws_names import log_url, sagemaker_arn
from neptune_ml_endpoint.local.api.errors import (
    BAD_REQUEST,
    NOT_FOUND,
    PRECONDITIONS_FAILED,
    ApiError,
)
from neptune_ml_endpoint.local.api.validation import CreateRequest

CREATING, UPDATING, DELETING = "Creating", "Updating", "Deleting"
IN_SERVICE, FAILED = "InService", "Failed"
FAILING_JOB_PREFIX = "failing-"


@dataclass
class Timings:
    """Seconds each transition takes; changes apply to transitions that start afterwards.

    Endpoints: creating, updating, deleting. Jobs (jobs.py): processing, training and
    transform (InProgress -> Completed or Failed), stopping (Stopping -> Stopped).
    """

    creating: float = 3.0
    updating: float = 2.0
    deleting: float = 1.0
    processing: float = 3.0
    training: float = 5.0
    transform: float = 3.0
    stopping: float = 1.0


@dataclass
class _Endpoint:
    endpoint_id: str
    creation_time_millis: int
    request: CreateRequest
    transition: str
    settles_at: float
    outcome: str = IN_SERVICE
    failure_reason: str | None = None

    def status(self, now: float) -> str | None:
        """The current status; None once a deletion has finished."""
        if now < self.settles_at:
            return self.transition
        return None if self.transition == DELETING else self.outcome


@dataclass
class EndpointStore:
    """Every endpoint the API knows, guarded by one lock."""

    timings: Timings
    region: str
    account: str
    clock: Callable[[], float] = time.monotonic
    _endpoints: dict[str, _Endpoint] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, request: CreateRequest) -> dict[str, Any]:
        """CreateMLEndpoint: a new endpoint, or a new model for an existing one."""
        with self._lock:
            now = self.clock()
            self._forget_gone(now)
            if request.update:
                endpoint = self._updated(request, now)
            else:
                endpoint = self._created(request, now)
            return {
                "id": endpoint.endpoint_id,
                "arn": self.sagemaker_arn("endpoint", endpoint.endpoint_id),
                "creationTimeInMillis": endpoint.creation_time_millis,
            }

    def describe(self, endpoint_id: str) -> dict[str, Any]:
        """GetMLEndpoint's answer."""
        with self._lock:
            now = self.clock()
            endpoint = self._existing(endpoint_id, now)
            status = endpoint.status(now)
            assert status is not None
            job_kind, job_id = endpoint.request.job
            details: dict[str, Any] = {
                "name": endpoint_id,
                "arn": self.sagemaker_arn("endpoint", endpoint_id),
                "status": status,
                "outputLocation": f"s3://neptune-ml-local-{self.account}-{self.region}/{job_kind}/{job_id}/",
                "cloudwatchLogUrl": log_url(self.region, f"Endpoints/{endpoint_id}"),
            }
            if status == FAILED and endpoint.failure_reason:
                details["failureReason"] = endpoint.failure_reason
            return {
                "id": endpoint_id,
                "status": status,
                "endpoint": details,
                "endpointConfig": {
                    "name": endpoint_id,
                    "arn": self.sagemaker_arn("endpoint-config", endpoint_id),
                },
            }

    def delete(self, endpoint_id: str) -> dict[str, Any]:
        """DeleteMLEndpoint: start deleting (once); the endpoint is gone after Timings.deleting."""
        with self._lock:
            now = self.clock()
            endpoint = self._existing(endpoint_id, now)
            if endpoint.status(now) != DELETING:
                endpoint.transition = DELETING
                endpoint.settles_at = now + self.timings.deleting
            return {"status": DELETING}

    def ids(self) -> list[str]:
        """Every endpoint not yet gone, oldest first."""
        with self._lock:
            self._forget_gone(self.clock())
            return list(self._endpoints)

    def status(self, endpoint_id: str) -> str | None:
        """The endpoint's status; None when it is gone or was never created."""
        with self._lock:
            endpoint = self._endpoints.get(endpoint_id)
            return endpoint.status(self.clock()) if endpoint else None

    def sagemaker_arn(self, resource: str, name: str) -> str:
        """The ARN of the SageMaker resource behind an endpoint."""
        return sagemaker_arn(self.region, self.account, resource, name)

    def _created(self, request: CreateRequest, now: float) -> _Endpoint:
        endpoint_id = request.endpoint_id or _generated_id()
        if endpoint_id in self._endpoints:
            raise ApiError(
                BAD_REQUEST,
                f"The endpoint {endpoint_id!r} already exists; set update to true to point it "
                "at a new model, or choose another id",
            )
        endpoint = _Endpoint(
            endpoint_id=endpoint_id,
            creation_time_millis=int(time.time() * 1000),
            request=request,
            transition=CREATING,
            settles_at=now + self.timings.creating,
        )
        _set_outcome(endpoint, request)
        self._endpoints[endpoint_id] = endpoint
        return endpoint

    def _updated(self, request: CreateRequest, now: float) -> _Endpoint:
        assert request.endpoint_id is not None
        endpoint = self._existing(request.endpoint_id, now)
        status = endpoint.status(now)
        if status not in (IN_SERVICE, FAILED):
            raise ApiError(
                PRECONDITIONS_FAILED,
                f"The endpoint {request.endpoint_id!r} is {status}; it can be updated once it is "
                f"{IN_SERVICE} or {FAILED}",
            )
        endpoint.request = request
        endpoint.transition = UPDATING
        endpoint.settles_at = now + self.timings.updating
        _set_outcome(endpoint, request)
        return endpoint

    def _existing(self, endpoint_id: str, now: float) -> _Endpoint:
        self._forget_gone(now)
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            raise ApiError(NOT_FOUND, f"No ML endpoint with id {endpoint_id!r} was found")
        return endpoint

    def _forget_gone(self, now: float) -> None:
        for endpoint_id in [key for key, ep in self._endpoints.items() if ep.status(now) is None]:
            del self._endpoints[endpoint_id]


def _set_outcome(endpoint: _Endpoint, request: CreateRequest) -> None:
    """InService, or Failed for a job whose id follows the "failing-" convention."""
    job_kind, job_id = request.job
    if job_id.startswith(FAILING_JOB_PREFIX):
        endpoint.outcome = FAILED
        endpoint.failure_reason = f"Model artifacts for {job_kind} job {job_id!r} could not be loaded"
    else:
        endpoint.outcome = IN_SERVICE
        endpoint.failure_reason = None


def _generated_id() -> str:
    """A timestamped id, as Neptune makes when a request has none."""
    return f"endpoint-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"

