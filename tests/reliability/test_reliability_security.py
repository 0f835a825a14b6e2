"""Security: no secret in any log line, unsafe ids never reach a URL path, TLS always verified.

Logs are captured from the root logger with every level the function lets through (crhelper's,
botocore's and the handler's loggers alike), plus anything written to stdout or stderr, across
successes, failures with tracebacks, retries, polling and a refused delivery.
"""

from __future__ import annotations

import ast
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote

import boto3
import pytest
import trustme
from handler_driver import SAFETY_MARGIN, CloudFormation
from lambda_fixtures import HANDLER_DIR
from reliability_figures import FiguresFile
from reliability_support import answer_once, fast_api, lambda_function

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault, LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

ACCESS_KEY_ID = "AKIARELIABILITYTEST7"
SECRET_ACCESS_KEY = "reliability/Secret+Access/Key+0123456789abcdefghij"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEReliabilitySessionToken0123456789"
PATH_UNSAFE_IDS = ("../x", "a/b", "%2F")


class _Everything(logging.Handler):
    """Keeps every record that reaches the root logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_Everything]:
    captured = _Everything()
    logging.getLogger().addHandler(captured)
    try:
        yield captured
    finally:
        logging.getLogger().removeHandler(captured)


def test_no_log_line_holds_the_response_url_signature_or_credentials(
        cloudformation: CloudFormation, logs: _Everything, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, figures: FiguresFile) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new session signs with the credentials above
    api, receiver = cloudformation.api, cloudformation.receiver
    good = cloudformation.properties(Id="ep-logs")
    events: list[dict[str, Any]] = []

    def send(request_type: str, properties: dict[str, str], physical_id: str | None = None,
             old_properties: dict[str, str] | None = None) -> None:
        event = cloudformation.event(request_type, properties, physical_id=physical_id,
                                     old_properties=old_properties)
        events.append(event)
        answer_once(cloudformation, event)

    send("Create", cloudformation.properties(InstanceCount="many", Id="ep-bad"))
    api.add_fault(Fault(kind="server_error", operation="CreateMLEndpoint"))
    send("Create", good)
    send("Update", {**good, "MlModelTrainingJobId": "training-2"}, physical_id="ep-logs", old_properties=good)
    api.add_fault(Fault(kind="reset", operation="GetMLEndpoint", count=None))
    send("Update", {**good, "ModelName": "rgcn"}, physical_id="ep-logs", old_properties=good)
    api.clear_faults()
    receiver.refuse_next(1)
    send("Delete", good, physical_id="ep-logs")
    send("Create", cloudformation.properties(NeptuneEndpoint="http://127.0.0.1:9", Id="ep-unreachable"))
    api.timings = Timings(creating=0.5, updating=0.1, deleting=0.1)
    polled = cloudformation.event("Create", cloudformation.properties(Id="ep-polled"))
    events.append(polled)
    cloudformation.invoke(polled, seconds=SAFETY_MARGIN + 0.1)  # hands over to crhelper's polling
    assert cloudformation.poll_until_answered(polled)["Status"] == "SUCCESS"
    send("Delete", cloudformation.properties(Id="ep-polled"), physical_id="ep-polled")

    printed = capfd.readouterr()
    text = "\n".join([*logs.lines, printed.out, printed.err])
    figures.record("security", log_lines_checked=len(logs.lines), requests_logged=len(events))
    assert any(line.startswith("crhelper") for line in logs.lines), "crhelper's lines were not captured"
    assert "Traceback" in text, "no failure with a traceback was captured"
    assert receiver.refused >= 1
    secrets = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, "X-Amz-Signature", "X-Amz-Credential",
               "AKIDEXAMPLE", "Authorization", "ResponseURL"]
    secrets += [receiver.signature_for(cloudformation.key_of(event)) for event in events]
    secrets += [event["ResponseURL"].split("?")[0] for event in events]
    found = [secret for secret in secrets if secret in text]
    figures.record("security", secrets_found_in_logs=len(found))
    assert found == []


@pytest.mark.parametrize("unsafe_id", PATH_UNSAFE_IDS)
@pytest.mark.parametrize("place", ["Id on Create", "Id on Update", "PhysicalResourceId on Delete",
                                   "Id and PhysicalResourceId on Update"])
def test_an_id_that_could_change_the_url_path_is_rejected_before_any_call(
        cloudformation: CloudFormation, unsafe_id: str, place: str, figures: FiguresFile) -> None:
    properties = cloudformation.properties(Id=unsafe_id)
    old = cloudformation.properties(Id="ep-old")
    if place == "Id on Create":
        event = cloudformation.event("Create", properties)
    elif place == "Id on Update":
        event = cloudformation.event("Update", properties, physical_id="ep-old", old_properties=old)
    elif place == "PhysicalResourceId on Delete":
        event = cloudformation.event("Delete", properties, physical_id=unsafe_id)
    else:
        event = cloudformation.event("Update", properties, physical_id=unsafe_id, old_properties=properties)

    answered = answer_once(cloudformation, event)

    _count_unsafe(figures, requests=len(cloudformation.api.requests()))
    assert cloudformation.api.requests() == []
    if place == "PhysicalResourceId on Delete":
        assert answered.succeeded, "nothing was created under that id, so there is nothing to delete"
    else:
        assert not answered.succeeded
        assert answered.answer["Reason"].startswith("Id:")


@pytest.mark.parametrize("unsafe_id", PATH_UNSAFE_IDS)
def test_an_update_of_a_resource_with_an_unsafe_physical_id_never_sends_that_id(
        cloudformation: CloudFormation, unsafe_id: str, figures: FiguresFile) -> None:
    """No endpoint can have such an id, so the update makes a new endpoint under a derived id."""
    properties = cloudformation.properties()
    event = cloudformation.event("Update", properties, physical_id=unsafe_id, old_properties=properties)

    answered = answer_once(cloudformation, event)
    sent = len(cloudformation.api.requests())
    cleanup = answer_once(cloudformation, cloudformation.event("Delete", properties, physical_id=unsafe_id))

    paths = {r.path.partition("?")[0] for r in cloudformation.api.requests()}
    _count_unsafe(figures, requests=sum(_holds(path, unsafe_id) for path in paths))
    assert answered.succeeded, answered.answer["Reason"]
    assert answered.physical_id != unsafe_id and schema.is_endpoint_id(answered.physical_id)
    assert paths == {"/ml/endpoints", f"/ml/endpoints/{answered.physical_id}"}
    assert cleanup.succeeded
    assert len(cloudformation.api.requests()) == sent, "deleting the unsafe id made a call"


def _holds(path: str, unsafe_id: str) -> bool:
    """Whether a request path carries the id, as it is or percent-encoded."""
    segment = path.removeprefix("/ml/endpoints").lstrip("/")
    return unsafe_id in path or quote(unsafe_id, safe="") in path or (
        bool(segment) and unquote(segment) in (unsafe_id, unquote(unsafe_id)))


def _count_unsafe(figures: FiguresFile, requests: int) -> None:
    """One more unsafe-id case, and the requests that carried the id (or, when rejected, any request)."""
    so_far = figures.section("security")
    figures.record("security", unsafe_id_cases=so_far.get("unsafe_id_cases", 0) + 1,
                   unsafe_id_requests=so_far.get("unsafe_id_requests", 0) + requests,
                   unsafe_ids=list(PATH_UNSAFE_IDS))


@pytest.fixture(scope="module")
def neptune_ca() -> trustme.CA:
    """The CA of the local cluster's certificate; trusted only when AWS_CA_BUNDLE names it."""
    return trustme.CA()


