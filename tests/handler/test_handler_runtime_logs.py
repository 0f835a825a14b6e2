"""The bundled handler, run as the Lambda runtime runs it, logs its decisions from the first invocation.

The Lambda runtime's root logger starts at WARNING; the handler must raise it to INFO itself
before its first step, or a cold start's decisions are lost.
"""

from __future__ import annotations

import os
from pathlib import Path

from handler_driver import SHORT_SETTINGS, CloudFormation

from neptune_ml_endpoint.constructs.bundling import build_handler_bundle
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import LocalLambda
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState
from neptune_ml_endpoint.local.cloudformation.testing import FUNCTION_NAME, SERVICE_TOKEN


def test_first_invocation_logs_its_decisions_and_no_secrets(cloudformation: CloudFormation,
                                                              tmp_path: Path) -> None:
    bundle = tmp_path / "asset"
    build_handler_bundle(bundle)
    event = cloudformation.event("Create", cloudformation.properties(Id="logged-endpoint"))
    environment = {**os.environ, **SHORT_SETTINGS, **cloudformation.receiver.env(), **cloudformation.stubs.env()}
    function = LocalLambda(FunctionState(SERVICE_TOKEN, FUNCTION_NAME, "index.handler", 60, {}, str(bundle)),
                           environment, tmp_path / "logs")
    try:
        invocation = function.invoke(event, capture_output=True)
    finally:
        function.stop()

    log = invocation.output
    assert invocation.succeeded, log
    assert cloudformation.only_answer(event)["Status"] == "SUCCESS"
    assert "[INFO]" in log and "logged-endpoint" in log, log
    assert "Create" in log
    assert "X-Amz-Signature" not in log and cloudformation.receiver.url_for("x").split("?")[0] not in log
