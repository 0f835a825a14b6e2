"""A Lambda execution environment, standard library only, in a process that no part of neptune_ml_endpoint was
imported into before the function's code (its asset carries its own copy of the package's schema).

    python lambda_runner.py                  warm (in the function's code folder): each line on stdin is one
                                             invocation's request (JSON), its output goes to the request's log
                                             file, its result is a line on stdout
    python lambda_runner.py --fork-server    what lambda_runtime.py starts: imports the AWS SDK for Python, as
                                             Lambda's runtime provides it, once; then forks each warm environment
                                             (see fork_server)

The handler is imported at the first invocation, as Lambda's Python runtime does, and called with the event
and a context like Lambda's.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
import uuid
from typing import Any

LENGTH_DIGITS = 8
"""A request to the fork server is its JSON's length in this many digits, the JSON, and the environment's socket."""
PRELOADED_SERVICES = ("neptunedata", "events", "lambda")
"""The AWS services whose API models the fork server reads for every environment: those the handler calls."""


class LambdaContext:
    """The attributes and method of the Lambda runtime's context object that handlers use."""

    def __init__(self, seconds: float, function_name: str, invoked_function_arn: str,
                 aws_request_id: str | None = None) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = "128"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = self.aws_request_id
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the runtime would stop the invocation."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def trace_header(request_id: str) -> str:
    """The trace header Lambda gives an invocation in _X_AMZN_TRACE_ID, its Root made from the RequestId:
    botocore sends it with each of the invocation's calls (X-Amzn-Trace-Id), which tells them apart."""
    digits = request_id.replace("-", "")
    return f"Root=1-{digits[:8]}-{digits[8:32]};Sampled=0"


class _Runtime:
    """The runtime's state in one environment: the log handler and, after the first invocation, the handler."""

    def __init__(self) -> None:
        # Log records go to stdout as the runtime sends them: one root handler, level WARNING until the code
        # changes it.
        self.log_handler = logging.StreamHandler(sys.stdout)
        logging.getLogger().addHandler(self.log_handler)
        logging.getLogger().setLevel(logging.WARNING)
        sys.path.pop(0)  # this file's folder
        self.handler: Any = None

    def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        """One invocation (with no event: only import the handler); its output to request["log_file"], if any."""
        sys.stdout.flush()
        sys.stderr.flush()
        if "log_file" in request:
            with open(request["log_file"], "ab") as log:
                os.dup2(log.fileno(), sys.stdout.fileno())
                os.dup2(log.fileno(), sys.stderr.fileno())
        self.log_handler.setFormatter(logging.Formatter(f"[%(levelname)s]\t%(asctime)s\t{request['request_id']}\t"
                                                        "%(message)s"))
        try:
            if self.handler is None:
                module_path, _, function_name = request["handler"].rpartition(".")
                sys.path.insert(0, request["code_dir"])
                self.handler = getattr(importlib.import_module(module_path.replace("/", ".")), function_name)
            context = LambdaContext(request["timeout_seconds"], request["function_name"], request["function_arn"],
                                    request["request_id"])
            os.environ["_X_AMZN_TRACE_ID"] = trace_header(request["request_id"])
            outcome = {"status": "ok"} if "event" not in request else {
                "status": "ok", "result": self.handler(request["event"], context)}
        except Exception as error:  # noqa: BLE001 - the runtime reports every error as the result
            traceback.print_exc()
            outcome = {"status": "error", "errorType": type(error).__name__, "errorMessage": str(error)}
        sys.stdout.flush()
        sys.stderr.flush()
        return outcome


def serve_warm() -> None:
    """Each line on stdin is one invocation's request; each result is a line on stdout."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    runtime = _Runtime()
    for line in sys.stdin:
        results.write(json.dumps(runtime.invoke(json.loads(line)), default=str) + "\n")
        results.flush()


def fork_server(channel: socket.socket) -> None:
    """Fork a warm environment per request on the channel (stdin, a Unix socket), or stop and reap one.

    A fork request is {"cwd", "env", "fresh"} with the environment's socket, which becomes its stdin and
    stdout; the answer is {"pid"}. The environment gets a session and process group of its own, and the
    function's environment variables only; with "fresh" (its code brings its own AWS SDK) it runs this file
    anew instead. {"kill": pid} stops an environment and its process group; the answer is {"exit_code"}.
    An environment is reaped only then, so its pid cannot be reused while the caller may still name it. When
    the channel ends (the process that asked has ended, even by SIGKILL), every environment still running is
    stopped too.
    """
    import boto3  # what every environment would import first, and what makes its first client

    boto3.session.Session(aws_access_key_id="-", aws_secret_access_key="-", region_name="us-east-1").client(
        "sts", endpoint_url="http://127.0.0.1:9")
    # boto3.client() in an environment uses this default session: its API models are read once, here. Nothing
    # else of it is settled before the fork (credentials, region), so each environment's variables decide those.
    import botocore.session

    default = botocore.session.get_session()
    boto3.setup_default_session(botocore_session=default)
    loader = default.get_component("data_loader")
    for service in PRELOADED_SERVICES:
        loader.load_service_model(service, "service-2")
        loader.load_service_model(service, "endpoint-rule-set-1")
    environments: set[int] = set()
    while True:
        header, fds, _, _ = socket.recv_fds(channel, LENGTH_DIGITS, 1)
        if not header:  # the process that ran the environments has ended: so do they, whatever they were doing
            for pid in environments:
                _kill(pid)
            return
        while len(header) < LENGTH_DIGITS:
            header += channel.recv(LENGTH_DIGITS - len(header))
        body = b""
        while len(body) < int(header):
            body += channel.recv(int(header) - len(body))
        request = json.loads(body)
        if "kill" in request:
            environments.discard(request["kill"])
            answer = {"exit_code": _kill(request["kill"])}
        else:
            pid = os.fork()
            if pid == 0:  # the child serves invocations until its stdin ends, then exits, never returning here
                exit_code = 1
                try:
                    channel.close()
                    _become_environment(fds[0], request)
                    exit_code = 0
                finally:
                    os._exit(exit_code)
            os.close(fds[0])
            environments.add(pid)
            answer = {"pid": pid}
        channel.sendall(json.dumps(answer).encode() + b"\n")


def _kill(pid: int) -> int:
    """Stop an environment and its process group, and reap it: its exit code."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _become_environment(fd: int, request: dict[str, Any]) -> None:
    """In a forked child: the environment's session, standard streams, folder and variables; then serve
    invocations until stdin ends."""
    os.setsid()
    os.dup2(fd, 0)
    os.dup2(fd, 1)
    os.close(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    os.chdir(request["cwd"])
    if request["fresh"]:
        os.execve(sys.executable, [sys.executable, __file__], request["env"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.dont_write_bytecode = True
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout, sys.stderr = (io.TextIOWrapper(io.FileIO(number, "w", closefd=False), write_through=True)
                              for number in (1, 2))  # unbuffered, as PYTHONUNBUFFERED makes them
    serve_warm()


def main(argv: list[str]) -> None:
    if argv[1:] == ["--fork-server"]:
        fork_server(socket.socket(fileno=0))
        return
    serve_warm()


if __name__ == "__main__":
    main(sys.argv)
