"""The bundled handler, run as the Lambda runtime runs it, logs its decisions from the first invocation.

The Lambda runtime's root logger starts at WARNING; the handler must raise it to INFO itself
before its first step, or a cold start's decisions are lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from handler_driver import SHORT_SETTINGS, CloudFormation

from neptune_ml_endpoint.constructs.bundling import build_handler_bundle

RUNNER = Path(__file__).resolve().parents[2] / "neptune_ml_endpoint" / "local" / "cloudformation" / "aws" / "lambda_runner.py"


def test_first_invocation_logs_its_decisions_and_no_secrets(cloudformation: CloudFormation,
                                                              tmp_path: Path) -> None:
    bundle = tmp_path / "asset"
    build_handler_bundle(bundle)
    event = cloudformation.event("Create", cloudformation.properties(Id="logged-endpoint"))
    request = {"code_dir": str(bundle), "handler": "index.handler", "function_name": "handler",
               "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:handler",
               "request_id": "request-1", "timeout_seconds": 60, "event": event}
    (tmp_path / "request.json").write_text(json.dumps(request))
    env = {**os.environ, **SHORT_SETTINGS, **cloudformation.receiver.env(), **cloudformation.stubs.env()}

    run = subprocess.run([sys.executable, str(RUNNER), str(tmp_path / "request.json"), str(tmp_path / "result.json")],
                         check=False, cwd=bundle, env=env, capture_output=True, text=True, timeout=60)

    assert json.loads((tmp_path / "result.json").read_text())["status"] == "ok", run.stdout + run.stderr
    assert cloudformation.only_answer(event)["Status"] == "SUCCESS"
    log = run.stdout
    assert "[INFO]" in log and "logged-endpoint" in log, log
    assert "Create" in log
    assert "X-Amz-Signature" not in log and cloudformation.receiver.url_for("x").split("?")[0] not in log
