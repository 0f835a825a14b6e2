"""Bad input fails at once without API calls; API errors are explained; transient errors are retried."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
import botocore
import pytest
from handler_driver import CloudFormation

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault

BAD_INPUT = [
    pytest.param({"InstanceCount": "0"}, "InstanceCount", id="instance-count-zero"),
    pytest.param({"InstanceCount": "two"}, "InstanceCount", id="instance-count-word"),
    pytest.param({"ModelName": "gcn"}, "ModelName", id="unknown-model"),
    pytest.param({"InstanceType": "m5.xlarge"}, "InstanceType", id="instance-type-without-ml"),
    pytest.param({"Id": "my_endpoint"}, "Id", id="id-with-underscore"),
    pytest.param({"Id": "e" * 64}, "Id", id="id-too-long"),
    pytest.param({"NeptuneIamRoleArn": "my-role"}, "NeptuneIamRoleArn", id="role-not-an-arn"),
    pytest.param({"VolumeEncryptionKMSKey": "key with spaces"}, "VolumeEncryptionKMSKey", id="kms-key"),
    pytest.param({"NeptuneEndpoint": "neptune.example.com:8182"}, "NeptuneEndpoint", id="address-no-scheme"),
    pytest.param({"NeptuneEndpoint": ""}, "NeptuneEndpoint", id="address-missing"),
    pytest.param({"MlModelTransformJobId": "transform-1"}, "MlModelTransformJobId", id="both-job-ids"),
    pytest.param({"MlModelTrainingJobId": ""}, "MlModelTrainingJobId", id="no-job-id"),
    pytest.param({"InstanceCont": "1"}, "InstanceCont", id="misspelt-property"),
]


@pytest.mark.parametrize(("changes", "named"), BAD_INPUT)
def test_bad_input_fails_naming_the_property_without_api_calls(
        cloudformation: CloudFormation, changes: dict[str, str], named: str) -> None:
    properties = cloudformation.properties(**changes)

    answer = cloudformation.send(cloudformation.event("Create", properties))

    assert answer["Status"] == "FAILED"
    assert named in answer["Reason"]
    assert len(answer["Reason"]) <= 256
    assert cloudformation.operations() == []

    rollback = cloudformation.send(
        cloudformation.event("Delete", properties, physical_id=answer["PhysicalResourceId"]))

    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert cloudformation.operations() == []


def test_bad_input_on_update_keeps_the_physical_id_without_api_calls(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-kept")
    new = cloudformation.properties(Id="ep-kept", InstanceCount="-1")

    answer = cloudformation.send(
        cloudformation.event("Update", new, physical_id="ep-kept", old_properties=old))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-kept"
    assert "InstanceCount" in answer["Reason"]
    assert cloudformation.operations() == []


def test_an_api_error_reason_carries_the_operation_code_and_message(cloudformation: CloudFormation) -> None:
    cloudformation.api.add_fault(Fault(kind="timeout", operation="CreateMLEndpoint", count=None))

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-408")))

    assert answer["Status"] == "FAILED"
    assert "CreateMLEndpoint failed with ClientTimeoutException" in answer["Reason"]
    assert "The request timed out" in answer["Reason"]
    creates = [r for r in cloudformation.api.requests() if r.operation == "CreateMLEndpoint"]
    assert [r.status_code for r in creates] == [408, 408, 408]  # the first try and two retries


def test_an_unreachable_cluster_is_reported_in_the_reason(cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(NeptuneEndpoint="http://127.0.0.1:9")

    answer = cloudformation.send(cloudformation.event("Create", properties))

    assert answer["Status"] == "FAILED"
    assert "GetMLEndpoint failed with EndpointConnectionError" in answer["Reason"]
    assert "127.0.0.1:9" in answer["Reason"]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(kind="throttle", operation="CreateMLEndpoint", count=1), id="429-on-create"),
        pytest.param(Fault(kind="server_error", operation="GetMLEndpoint", count=2), id="500-on-get"),
        pytest.param(Fault(kind="reset", operation="CreateMLEndpoint", count=1), id="reset-on-create"),
        pytest.param(Fault(kind="timeout", operation="CreateMLEndpoint", count=2), id="408-on-create"),
    ],
)
def test_transient_errors_are_retried_to_success(cloudformation: CloudFormation, fault: Fault) -> None:
    cloudformation.api.add_fault(fault)

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-retried")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert cloudformation.api.endpoint_ids() == ["ep-retried"]
    faulted = [r for r in cloudformation.api.requests() if r.fault is not None]
    assert len(faulted) == fault.count
    assert [r.status_code for r in cloudformation.api.requests() if r.operation == fault.operation][-1] == 200


def test_a_throttled_cluster_still_gets_its_endpoint(cloudformation: CloudFormation) -> None:
    cloudformation.api.set_rate_limit(4)

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-limited")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert cloudformation.api.status("ep-limited") == "InService"


def test_a_create_whose_first_answer_was_lost_adopts_instead_of_failing(
        cloudformation: CloudFormation, monkeypatch: pytest.MonkeyPatch) -> None:
    # The create is performed but answers after the read timeout: botocore sends it again and
    # Neptune refuses the copy because the endpoint exists; the handler adopts that endpoint.
    monkeypatch.setenv(schema.ENV_READ_TIMEOUT, "0.5")
    cloudformation.api.add_fault(Fault(kind="slow", operation="CreateMLEndpoint", count=1, delay=1.0))

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-lost")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-lost"
    assert cloudformation.api.endpoint_ids() == ["ep-lost"]
    creates = [r.error_code for r in cloudformation.api.requests() if r.operation == "CreateMLEndpoint"]
    assert "BadRequestException" in creates


def test_with_a_botocore_model_that_does_not_retry_408_the_handler_does(
        cloudformation: CloudFormation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import neptune_data_client

    _write_model_without_retryable_client_timeout(tmp_path)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a fresh session reads AWS_DATA_PATH
    monkeypatch.setenv(schema.ENV_MAX_ATTEMPTS, "1")  # botocore makes one attempt; the retries are the handler's
    client = boto3.client("neptunedata", endpoint_url=cloudformation.api.url)
    assert not neptune_data_client.botocore_retries_client_timeouts(client)
    cloudformation.api.add_fault(Fault(kind="timeout", operation="CreateMLEndpoint", count=2))

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-own-retry")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    creates = [r.status_code for r in cloudformation.api.requests() if r.operation == "CreateMLEndpoint"]
    assert creates == [408, 408, 200]


def _write_model_without_retryable_client_timeout(data_path: Path) -> None:
    """botocore's neptunedata model with ClientTimeoutException's retryable trait removed."""
    source = Path(botocore.__file__).parent / "data" / "neptunedata" / "2023-08-01" / "service-2.json.gz"
    model = json.loads(gzip.decompress(source.read_bytes()))
    del model["shapes"]["ClientTimeoutException"]["retryable"]
    target = data_path / "neptunedata" / "2023-08-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
