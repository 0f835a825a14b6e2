"""The handler in Lambda execution environments of its own (the local player's Lambda runtime), with this
process's environment: an invocation can be killed midway, and each one's calls to the local API are told
apart by the trace header Lambda gives it."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.local.api import RecordedRequest
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runner import trace_header
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import FunctionRegistry, Invocation
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState
from neptune_ml_endpoint.local.cloudformation.testing import FUNCTION_NAME, HANDLER_DIR, SERVICE_TOKEN


class HandlerEnvironments:
    """The handler's function, its environments forked with this process's variables as they are now."""

    def __init__(self, seconds: float) -> None:
        self._logs = tempfile.TemporaryDirectory(prefix="handler-logs-")
        self.functions = FunctionRegistry({}, Path(self._logs.name))
        self.functions.add(FunctionState(SERVICE_TOKEN, FUNCTION_NAME, "index.handler", int(seconds),
                                         dict(os.environ), str(HANDLER_DIR)))

    def invoke(self, event: dict[str, Any]) -> Invocation:
        return self.functions.invoke(SERVICE_TOKEN, event)

    def close(self) -> None:
        """Stop every environment at once (SIGKILL, as Lambda stops one), running or idle."""
        self.functions.stop_running(grace_seconds=0)
        self._logs.cleanup()


class RunningInvocation:
    """One invocation running in an environment of its own, until it ends or is killed."""

    def __init__(self, event: dict[str, Any], seconds: float) -> None:
        self._environments = HandlerEnvironments(seconds)
        self._thread = threading.Thread(target=self._environments.invoke, args=(event,), daemon=True)
        self._thread.start()

    def kill_when(self, moment: Callable[[], bool], within_seconds: float) -> None:
        """Kill its environment (SIGKILL) once moment() is True, before it ends by itself: it never answers."""
        end = time.monotonic() + within_seconds
        try:
            while not moment():
                assert self._thread.is_alive(), "the function ended before it could be killed"
                assert time.monotonic() < end, "the function never reached the moment to kill it"
                time.sleep(0.005)
        finally:
            self._environments.close()
            self._thread.join()


def start_invocation(event: dict[str, Any], seconds: float) -> RunningInvocation:
    """One invocation in a new execution environment, with this process's environment."""
    return RunningInvocation(event, seconds)


def invoke_concurrently(events: list[dict[str, Any]], seconds: float) -> list[Invocation]:
    """Every event at once, each in an execution environment of its own; how each invocation ended."""
    environments = HandlerEnvironments(seconds)
    try:
        with ThreadPoolExecutor(len(events)) as pool:
            return list(pool.map(environments.invoke, events))
    finally:
        environments.close()


def calls_of(invocation: Invocation, recorded: list[RecordedRequest]) -> int:
    """How many of the recorded requests the invocation sent."""
    root = trace_header(invocation.request_id).split(";")[0]
    return sum(1 for request in recorded if request.trace_id is not None and request.trace_id.startswith(root))
