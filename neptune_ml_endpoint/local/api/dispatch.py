"""From (method, path, body) to an answer: routing, rate limit, faults, then the operation.

Independent of HTTP: the server turns a Reply into bytes on the wire (or a reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from neptune_ml_endpoint.local.api import validation
from neptune_ml_endpoint.local.api.endpoints import EndpointStore
from neptune_ml_endpoint.local.api.errors import (
    CLIENT_TIMEOUT,
    INTERNAL_FAILURE,
    TOO_MANY_REQUESTS,
    UNSUPPORTED_OPERATION,
    ApiError,
)
from neptune_ml_endpoint.local.api.faults import Fault, FaultPlan, RateLimiter

COLLECTION_PATH = "/ml/endpoints"
_COLLECTION_OPERATIONS = {"POST": "CreateMLEndpoint", "GET": "ListMLEndpoints"}
_ITEM_OPERATIONS = {"GET": "GetMLEndpoint", "DELETE": "DeleteMLEndpoint"}
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
    fault: str | None = None
    delay: float = 0.0
    error_code: str | None = None


@dataclass
class Dispatcher:
    """Answers requests against one endpoint store, applying the rate limit and faults."""

    store: EndpointStore
    faults: FaultPlan
    limiter: RateLimiter

    def handle(self, method: str, target: str, body: bytes, request_id: str) -> Reply:
        """The reply to one request; ApiErrors become Neptune's error replies."""
        operation: str | None = None
        endpoint_id: str | None = None
        fault: Fault | None = None
        fault_name: str | None = None
        try:
            path, _, query_text = target.partition("?")
            operation, raw_id = route(method, path)
            if raw_id is not None:
                endpoint_id = validation.endpoint_id_from_path(raw_id)
            if not self.limiter.allow():
                fault_name = "rate_limit"
                raise ApiError(TOO_MANY_REQUESTS, "Too many requests; the rate limit is exceeded")
            fault = self.faults.take(operation)
            fault_name = fault.kind if fault else None
            if fault is not None and fault.kind == "reset":
                return Reply(None, None, operation, endpoint_id, fault_name)
            if fault is not None and fault.kind in _REFUSALS:
                raise ApiError(*_REFUSALS[fault.kind])
            query = dict(parse_qsl(query_text, keep_blank_values=True))
            validation.check_role_query(query)
            create = validation.parse_create_request(body) if operation == "CreateMLEndpoint" else None
            endpoint_id = create.endpoint_id if create else endpoint_id
            answer = self._perform(operation, endpoint_id, query, create)
            return Reply(200, answer, operation, endpoint_id or answer.get("id"), fault_name,
                         _delay(fault))
        except ApiError as error:
            return Reply(error.status, error.body(request_id), operation, endpoint_id, fault_name,
                         _delay(fault), error.code)

    def _perform(self, operation: str, endpoint_id: str | None, query: dict[str, str],
                 create: validation.CreateRequest | None) -> dict[str, Any]:
        if create is not None:
            return self.store.create(create)
        if operation == "ListMLEndpoints":
            return {"ids": self.store.ids()[: validation.max_items(query)]}
        assert endpoint_id is not None
        if operation == "GetMLEndpoint":
            return self.store.describe(endpoint_id)
        validation.clean_flag(query)
        return self.store.delete(endpoint_id)


def route(method: str, path: str) -> tuple[str, str | None]:
    """(operation, raw endpoint id from the path or None) for a request line."""
    if path == COLLECTION_PATH:
        operations, raw_id = _COLLECTION_OPERATIONS, None
    elif path.startswith(COLLECTION_PATH + "/"):
        operations, raw_id = _ITEM_OPERATIONS, path[len(COLLECTION_PATH) + 1:]
    else:
        raise ApiError(
            UNSUPPORTED_OPERATION,
            f"Nothing is served at {path!r}; this API serves the ML endpoint operations under "
            f"{COLLECTION_PATH}",
            status=404,
        )
    if method not in operations:
        raise ApiError(
            UNSUPPORTED_OPERATION,
            f"{method} is not supported on {path!r}; use {' or '.join(operations)}",
        )
    return operations[method], raw_id


def _delay(fault: Fault | None) -> float:
    return fault.delay if fault is not None and fault.kind == "slow" else 0.0
