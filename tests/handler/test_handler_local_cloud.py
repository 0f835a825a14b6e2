"""The player pieces the handler tests stand on: the HTTPS response receiver and the AWS stubs."""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver


def put(url: str, body: dict[str, object], context: ssl.SSLContext) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT")
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return int(response.status)


def trusting(receiver: ResponseReceiver) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=receiver.ca_bundle_path)


def test_the_receiver_records_puts_by_key(receiver: ResponseReceiver) -> None:
    url = receiver.url_for("demo|Endpoint|req-1")

    assert put(url, {"Status": "SUCCESS"}, trusting(receiver)) == 200
    assert put(url, {"Status": "FAILED"}, trusting(receiver)) == 200

    assert receiver.wait_for("demo|Endpoint|req-1", timeout=1) == {"Status": "SUCCESS"}
    assert receiver.responses("demo|Endpoint|req-1") == [{"Status": "SUCCESS"}, {"Status": "FAILED"}]
    assert receiver.responses("demo|Endpoint|other") == []
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Signature"] == [receiver.signature_for("demo|Endpoint|req-1")]


def test_the_receiver_is_trusted_only_through_its_ca(receiver: ResponseReceiver) -> None:
    with pytest.raises(URLError) as raised:
        put(receiver.url_for("untrusted"), {}, ssl.create_default_context())

    assert isinstance(raised.value.reason, ssl.SSLCertVerificationError)
    assert receiver.env() == {"SSL_CERT_FILE": receiver.ca_bundle_path}


def test_the_receiver_can_refuse_a_delivery(receiver: ResponseReceiver) -> None:
    receiver.refuse_next(1)
    refused_before = receiver.refused

    with pytest.raises((URLError, ConnectionError)):
        put(receiver.url_for("refused"), {"Status": "SUCCESS"}, trusting(receiver))

    assert receiver.refused == refused_before + 1
    assert receiver.responses("refused") == []
    with pytest.raises(TimeoutError):
        receiver.wait_for("refused", timeout=0.1)


@pytest.fixture
def cloud(stubs: LocalCloudStubs, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloudStubs]:
    for name, value in stubs.env().items():
        monkeypatch.setenv(name, value)
    stubs.reset()
    yield stubs
    stubs.reset()


def test_botocore_sends_events_and_lambda_calls_to_the_stubs(cloud: LocalCloudStubs) -> None:
    assert boto3.client("events").meta.endpoint_url == cloud.url
    assert boto3.client("lambda").meta.endpoint_url == cloud.url
    assert boto3.client("logs").meta.endpoint_url == cloud.url


def test_rules_keep_their_targets_until_removed(cloud: LocalCloudStubs) -> None:
    events = boto3.client("events")
    arn = events.put_rule(Name="EndpointABCD1234", ScheduleExpression="rate(1 minute)", State="ENABLED")["RuleArn"]
    events.put_targets(Rule="EndpointABCD1234", Targets=[{"Id": "1", "Arn": "arn:aws:lambda:x", "Input": "{}"}])

    assert arn == "arn:aws:events:us-east-1:123456789012:rule/EndpointABCD1234"
    assert events.describe_rule(Name="EndpointABCD1234")["ScheduleExpression"] == "rate(1 minute)"
    with pytest.raises(ClientError, match="has targets"):
        events.delete_rule(Name="EndpointABCD1234")
    [rule] = cloud.rules()
    assert rule.targets[0].input == "{}"

    events.remove_targets(Rule="EndpointABCD1234", Ids=["1"])
    events.delete_rule(Name="EndpointABCD1234")

    assert cloud.rules() == []
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="EndpointABCD1234")


def test_rule_names_follow_eventbridges_limit(cloud: LocalCloudStubs) -> None:
    with pytest.raises(ClientError, match="ValidationException"):
        boto3.client("events").put_rule(Name="R" * 65, ScheduleExpression="rate(1 minute)")

    assert cloud.rules() == []


def test_permissions_are_added_listed_and_removed(cloud: LocalCloudStubs) -> None:
    functions = boto3.client("lambda")
    functions.add_permission(FunctionName="demo-Handler", StatementId="EndpointXYZ", Action="lambda:InvokeFunction",
                             Principal="events.amazonaws.com", SourceArn="arn:aws:events:us-east-1:1:rule/r")

    assert [(p.function_name, p.statement_id) for p in cloud.permissions()] == [("demo-Handler", "EndpointXYZ")]
    with pytest.raises(functions.exceptions.ResourceConflictException):
        functions.add_permission(FunctionName="demo-Handler", StatementId="EndpointXYZ",
                                 Action="lambda:InvokeFunction", Principal="events.amazonaws.com")

    functions.remove_permission(FunctionName="demo-Handler", StatementId="EndpointXYZ")

    assert cloud.permissions() == []
    with pytest.raises(functions.exceptions.ResourceNotFoundException):
        functions.remove_permission(FunctionName="demo-Handler", StatementId="EndpointXYZ")
    assert cloud.calls() == ["AddPermission", "AddPermission", "RemovePermission", "RemovePermission"]


def test_rules_without_targets_are_on_disk_as_soon_as_put_and_outlive_the_stubs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules_file = tmp_path / "state" / "eventbridge-rules.json"
    with LocalCloudStubs(rules_file=rules_file) as first:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", first.url)
        events = boto3.client("events")
        events.put_rule(Name="EndpointMarker1", EventPattern='{"source": ["never"]}', State="DISABLED",
                        Description='{"phase":"created"}')
        events.put_rule(Name="EndpointPoll1234", ScheduleExpression="rate(1 minute)")
        events.put_targets(Rule="EndpointPoll1234", Targets=[{"Id": "1", "Arn": "arn:aws:lambda:x", "Input": "{}"}])

        saved = json.loads(rules_file.read_text())  # while the stubs still run, as after a SIGKILL

        assert [(rule["Name"], rule["Description"]) for rule in saved] == [("EndpointMarker1", '{"phase":"created"}')]

    with LocalCloudStubs(rules_file=rules_file) as second:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", second.url)
        events = boto3.client("events")

        assert [rule.name for rule in second.rules()] == ["EndpointMarker1"]
        assert events.describe_rule(Name="EndpointMarker1")["Description"] == '{"phase":"created"}'

        events.delete_rule(Name="EndpointMarker1")

        assert not rules_file.exists()
