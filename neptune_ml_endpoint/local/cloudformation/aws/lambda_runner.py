"""Lambda's Python runtime, standard library only, in a process that no part of neptune_ml_endpoint was
imported into before the function's code (its asset carries its own copy of the package's schema).

    python lambda_runner.py REQUEST RESULT     one invocation (the player: lambda_runtime.py)
    start(...) then invoke(...)                a warm execution environment (testing.LocalCloud's pool)

The function's code folder goes first on sys.path, the handler module is imported, and the handler is
called with the event and a context like Lambda's.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
import uuid
from collections.abc import Mapping
from typing import Any


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


def _load_handler(code_dir: str, handler: str) -> Any:
    module_path, _, function_name = handler.rpartition(".")
    sys.path.insert(0, code_dir)
    return getattr(importlib.import_module(module_path.replace("/", ".")), function_name)


def main(argv: list[str]) -> int:
    with open(argv[1]) as stream:
        request = json.load(stream)
    # Log records go to stdout as the runtime sends them: one root handler, level WARNING until the code changes it.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"[%(levelname)s]\t%(asctime)s\t{request['request_id']}\t%(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    sys.path.pop(0)  # this file's folder
    try:
        context = LambdaContext(request["timeout_seconds"], request["function_name"], request["function_arn"],
                                request["request_id"])
        outcome = {"status": "ok", "result": _load_handler(request["code_dir"], request["handler"])(
            request["event"], context)}
    except Exception as error:  # noqa: BLE001 - the runtime reports every error as the result
        traceback.print_exc()
        outcome = {"status": "error", "errorType": type(error).__name__, "errorMessage": str(error)}
    # Written whole or not at all: a runtime stopped mid-write must not leave half a result.
    with open(argv[2] + ".partial", "w") as stream:
        json.dump(outcome, stream, default=str)
    os.replace(argv[2] + ".partial", argv[2])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # Lambda freezes the process after the handler returns; leftover threads must not keep it


# --- a warm execution environment: a process pool's initializer, then one call per invocation ---------

_warm: dict[str, Any] = {}


def start(code_dir: str, handler: str, environment: Mapping[str, str], log_file: str, function_arn: str) -> None:
    """Output to log_file (Lambda sends it to CloudWatch Logs), the function's environment, then the
    handler imported, as the runtime does before the first invocation."""
    with open(log_file, "ab") as log:
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    os.environ.update(environment)
    _warm.update(handler=_load_handler(code_dir, handler), arn=function_arn)


def invoke(event: dict[str, Any], seconds: float) -> None:
    """One invocation with `seconds` left before the function's timeout."""
    arn = _warm["arn"]
    _warm["handler"](event, LambdaContext(seconds, arn.rpartition(":")[2], arn))


def identify(pause: float) -> tuple[int, str]:
    """(process id, file of the schema module the handler uses), after a pause that keeps this
    environment busy so that concurrent calls reach different ones."""
    time.sleep(pause)
    return os.getpid(), str(sys.modules["neptune_ml_endpoint.schema"].__file__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