def _tls_api(ca: trustme.CA) -> LocalNeptuneMlApi:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return fast_api(ssl_context=context)


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-ca", "ca-in-AWS_CA_BUNDLE"])
def test_the_clusters_certificate_is_verified(
        handler_module: ModuleType, receiver: ResponseReceiver, stubs: LocalCloudStubs, neptune_ca: trustme.CA,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trusted: bool, figures: FiguresFile) -> None:
    with _tls_api(neptune_ca) as api:
        function = lambda_function(monkeypatch, handler_module, receiver, stubs, api)
        monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
        if trusted:
            bundle = tmp_path / "neptune-ca.pem"
            neptune_ca.cert_pem.write_to_path(str(bundle))
            monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
        assert api.url.startswith("https://")

        answered = answer_once(function, function.event("Create", function.properties(Id="ep-tls")))

        if trusted:
            assert answered.succeeded, answered.answer["Reason"]
            assert api.status("ep-tls") == "InService"
        else:
            assert not answered.succeeded
            assert "SSLError" in answered.answer["Reason"], answered.answer["Reason"]
            assert "CERTIFICATE_VERIFY_FAILED" in answered.answer["Reason"]
            assert api.requests() == [], "a request got through without a trusted certificate"
    figures.record("security", **{f"tls_{'trusted' if trusted else 'untrusted'}": answered.answer["Status"]})


def unverified_tls(source: str) -> list[str]:
    """Places in Python source that could turn certificate verification off."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in ("verify", "ssl_verify"):
            value = node.value
            if not (isinstance(value, ast.Constant) and (value.value is True or value.value is None
                                                         or isinstance(value.value, str) and value.value)):
                found.append(f"line {node.value.lineno}: {node.arg}={ast.unparse(value)}")
        elif isinstance(node, ast.Attribute) and node.attr in ("CERT_NONE", "_create_unverified_context"):
            found.append(f"line {node.lineno}: {node.attr}")
        elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Attribute) and target.attr == "check_hostname" for target in node.targets):
            found.append(f"line {node.lineno}: check_hostname = {ast.unparse(node.value)}")
        elif isinstance(node, ast.Constant) and node.value in ("PYTHONHTTPSVERIFY", "AWS_CA_BUNDLE"):
            found.append(f"line {node.lineno}: {node.value}")
    return found


@pytest.mark.parametrize("snippet", [
    'boto3.client("neptunedata", endpoint_url=url, verify=False)',
    "CfnResource(log_level='INFO', ssl_verify=False)",
    "client = boto3.client('neptunedata', verify=should_verify)",
    "context.check_hostname = False",
    "context.verify_mode = ssl.CERT_NONE",
    "context = ssl._create_unverified_context()",
    'os.environ["PYTHONHTTPSVERIFY"] = "0"',
])
def test_the_source_check_finds_verification_turned_off(snippet: str) -> None:
    assert unverified_tls(snippet) != []


def test_the_handler_never_turns_tls_verification_off(figures: FiguresFile) -> None:
    sources = [*sorted(HANDLER_DIR.glob("*.py")), Path(schema.__file__),  # what the Lambda asset holds
               *sorted(Path(schema.__file__).with_name("contract").glob("*.py"))]
    assert len(sources) >= 4
    found = {path.name: unverified_tls(path.read_text()) for path in sources}
    figures.record("security", handler_files_checked=len(sources),
                   unverified_tls_places=sum(len(places) for places in found.values()))
    assert all(places == [] for places in found.values()), found
    assert not any("verify=False" in path.read_text().replace(" ", "") for path in sources)
