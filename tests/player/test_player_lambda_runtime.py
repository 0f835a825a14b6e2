"""The local Lambda runtime: warm environments forked with the AWS SDK imported, each with its function's
variables only, stopped with everything they started when their time is up or their runtime dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from neptune_ml_endpoint.local.cloudformation.aws.lambda_runner import trace_header
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import LocalLambda
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState

FUNCTION = '''
import json
import os
import subprocess
import sys
import time

import boto3

calls = 0


def handler(event, context):
    global calls
    calls += 1
    if event.get("exit"):
        os._exit(event["exit"])
    if event.get("sleep"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(event["child_file"], "w") as stream:
            stream.write(str(child.pid))
        time.sleep(event["sleep"])
    print("printed by the handler")
    seen = {"pid": os.getpid(), "calls": calls, "variable": os.environ.get("FUNCTION_VARIABLE"),
            "caller_variable": os.environ.get("CALLER_ONLY_VARIABLE"), "cwd": os.getcwd(),
            "boto3": getattr(boto3, "MARK", "the runtime's"), "region": boto3.session.Session().region_name,
            "trace": os.environ.get("_X_AMZN_TRACE_ID"), "request_id": context.aws_request_id}
    if hasattr(boto3, "client"):  # the default session's, which the runtime's environments share models with
        seen["client_region"] = boto3.client("events").meta.region_name
        credentials = boto3.DEFAULT_SESSION.get_credentials()
        seen["access_key"] = credentials.access_key if credentials else None
    with open(event["report"], "w") as stream:
        json.dump(seen, stream)
'''


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether the process has ended (or is only a zombie waiting for its parent) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "index.py").write_text(FUNCTION)
    return folder


@pytest.fixture
def function(code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalLambda]:
    monkeypatch.setenv("CALLER_ONLY_VARIABLE", "the caller's")
    state = FunctionState("arn:aws:lambda:us-east-1:123456789012:function:runtime-test", "runtime-test",
                          "index.handler", 2, {"FUNCTION_VARIABLE": "the function's"}, str(code))
    local = LocalLambda(state, {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}, tmp_path / "logs")
    yield local
    local.stop()


def seen_by(local: LocalLambda, tmp_path: Path, **event: object) -> dict[str, object]:
    """What the handler saw in one invocation that succeeded."""
    report = tmp_path / "report.json"
    invocation = local.invoke({"report": str(report), **event}, capture_output=True)
    assert invocation.succeeded, invocation.error
    assert "printed by the handler" in invocation.output
    seen: dict[str, object] = json.loads(report.read_text())
    return seen


def test_an_environment_has_its_functions_variables_only_and_stays_warm(
        function: LocalLambda, code: Path, tmp_path: Path) -> None:
    first = seen_by(function, tmp_path)
    second = seen_by(function, tmp_path)

    assert first["variable"] == "the function's" and first["caller_variable"] is None
    assert first["region"] == "eu-west-1" and first["cwd"] == str(code)
    assert first["boto3"] == "the runtime's"
    assert (second["pid"], second["calls"]) == (first["pid"], 2)  # the same warm environment
    assert first["trace"] == trace_header(str(first["request_id"])) != second["trace"]  # one per invocation


def test_each_environment_resolves_its_own_region_and_credentials(code: Path, tmp_path: Path) -> None:
    seen = []
    for region, key in (("eu-west-1", "KEY-ONE"), ("ap-south-1", "KEY-TWO")):
        state = FunctionState(f"arn:aws:lambda:{region}:123456789012:function:runtime-test", "runtime-test",
                              "index.handler", 2, {}, str(code))
        local = LocalLambda(state, {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_ACCESS_KEY_ID": key,
                                    "AWS_SECRET_ACCESS_KEY": "secret"}, tmp_path / "logs")
        try:
            seen.append(seen_by(local, tmp_path))
        finally:
            local.stop()

    assert [(one["client_region"], one["access_key"]) for one in seen] == [("eu-west-1", "KEY-ONE"),
                                                                            ("ap-south-1", "KEY-TWO")]


def test_a_timed_out_invocation_stops_its_environment_and_what_it_started(function: LocalLambda,
                                                                          tmp_path: Path) -> None:
    first = seen_by(function, tmp_path)
    child_file = tmp_path / "child.pid"

    timed_out = function.invoke({"sleep": 30, "child_file": str(child_file)}, seconds=1)

    assert timed_out.timed_out and timed_out.error == "Task timed out"
    assert gone(int(str(first["pid"]))) and gone(int(child_file.read_text()))
    after = seen_by(function, tmp_path)
    assert after["pid"] != first["pid"] and after["calls"] == 1  # a new environment


def test_a_runtime_that_exits_is_reported_with_its_exit_code(function: LocalLambda, tmp_path: Path) -> None:
    ended = function.invoke({"exit": 3}, capture_output=True)

    assert ended.error == "Runtime exited with code 3 before the handler returned"
    assert seen_by(function, tmp_path)["calls"] == 1


def test_code_that_brings_its_own_aws_sdk_gets_it_not_the_runtimes(function: LocalLambda, code: Path,
                                                                   tmp_path: Path) -> None:
    (code / "boto3").mkdir()
    (code / "boto3" / "__init__.py").write_text(
        'MARK = "bundled"\nfrom importlib import import_module\nsession = import_module("boto3_session")\n')
    (code / "boto3_session.py").write_text(
        "import os\n\nclass Session:\n    region_name = os.environ.get('AWS_REGION')\n")

    seen = seen_by(function, tmp_path)

    assert seen["boto3"] == "bundled" and seen["region"] == "eu-west-1"


def test_environments_end_with_the_process_that_ran_them(code: Path, tmp_path: Path) -> None:
    child_file = tmp_path / "child.pid"
    script = (
        "from pathlib import Path\n"
        "from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import LocalLambda\n"
        "from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState\n"
        f"state = FunctionState('arn:aws:lambda:us-east-1:123456789012:function:f', 'f', 'index.handler', 60, {{}}, "
        f"{str(code)!r})\n"
        f"LocalLambda(state, {{}}, Path({str(tmp_path / 'logs')!r})).invoke("
        f"{{'sleep': 60, 'child_file': {str(child_file)!r}}})\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while not child_file.is_file() or not child_file.read_text():
            assert runner.poll() is None and time.monotonic() < deadline, "the handler never started its child"
            time.sleep(0.05)
    finally:
        runner.kill()  # as a command killed with SIGKILL: nothing of it runs to clean up
        runner.wait()

    assert gone(int(child_file.read_text())), "the environment outlived the process that ran it"
