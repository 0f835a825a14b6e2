"""The custom-resource protocol as CloudFormation keeps it: the request event, and what it takes as an answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class CustomResourceRequest:
    """One request CloudFormation sends to a custom resource."""

    request_type: str
    logical_id: str
    resource_type: str
    service_token: str
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any] | None = None
    physical_id: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """A new one for each request; the same one when a request is sent again, as Lambda retries it."""

    @property
    def timeout_seconds(self) -> float:
        """The resource's ServiceTimeout property, else CloudFormation's hour."""
        try:
            return float(self.properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_SECONDS))
        except (TypeError, ValueError):
            return DEFAULT_SERVICE_TIMEOUT_SECONDS

    def failed(self, reason: str) -> CustomResourceAnswer:
        """What CloudFormation concludes when the answer is missing or unusable."""
        return CustomResourceAnswer(False, self.physical_id or "", reason)


@dataclass(frozen=True)
class CustomResourceAnswer:
    """What the resource answered (or what CloudFormation concluded when it did not)."""

    succeeded: bool
    physical_id: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    abandoned: bool = False
    """No answer came before the command stopped waiting; physical_id is the one polling knows, if any."""


def custom_resource_event(request: CustomResourceRequest, stack_id: str, request_id: str,
                          response_url: str) -> dict[str, Any]:
    """A custom resource's request event as CloudFormation sends it (properties as given: strings)."""
    event: dict[str, Any] = {
        "RequestType": request.request_type, "ServiceToken": request.service_token, "ResponseURL": response_url,
        "StackId": stack_id, "RequestId": request_id, "LogicalResourceId": request.logical_id,
        "ResourceType": request.resource_type, "ResourceProperties": dict(request.properties)}
    if request.physical_id is not None:
        event["PhysicalResourceId"] = request.physical_id
    if request.old_properties is not None:
        event["OldResourceProperties"] = dict(request.old_properties)
    return event


def answer_of(request: CustomResourceRequest, stack_id: str, body: Mapping[str, Any]) -> CustomResourceAnswer:
    """The answer delivered to the request's ResponseURL, checked as CloudFormation checks it."""
    size = len(json.dumps(body).encode())
    status = body.get("Status")
    physical_id = str(body.get("PhysicalResourceId") or "")
    if size > MAX_RESPONSE_BYTES:
        return request.failed(f"Response object is too long ({size} bytes, at most {MAX_RESPONSE_BYTES})")
    if status not in ("SUCCESS", "FAILED"):
        return request.failed(f"Invalid response status {status!r}")
    if (body.get("RequestId"), body.get("LogicalResourceId"), body.get("StackId")) != (
            request.request_id, request.logical_id, stack_id):
        return request.failed("Response does not match the request (StackId, RequestId or LogicalResourceId)")
    if not physical_id and status == "SUCCESS":
        return request.failed("Invalid PhysicalResourceId")
    data = body.get("Data") or {}
    return CustomResourceAnswer(status == "SUCCESS", physical_id or request.physical_id or "",
                                str(body.get("Reason") or ""), data if isinstance(data, dict) else {})
