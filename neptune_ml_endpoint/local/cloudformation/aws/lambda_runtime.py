"""Invoke a Lambda function's code locally, one process per invocation, like the Python runtime."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState

RUNNER = Path(__file__).with_name("lambda_runner.py")
FINISHING_SECONDS = 2.0
"""How long the end of a command lets running invocations finish by themselves before stopping them."""
INIT_SECONDS = 10.0
"""How long the runtime may take to start and import the handler, on top of the timeout."""

_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended."""

    request_id: str
    error: str | None
    timed_out: bool
    seconds: float
    log_file: Path | None
    """The invocation's own log file; None when its output was captured instead."""
    output: str = ""
    """The captured output (the handler's log lines), when there is no log file."""

    @property
    def succeeded(self) -> bool:
        return self.error is None and not self.timed_out


class LocalLambda:
    """One function: its code folder, handler, timeout and environment."""

    def __init__(self, function: FunctionState, runtime_environment: Mapping[str, str], log_dir: Path,
                 timeout_seconds: float | None = None, running: set[subprocess.Popen[bytes]] | None = None) -> None:
        self.function = function
        self._running = running if running is not None else set()
        self.timeout_seconds = float(timeout_seconds if timeout_seconds is not None else function.timeout_seconds)
        self._runtime_environment = dict(runtime_environment)
        self._log_dir = Path(log_dir) / function.function_name

    def environment(self, request_id: str) -> dict[str, str]:
        """The process environment: the function's variables, then the runtime's own."""
        inherited = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        return {
            **inherited,
            **self.function.environment,
            **self._runtime_environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.function.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": request_id,
            "LAMBDA_TASK_ROOT": self.function.code_dir,
            "_HANDLER": self.function.handler,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def log_dir(self) -> Path:
        """The folder of this function's logs."""
        return self._log_dir

    def invoke(self, event: Mapping[str, Any], capture_output: bool = False) -> Invocation:
        """Run the handler with event and wait for it, stopping it when its time is up.

        Its output goes to a log file of its own, or with capture_output into Invocation.output.
        """
        request_id = str(uuid.uuid4())
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self._log_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{request_id}.log"
        request = {
            "code_dir": self.function.code_dir,
            "handler": self.function.handler,
            "function_name": self.function.function_name,
            "function_arn": self.function.arn,
            "request_id": request_id,
            "timeout_seconds": self.timeout_seconds,
            "event": event,
        }
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="lambda-invoke-") as scratch:
            request_path, result_path = Path(scratch, "request.json"), Path(scratch, "result.json")
            request_path.write_text(json.dumps(request))
            if capture_output:
                log_file = Path(scratch, "output.log")
            with log_file.open("w") as log:
                process = subprocess.Popen(
                    [sys.executable, str(RUNNER), str(request_path), str(result_path)],
                    cwd=self.function.code_dir, env=self.environment(request_id),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
                self._running.add(process)
                try:
                    timed_out = _wait_or_stop(process, INIT_SECONDS + self.timeout_seconds)
                finally:
                    self._running.discard(process)
            error = _error_of(result_path, process.returncode, timed_out)
            seconds = time.monotonic() - started
            if capture_output:
                return Invocation(request_id, error, timed_out, seconds, None, log_file.read_text(errors="replace"))
        return Invocation(request_id, error, timed_out, seconds, log_file)


def _wait_or_stop(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait for the process; True when it ran out of time and was stopped."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def _error_of(result_path: Path, exit_code: int | None, timed_out: bool) -> str | None:
    if timed_out:
        return "Task timed out"
    if not result_path.is_file():
        return f"Runtime exited with code {exit_code} before the handler returned"
    outcome = json.loads(result_path.read_text())
    if outcome.get("status") == "ok":
        return None
    return f"{outcome.get('errorType')}: {outcome.get('errorMessage')}"


class FunctionRegistry:
    """The functions of the deployed stacks, found by ARN (or name) as EventBridge and CloudFormation do."""

    def __init__(self, runtime_environment: Mapping[str, str], log_dir: Path,
                 timeout_seconds: float | None = None) -> None:
        self._runtime_environment = dict(runtime_environment)
        self._log_dir = Path(log_dir)
        self._timeout_seconds = timeout_seconds
        self._by_name: dict[str, LocalLambda] = {}
        self._running: set[subprocess.Popen[bytes]] = set()

    def add(self, function: FunctionState, environment: Mapping[str, str] | None = None) -> None:
        """Make a function invokable (again, with its latest settings), with extra runtime variables."""
        self._by_name[function.function_name] = LocalLambda(
            function, {**self._runtime_environment, **(environment or {})}, self._log_dir, self._timeout_seconds,
            self._running)

    def knows(self, function_arn: str) -> bool:
        return _function_name(function_arn) in self._by_name

    def invoke(self, function_arn: str, event: Mapping[str, Any], capture_output: bool = False) -> Invocation:
        """Invoke the function an ARN names and wait for it; KeyError when no such function."""
        return self._by_name[_function_name(function_arn)].invoke(event, capture_output)

    def log_dir(self, function_arn: str) -> Path:
        """The folder of the logs of the function an ARN names; KeyError when no such function."""
        return self._by_name[_function_name(function_arn)].log_dir

    def stop_running(self, grace_seconds: float = FINISHING_SECONDS) -> None:
        """Stop every invocation still running (their requests are no longer awaited), once those
        finishing by themselves within grace_seconds have (a handler may still work after answering)."""
        deadline = time.monotonic() + grace_seconds
        while any(process.poll() is None for process in list(self._running)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in list(self._running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def _function_name(function_arn: str) -> str:
    """A function's name from its ARN (or the name itself), without version or alias."""
    parts = function_arn.split(":")
    return parts[parts.index("function") + 1] if "function" in parts else parts[0]
