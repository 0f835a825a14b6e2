"""From (method, path, body) to an answer: routing, rate limit, faults, then the operation.

Independent of HTTP: the server turns a Reply into bytes on the wire (or a reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from neptune_ml_endpoint.local.api import job_validation, validation
from neptune_ml_endpoint.local.api.endpoints import EndpointStore
from neptune_ml_endpoint.local.api.errors import (
    CLIENT_TIMEOUT,
    INTERNAL_FAILURE,
    TOO_MANY_REQUESTS,
    ApiError,
)
from neptune_ml_endpoint.local.api.faults import Fault, FaultPlan, RateLimiter
from neptune_ml_endpoint.local.api.jobs import JobStore
from neptune_ml_endpoint.local.api.routes import ENDPOINTS, TRAINING, TRANSFORM, Resource, route

_ENDPOINT_MODEL_JOBS = {"training": (TRAINING, "mlModelTrainingJobId"),
                        "transform": (TRANSFORM, "mlModelTransformJobId")}
_REFUSALS = {
    "throttle": (TOO_MANY_REQUESTS, "Too many requests; injected throttle fault"),
    "timeout": (CLIENT_TIMEOUT, "The request timed out; injected timeout fault"),
    "server_error": (INTERNAL_FAILURE, "Internal failure; injected server_error fault"),
}


@dataclass(frozen=True)
class Reply:
    """What to answer: a status and JSON body, or (status None) a connection reset."""

    status: int | None
    body: dict[str, Any] | None
    operation: str | None
    endpoint_id: str | None = None
    """The id of the endpoint or job the request names."""
    fault: str | None = None
    delay: float = 0.0
    error_code: str | None = None


@dataclass
class Dispatcher:
    """Answers requests against the endpoint and job stores, applying the rate limit and faults."""

    store: EndpointStore
    jobs: JobStore
    faults: FaultPlan
    limiter: RateLimiter

    def handle(self, method: str, target: str, body: bytes, request_id: str) -> Reply:
        """The reply to one request; ApiErrors become Neptune's error replies."""
        operation: str | None = None
        resource_id: str | None = None
        fault: Fault | None = None
        fault_name: str | None = None
        try:
            path, _, query_text = target.partition("?")
            resource, operation, raw_id = route(method, path)
            if raw_id is not None:
                resource_id = _id_from_path(resource, raw_id)
            if not self.limiter.allow():
                fault_name = "rate_limit"
                raise ApiError(TOO_MANY_REQUESTS, "Too many requests; the rate limit is exceeded")
            fault = self.faults.take(operation)
            fault_name = fault.kind if fault else None
            if fault is not None and fault.kind == "reset":
                return Reply(None, None, operation, resource_id, fault_name)
            if fault is not None and fault.kind in _REFUSALS:
                raise ApiError(*_REFUSALS[fault.kind])
            query = dict(parse_qsl(query_text, keep_blank_values=True))
            validation.check_role_query(query)
            if operation == resource.start:
                request = _parse_start(resource, body)
                resource_id = _requested_id(request)
                answer = self._start(request)
            else:
                answer = self._perform(resource, operation, resource_id, query)
            return Reply(200, answer, operation, resource_id or answer.get("id"), fault_name,
                         _delay(fault))
        except ApiError as error:
            return Reply(error.status, error.body(request_id), operation, resource_id, fault_name,
                         _delay(fault), error.code)

    def _start(self, request: validation.CreateRequest | job_validation.JobRequest) -> dict[str, Any]:
        if isinstance(request, job_validation.JobRequest):
            return self.jobs.start(request)
        job_kind, job_id = request.job
        kind, field_name = _ENDPOINT_MODEL_JOBS[job_kind]
        self.jobs.check_known_job(kind, job_id, field_name)
        return self.store.create(request)

    def _perform(self, resource: Resource, operation: str, resource_id: str | None,
                 query: dict[str, str]) -> dict[str, Any]:
        if operation == resource.list:
            ids = self.store.ids() if resource is ENDPOINTS else self.jobs.ids(resource)
            return {"ids": ids[: validation.max_items(query, operation)]}
        assert resource_id is not None
        if resource is ENDPOINTS:
            if operation == resource.get:
                return self.store.describe(resource_id)
            validation.clean_flag(query)
            return self.store.delete(resource_id)
        if operation == resource.get:
            return self.jobs.describe(resource, resource_id)
        return self.jobs.cancel(resource, resource_id, validation.clean_flag(query))


def _parse_start(resource: Resource, body: bytes) -> validation.CreateRequest | job_validation.JobRequest:
    if resource is ENDPOINTS:
        return validation.parse_create_request(body)
    return job_validation.parse_start_request(resource, body)


def _requested_id(request: validation.CreateRequest | job_validation.JobRequest) -> str | None:
    return request.endpoint_id if isinstance(request, validation.CreateRequest) else request.job_id


def _id_from_path(resource: Resource, raw_id: str) -> str:
    if resource is ENDPOINTS:
        return validation.endpoint_id_from_path(raw_id)
    return job_validation.job_id_from_path(raw_id)


def _delay(fault: Fault | None) -> float:
    return fault.delay if fault is not None and fault.kind == "slow" else 0.0
