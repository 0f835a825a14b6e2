"""One Lambda invocation, run in a process of its own the way the Python runtime runs it.

Executed by path (``python lambda_runner.py REQUEST RESULT``), never imported by the player:
the function's code folder replaces this file's folder at the front of sys.path, the handler
module is imported, and the handler is called with the event and a Lambda-like context.
Standard library only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes and method of the Lambda runtime's context object that handlers use."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name: str = request["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = request["function_arn"]
        self.memory_limit_in_mb = str(request.get("memory_mb", 128))
        self.aws_request_id: str = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = request["request_id"]
        self._deadline = time.monotonic() + float(request["timeout_seconds"])

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the runtime would stop the invocation."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _install_log_handler(request_id: str) -> None:
    """Send log records to stdout as the Lambda runtime does: one handler on the root logger,
    left at the runtime's default level (WARNING) for the function's code to change."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"[%(levelname)s]\t%(asctime)s\t{request_id}\t%(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def _load_handler(code_dir: str, handler: str) -> Any:
    module_path, _, function_name = handler.rpartition(".")
    sys.path[0] = code_dir
    module = importlib.import_module(module_path.replace("/", "."))
    return getattr(module, function_name)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    _install_log_handler(request["request_id"])
    try:
        handler = _load_handler(request["code_dir"], request["handler"])
        context = LambdaContext(request)
        result = handler(request["event"], context)
        return {"status": "ok", "result": result}
    except Exception as error:  # noqa: BLE001 - the runtime reports every error as the result
        traceback.print_exc()
        return {"status": "error", "errorType": type(error).__name__, "errorMessage": str(error)}


def main(argv: list[str]) -> int:
    request_path, result_path = argv[1], argv[2]
    with open(request_path) as stream:
        request = json.load(stream)
    outcome = _run(request)
    # Written whole or not at all: a runtime stopped mid-write must not leave half a result.
    partial_path = result_path + ".partial"
    with open(partial_path, "w") as stream:
        json.dump(outcome, stream, default=str)
    os.replace(partial_path, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    # Lambda freezes the process after the handler returns; leftover threads must not keep it.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
