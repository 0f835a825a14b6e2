"""The custom-resource protocol when a function misbehaves: no answer, or an answer too late.

These use a hand-written cloud assembly whose function is inline code (no synthesis), so the
function can do what the project's handler never does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from player_support import LocalDeployment

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

SILENT_FUNCTION = '''
import json
import re
import time
import urllib.request


def handler(event, context):
    if event["RequestType"] == "Create":
        time.sleep(float(event["ResourceProperties"]["SleepSeconds"]))
        return  # never answers a Create
    body = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": event.get("PhysicalResourceId") or "none",
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": {}}).encode()
    urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], data=body, method="PUT"))
'''


SETTINGS_FUNCTION = '''
import json
import os
import urllib.request


def handler(event, context):
    waits = [os.environ[name] for name in ("NEPTUNE_ML_ENDPOINT_WAIT_FIRST_SECONDS",
                                           "NEPTUNE_ML_ENDPOINT_WAIT_MAX_SECONDS")]
    body = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": "waits-" + "-".join(waits),
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": {}}).encode()
    urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], data=body, method="PUT"))
'''


def write_assembly(folder: Path, service_timeout: str, sleep_seconds: str, code: str = SILENT_FUNCTION) -> Path:
    """A one-stack assembly: an inline function and one endpoint resource served by it."""
    folder.mkdir()
    template = {"Resources": {
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "index.handler", "Timeout": 30, "Code": {"ZipFile": code}}},
        "Endpoint": {"Type": "Custom::NeptuneMlEndpoint", "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Function", "Arn"]}, "ServiceTimeout": service_timeout,
            "SleepSeconds": sleep_seconds}},
    }}
    (folder / "Silent.template.json").write_text(json.dumps(template))
    (folder / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Silent": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "Silent.template.json"}}}}))
    return folder


@pytest.fixture
def silent(api: LocalNeptuneMlApi, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           request: pytest.FixtureRequest) -> LocalDeployment:
    service_timeout, sleep_seconds = request.param
    assembly = write_assembly(tmp_path / "assembly", service_timeout, sleep_seconds)
    return LocalDeployment(api, assembly, tmp_path / "state", capsys)


@pytest.mark.parametrize("silent", [("3600", "0")], indirect=True)
def test_a_function_that_ends_without_answering_fails_the_resource_at_once(silent: LocalDeployment) -> None:
    played = silent.deploy("Silent")

    assert played.exit_code == 1
    failed = played.lines_with("CREATE_FAILED")
    assert len(failed) == 1 and "The function ended without sending a response" in failed[0]
    log = re.search(r"log: (\S+\.log)\)", failed[0])
    assert log is not None and Path(log.group(1)).is_file()  # the invocation's output, like CloudWatch Logs
    # The rollback's Delete is answered, so the stack rolls back cleanly.
    assert played.events("Endpoint") == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_IN_PROGRESS",
                                         "DELETE_COMPLETE"]
    assert played.events("Silent")[-1] == "ROLLBACK_COMPLETE"
    assert silent.state() is None


@pytest.mark.parametrize("silent", [("1", "4")], indirect=True)
def test_no_answer_within_the_service_timeout_fails_the_resource(silent: LocalDeployment) -> None:
    played = silent.deploy("Silent")

    assert played.exit_code == 1
    failed = played.lines_with("CREATE_FAILED")
    assert len(failed) == 1
    assert "did not receive a response from your Custom Resource within 1 s" in failed[0]
    assert played.events("Endpoint")[-1] == "DELETE_COMPLETE"
    assert played.events("Silent")[-1] == "ROLLBACK_COMPLETE"


@pytest.mark.parametrize(("overridden", "physical_id"), [(True, "waits-0.05-0.2"), (False, "waits-0.2-1")])
def test_the_functions_pause_as_the_players_environment_says_else_0_2_to_1_s(
        api: LocalNeptuneMlApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        overridden: bool, physical_id: str) -> None:
    if not overridden:  # tests/player/conftest.py sets both for every test
        monkeypatch.delenv(schema.ENV_WAIT_FIRST_SECONDS)
        monkeypatch.delenv(schema.ENV_WAIT_MAX_SECONDS)
    assembly = write_assembly(tmp_path / "assembly", "3600", "0", code=SETTINGS_FUNCTION)
    deployment = LocalDeployment(api, assembly, tmp_path / "state", capsys)

    played = deployment.deploy("Silent")

    assert played.exit_code == 0, played.output
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["deployment"]["stacks"]["Silent"]["resources"]["Endpoint"]["physical_id"] == physical_id
