"""Invoke a Lambda function's code locally in warm execution environments, processes of their own, as Lambda does."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.local.cloudformation.aws.lambda_runner import LENGTH_DIGITS
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState

RUNNER = Path(__file__).with_name("lambda_runner.py")
FINISHING_SECONDS = 2.0
"""How long the end of a command lets running invocations finish by themselves before stopping them."""
INIT_SECONDS = 10.0
"""How long a new environment may take to import the handler, on top of its first invocation's timeout."""

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


class _ForkServer:
    """The process (lambda_runner.py --fork-server) every environment of this process is forked from, so each
    starts with the AWS SDK already imported; started at first use, it ends when this process does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channel: socket.socket | None = None
        self._replies: Any = None

    def ask(self, request: Mapping[str, Any], environment_end: socket.socket | None = None) -> dict[str, Any]:
        body = json.dumps(request).encode()
        with self._lock:
            if self._channel is None:
                self._channel, server_end = socket.socketpair()
                with server_end:
                    subprocess.Popen([sys.executable, str(RUNNER), "--fork-server"], stdin=server_end.fileno(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                self._replies = self._channel.makefile("rb")
            fds = [] if environment_end is None else [environment_end.fileno()]
            socket.send_fds(self._channel, [f"{len(body):0{LENGTH_DIGITS}d}".encode() + body], fds)
            answer: dict[str, Any] = json.loads(self._replies.readline())
        return answer


_FORK_SERVER = _ForkServer()


class _Environment:
    """One execution environment: a process forked by the fork server, its stdin and stdout one socket."""

    def __init__(self, code_dir: str, environment: Mapping[str, str]) -> None:
        self._socket, environment_end = socket.socketpair()
        with environment_end:
            fresh = any(Path(code_dir, package).exists() for package in ("boto3", "botocore"))
            self.pid: int = _FORK_SERVER.ask({"cwd": code_dir, "env": dict(environment), "fresh": fresh},
                                             environment_end)["pid"]
        self._results = self._socket.makefile("rb")
        self._lock = threading.Lock()
        self.exit_code: int | None = None
        """How the process ended, once stopped."""

    def run(self, request: Mapping[str, Any], seconds: float) -> tuple[dict[str, Any] | None, bool]:
        """Send one request: its outcome (None when the runtime ended without one), and whether it ran out of
        time and was stopped."""
        try:
            self._socket.sendall(json.dumps(request).encode() + b"\n")
        except OSError:
            return None, False
        ready, _, _ = select.select([self._socket], [], [], seconds)
        line = self._results.readline() if ready else b""
        if not line:
            self.stop()
            self._socket.close()
            return None, not ready
        outcome: dict[str, Any] = json.loads(line)
        return outcome, False

    def stop(self) -> None:
        """Stop the process and its process group (once; the fork server reaps it). Its socket stays open: a
        thread awaiting the outcome in run() sees it end and closes it."""
        with self._lock:
            if self.exit_code is None:
                self.exit_code = _FORK_SERVER.ask({"kill": self.pid})["exit_code"]


class LocalLambda:
    """One function: its code folder, handler, timeout and environment, and its warm execution environments.

    As Lambda does, an invocation takes an idle environment (a lambda_runner.py process) or starts one, and
    the environment is kept for later invocations; one that ran out of time is stopped, not kept.
    """

    def __init__(self, function: FunctionState, runtime_environment: Mapping[str, str], log_dir: Path,
                 timeout_seconds: float | None = None, running: set[_Environment] | None = None) -> None:
        self.function = function
        self._running = running if running is not None else set()
        self._idle: list[_Environment] = []
        self._lock = threading.Lock()
        self.timeout_seconds = float(timeout_seconds if timeout_seconds is not None else function.timeout_seconds)
        self._runtime_environment = dict(runtime_environment)
        self.log_dir = Path(log_dir) / function.function_name
        """The folder of this function's logs."""

    def environment(self) -> dict[str, str]:
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
            "AWS_LAMBDA_LOG_STREAM_NAME": str(uuid.uuid4()),
            "LAMBDA_TASK_ROOT": self.function.code_dir,
            "_HANDLER": self.function.handler,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def invoke(self, event: Mapping[str, Any] | None, capture_output: bool = False,
               seconds: float | None = None) -> Invocation:
        """Run the handler with event and wait for it, stopping it when its time (the function's timeout,
        or `seconds`) is up; event None only starts an environment and imports the handler.

        Its output goes to a log file of its own, or with capture_output into Invocation.output.
        """
        request_id = str(uuid.uuid4())
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{request_id}.log"
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="lambda-invoke-") as scratch:
            if capture_output:
                log_file = Path(scratch, "output.log")
            request = {"code_dir": self.function.code_dir, "handler": self.function.handler,
                       "function_name": self.function.function_name, "function_arn": self.function.arn,
                       "request_id": request_id, "timeout_seconds": seconds or self.timeout_seconds,
                       "log_file": str(log_file),
                       **({} if event is None else {"event": event})}
            with self._lock:
                process = self._idle.pop() if self._idle else None
            init_seconds = 0.0 if process else INIT_SECONDS
            if process is None:
                process = _Environment(self.function.code_dir, self.environment())
            self._running.add(process)
            try:
                outcome, timed_out = process.run(request, init_seconds + (seconds or self.timeout_seconds))
            finally:
                self._running.discard(process)
            if outcome is not None and not timed_out:
                with self._lock:
                    self._idle.append(process)
            error = _error_of(outcome, process.exit_code, timed_out)
            seconds = time.monotonic() - started
            if capture_output:
                return Invocation(request_id, error, timed_out, seconds, None, log_file.read_text(errors="replace"))
        return Invocation(request_id, error, timed_out, seconds, log_file)

    def stop(self) -> None:
        """Stop the idle environments."""
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.stop()


def _error_of(outcome: dict[str, Any] | None, exit_code: int | None, timed_out: bool) -> str | None:
    if timed_out:
        return "Task timed out"
    if outcome is None:
        return f"Runtime exited with code {exit_code} before the handler returned"
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
        self._running: set[_Environment] = set()

    def add(self, function: FunctionState, environment: Mapping[str, str] | None = None) -> None:
        """Make a function invokable (again, with its latest settings), with extra runtime variables."""
        if function.function_name in self._by_name:
            self._by_name[function.function_name].stop()
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
        """Stop every environment: those running an invocation (its request is no longer awaited) once
        invocations finishing by themselves within grace_seconds have (a handler may still work after
        answering), and the idle ones."""
        deadline = time.monotonic() + grace_seconds
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in list(self._running):
            process.stop()
        for function in self._by_name.values():
            function.stop()


def _function_name(function_arn: str) -> str:
    """A function's name from its ARN (or the name itself), without version or alias."""
    parts = function_arn.split(":")
    return parts[parts.index("function") + 1] if "function" in parts else parts[0]
