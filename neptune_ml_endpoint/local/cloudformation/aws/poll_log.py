"""crhelper's poll invocations, logged one line each in the function's polls.log instead of a file each.

A poll that only finds the resource still on its way writes nothing of its own; its line says
what the poll came to: no answer yet, the answer it sent, or how the invocation failed. What
a poll did write (the answering poll's log lines) follows its line, indented.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import Invocation

POLLS_LOG = "polls.log"

Answers = Callable[[str], list[dict[str, Any]]]
"""answers(request_id): the answers delivered to the request's ResponseURL so far."""


class PolledFunctions(Protocol):
    def invoke(self, function_arn: str, event: Mapping[str, Any], capture_output: bool = False) -> Invocation: ...

    def log_dir(self, function_arn: str) -> Path: ...


class PollLog:
    """Invokes a polling rule's target with its output captured, then appends the poll's line."""

    def __init__(self, functions: PolledFunctions, answers: Answers) -> None:
        self._functions = functions
        self._answers = answers
        self._lock = threading.Lock()

    def invoke(self, function_arn: str, event: Mapping[str, Any]) -> Invocation:
        invocation = self._functions.invoke(function_arn, event, capture_output=True)
        entry = poll_entry(event, invocation, self._answers(str(event.get("RequestId", ""))))
        log_dir = self._functions.log_dir(function_arn)
        with self._lock:
            log_dir.mkdir(parents=True, exist_ok=True)
            with (log_dir / POLLS_LOG).open("a") as log:
                log.write(entry)
        return invocation


def poll_entry(event: Mapping[str, Any], invocation: Invocation, answers: list[dict[str, Any]]) -> str:
    """The poll's line (and, indented after it, whatever the poll wrote)."""
    clock = time.strftime("%Y-%m-%dT%H:%M:%S")
    request = (f"{event.get('RequestType', '?')} {event.get('LogicalResourceId', '?')} "
               f"(RequestId {event.get('RequestId', '?')})")
    line = f"{clock} {invocation.request_id} poll of {request}: {_seen(event, invocation, answers)}\n"
    written = [f"    {text}\n" for text in invocation.output.splitlines() if text.strip()]
    return line + "".join(written)


def _seen(event: Mapping[str, Any], invocation: Invocation, answers: list[dict[str, Any]]) -> str:
    if answers:
        answer = answers[0]
        reason = f": {answer['Reason']}" if answer.get("Status") == "FAILED" and answer.get("Reason") else ""
        return f"answered {answer.get('Status')} with physical id {answer.get('PhysicalResourceId')}{reason}"
    if invocation.error is not None:
        return f"the invocation failed ({invocation.error}) without an answer"
    data = event.get("CrHelperData")
    waiting_for = data.get("PhysicalResourceId") if isinstance(data, Mapping) else None
    return f"no answer yet (physical id {waiting_for or 'not known yet'}); the rule polls again"
