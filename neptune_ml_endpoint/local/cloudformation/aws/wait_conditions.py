"""CloudFormation's own WaitConditionHandle and WaitCondition, played locally.

A handle's Ref is an HTTPS URL on the response receiver; a condition waits, up to its Timeout, for Count
signals with distinct UniqueIds PUT there, and its Data attribute is their JSON. Neither is ever updated
(new properties come with new logical ids), and a handle lives as long as the command that made it.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.assembly import HANDLE_TYPE
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
)

MAX_TIMEOUT_SECONDS = 43200
_CHECK_SECONDS = 0.2


def play(request: CustomResourceRequest, receiver: ResponseReceiver, abandon: Callable[[], bool]) -> CustomResourceAnswer:
    """CloudFormation's handling of one request for a handle or a condition."""
    if request.request_type in ("Delete", "Update"):
        return CustomResourceAnswer(True, request.physical_id or "", "")
    if request.resource_type == HANDLE_TYPE:
        return CustomResourceAnswer(True, receiver.url_for(f"wait-handle-{request.request_id}"), "")
    return _wait(request, receiver, abandon)


def _wait(request: CustomResourceRequest, receiver: ResponseReceiver, abandon: Callable[[], bool]) -> CustomResourceAnswer:
    properties = request.properties
    try:
        handle = urllib.parse.urlsplit(str(properties["Handle"]))
        key = urllib.parse.unquote(handle.path.lstrip("/"))
        count = int(properties.get("Count", 1))
        timeout = float(properties["Timeout"])
    except (KeyError, ValueError) as error:
        return request.failed(f"Properties validation failed: {error}")
    if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        return request.failed(f"Timeout {timeout:g} is not between 1 and {MAX_TIMEOUT_SECONDS}")
    if handle.port != receiver.port:
        # Handles live as long as the command that made them: an interrupted command's wait cannot carry on.
        return request.failed("The WaitConditionHandle belongs to an earlier, interrupted command, and the local "
                              "player cannot carry on its wait. Destroy the stack, or deploy again to roll back "
                              "and retry")
    physical_id = f"arn:aws:cloudformation:waitcondition/{request.logical_id}/{request.request_id}"
    deadline = time.monotonic() + timeout
    while not abandon():
        received: dict[str, Any] = {}
        for signal in receiver.responses(key):
            unique_id = str(signal.get("UniqueId", ""))
            if signal.get("Status") == "FAILURE":
                return CustomResourceAnswer(
                    False, physical_id, f"WaitCondition received failed message: '{signal.get('Reason', '')}' "
                                        f"for uniqueId: {unique_id}")
            received[unique_id] = signal.get("Data", "")
        if len(received) >= count:
            return CustomResourceAnswer(True, physical_id, "", {"Data": json.dumps(received)})
        if time.monotonic() >= deadline:
            return CustomResourceAnswer(False, physical_id, f"WaitCondition timed out. Received {len(received)} "
                                                            f"conditions when expecting {count}")
        time.sleep(_CHECK_SECONDS)
    return CustomResourceAnswer(False, physical_id, "No signal before the command was interrupted", abandoned=True)
