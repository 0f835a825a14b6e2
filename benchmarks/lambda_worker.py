"""One Lambda execution environment: a worker process that runs the bundled handler.

The benchmarks start these with ProcessPoolExecutor (spawn start method). `start` is the
pool's initializer: it sends output to a log file, sets the function's environment, puts the
handler asset first on sys.path and imports index, as Lambda's Python runtime does before the
first invocation. `invoke` runs index.handler once with the player's Lambda context, loaded
from its file (lambda_runner.py) so that no part of neptune_ml_endpoint is imported before
the asset's own copy of neptune_ml_endpoint.schema. Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Mapping
from types import ModuleType
from typing import Any

FUNCTION_NAME = "bench-NeptuneMlEndpointHandler"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"

_index: ModuleType | None = None
_runner: ModuleType | None = None


def start(asset_dir: str, environment: Mapping[str, str], log_file: str, runner_file: str) -> None:
    """Pool initializer: output to log_file (as Lambda sends it to CloudWatch Logs), the
    function's environment, the runner's Lambda context, then `import index` from the asset."""
    global _index, _runner
    with open(log_file, "ab") as log:
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    os.environ.update(environment)
    spec = importlib.util.spec_from_file_location("lambda_runner", runner_file)
    assert spec is not None and spec.loader is not None, f"cannot load {runner_file}"
    _runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_runner)
    sys.path.insert(0, asset_dir)
    _index = importlib.import_module("index")


def invoke(event: dict[str, Any], seconds: float) -> None:
    """One invocation of index.handler with `seconds` left before the function's timeout."""
    assert _index is not None and _runner is not None, "the worker was not started with lambda_worker.start"
    context = _runner.LambdaContext({"function_name": FUNCTION_NAME, "function_arn": FUNCTION_ARN,
                                     "request_id": str(uuid.uuid4()), "timeout_seconds": seconds})
    _index.handler(event, context)


def identify(pause: float) -> tuple[int, str]:
    """(process id, file of the schema module the handler uses), after a pause that keeps this
    worker busy so that concurrent calls reach different workers."""
    time.sleep(pause)
    schema = sys.modules["neptune_ml_endpoint.schema"]
    return os.getpid(), str(schema.__file__)
