"""Starting the handler in processes of its own (see neptune_ml_endpoint.local.cloudformation.testing.main)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

RUNNER = ["-m", "neptune_ml_endpoint.local.cloudformation.testing"]


def start_invocation(event: dict[str, Any], seconds: float) -> subprocess.Popen[str]:
    """One invocation in a new process, with this process's environment; its output is discarded."""
    process = subprocess.Popen([sys.executable, *RUNNER, str(seconds)], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
    assert process.stdin is not None
    process.stdin.write(json.dumps(event))
    process.stdin.close()
    return process


def invoke_concurrently(events: list[dict[str, Any]], seconds: float, timeout: float) -> list[dict[str, Any]]:
    """Every event at once, each in its own process; each one's result ({"calls": {...}})."""
    finished = subprocess.run([sys.executable, *RUNNER, str(seconds), "--concurrent"], input=json.dumps(events),
                              capture_output=True, text=True, timeout=timeout, env=dict(os.environ), check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(finished.stdout)
    return results
