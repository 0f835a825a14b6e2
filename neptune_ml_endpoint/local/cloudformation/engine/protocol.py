"""CloudFormation's side of the custom-resource protocol: send a request event, await the answer."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import Invocation
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
MAX_RESPONSE_BYTES = 4096
_CHECK_SECONDS = 0.2
_SILENCE_GRACE_SECONDS = 1.0

class Functions(Protocol):
    """The functions that service tokens name."""

    def knows(self, function_arn: str) -> bool: ...

    def invoke(self, function_arn: str, event: Mapping[str, Any]) -> Invocation: ...


def custom_resource_event(request: CustomResourceRequest, stack_id: str, request_id: str,
                          response_url: str) -> dict[str, Any]:
    """A custom resource's request event as CloudFormation sends it (properties as given: strings)."""
    event: dict[str, Any] = {
        "RequestType": request.request_type,
        "ServiceToken": request.service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": request.logical_id,
        "ResourceType": request.resource_type,
        "ResourceProperties": dict(request.properties),
    }
    if request.physical_id is not None:
        event["PhysicalResourceId"] = request.physical_id
    if request.old_properties is not None:
        event["OldResourceProperties"] = dict(request.old_properties)
    return event


BusyCheck = Callable[[str], bool]
"""busy(request_id): True while polling for that request is set up or running."""
PolledPhysicalId = Callable[[str], str | None]
"""physical_id(request_id): the physical id the function handed over to polling for that request, if any."""


def _never() -> bool:
    return False


def _unknown(request_id: str) -> str | None:
    return None


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
        value = self.properties.get("ServiceTimeout")
        try:
            return float(value) if value is not None else DEFAULT_SERVICE_TIMEOUT_SECONDS
        except (TypeError, ValueError):
            return DEFAULT_SERVICE_TIMEOUT_SECONDS


@dataclass(frozen=True)
class CustomResourceAnswer:
    """What the resource answered (or what CloudFormation concluded when it did not)."""

    succeeded: bool
    physical_id: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    abandoned: bool = False
    """No answer came before the command stopped waiting; physical_id is the one polling knows, if any."""


class CloudFormationSide:
    """Builds request events, invokes the service token's function and waits for its answer."""

    def __init__(self, stack_id: str, receiver: ResponseReceiver, functions: Functions, busy: BusyCheck,
                 abandon: Callable[[], bool] = _never, polled_physical_id: PolledPhysicalId = _unknown) -> None:
        """abandon(): True once answers are no longer awaited (the command was interrupted)."""
        self.stack_id = stack_id
        self._receiver = receiver
        self._functions = functions
        self._busy = busy
        self._abandon = abandon
        self._polled_physical_id = polled_physical_id

    def event(self, request: CustomResourceRequest, request_id: str) -> dict[str, Any]:
        """The event as CloudFormation sends it."""
        return custom_resource_event(request, self.stack_id, request_id, self._receiver.url_for(request_id))

    def send(self, request: CustomResourceRequest) -> CustomResourceAnswer:
        """Send the request and wait for the answer, up to the resource's ServiceTimeout or until abandoned."""
        request_id = request.request_id
        event = self.event(request, request_id)
        invocations: list[Invocation] = []
        finished = threading.Event()

        def run() -> None:
            try:
                invocations.append(self._functions.invoke(request.service_token, event))
            finally:
                finished.set()

        if not self._functions.knows(request.service_token):
            return self._failure(request, f"ServiceToken {request.service_token} is not a function of this app")
        threading.Thread(target=run, name=f"invoke-{request.logical_id}", daemon=True).start()
        body = self._await(request, request_id, finished)
        if body is None and self._abandon():
            physical_id = self._polled_physical_id(request_id) or request.physical_id or ""
            return CustomResourceAnswer(False, physical_id, "No answer before the command was interrupted",
                                        abandoned=True)
        if body is None:
            return self._failure(request, self._silence(request, request_id, finished, invocations))
        return self._answer_of(request, request_id, body)

    def _silence(self, request: CustomResourceRequest, request_id: str, finished: threading.Event,
                 invocations: list[Invocation]) -> str:
        """Why no answer came, with the first invocation's error and log."""
        detail = ""
        if invocations:
            first = invocations[0]
            detail = f" ({first.error}; log: {first.log_file})" if first.error else f" (log: {first.log_file})"
        if finished.is_set() and not self._busy(request_id):
            return f"The function ended without sending a response{detail}"
        return (f"CloudFormation did not receive a response from your Custom Resource within "
                f"{request.timeout_seconds:g} s. Please check your logs for requestId [{request_id}]{detail}")

    def _await(self, request: CustomResourceRequest, request_id: str,
               finished: threading.Event) -> dict[str, Any] | None:
        deadline = time.monotonic() + request.timeout_seconds
        silent_since: float | None = None
        while time.monotonic() < deadline and not self._abandon():
            try:
                return self._receiver.wait_for(request_id, timeout=_CHECK_SECONDS)
            except TimeoutError:
                pass
            if finished.is_set() and not self._busy(request_id):
                silent_since = silent_since or time.monotonic()
                if time.monotonic() - silent_since >= _SILENCE_GRACE_SECONDS:
                    return None
            else:
                silent_since = None
        return None

    def _answer_of(self, request: CustomResourceRequest, request_id: str,
                   body: Mapping[str, Any]) -> CustomResourceAnswer:
        """Check the answer as CloudFormation does and turn it into a CustomResourceAnswer."""
        size = len(json.dumps(body).encode())
        status = body.get("Status")
        physical_id = str(body.get("PhysicalResourceId") or "")
        if size > MAX_RESPONSE_BYTES:
            return self._failure(request, f"Response object is too long ({size} bytes, at most {MAX_RESPONSE_BYTES})")
        if status not in ("SUCCESS", "FAILED"):
            return self._failure(request, f"Invalid response status {status!r}")
        if body.get("RequestId") != request_id or body.get("LogicalResourceId") != request.logical_id \
                or body.get("StackId") != self.stack_id:
            return self._failure(request, "Response does not match the request (StackId, RequestId or "
                                          "LogicalResourceId)")
        if not physical_id and status == "SUCCESS":
            return self._failure(request, "Invalid PhysicalResourceId")
        data = body.get("Data") or {}
        return CustomResourceAnswer(
            succeeded=status == "SUCCESS",
            physical_id=physical_id or request.physical_id or "",
            reason=str(body.get("Reason") or ""),
            data=data if isinstance(data, dict) else {},
        )

    @staticmethod
    def _failure(request: CustomResourceRequest, reason: str) -> CustomResourceAnswer:
        return CustomResourceAnswer(False, request.physical_id or "", reason)
