"""Every validation error: its code, its status, and a message in the API's field names."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from local_api_support import ROLE_ARN, detailed_message, make_client, raw_request, refusal_message

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

JOB: dict[str, Any] = {"mlModelTrainingJobId": "job-1"}
CLOUDFORMATION_NAMES = [spec.name for spec in schema.PROPERTIES if spec.api_field and spec.name != "Id"]


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ({}, "MissingParameterException", "mlModelTrainingJobId"),
        ({"mlModelTrainingJobId": "a", "mlModelTransformJobId": "b"}, "IllegalArgumentException",
         "mlModelTransformJobId"),
        ({**JOB, "id": "has space"}, "InvalidParameterException", "id"),
        ({**JOB, "id": "-leading-hyphen"}, "InvalidParameterException", "id"),
        ({**JOB, "id": "a" * (schema.ENDPOINT_ID_MAX_LENGTH + 1)}, "InvalidParameterException", "id"),
        ({**JOB, "modelName": "gcn"}, "InvalidParameterException", "modelName"),
        ({**JOB, "instanceType": "m5.xlarge"}, "InvalidParameterException", "instanceType"),
        ({**JOB, "instanceCount": 0}, "InvalidParameterException", "instanceCount"),
        ({**JOB, "instanceCount": schema.INSTANCE_COUNT_MAX + 1}, "InvalidParameterException", "instanceCount"),
        ({"mlModelTrainingJobId": "bad job!"}, "InvalidParameterException", "mlModelTrainingJobId"),
        ({"mlModelTransformJobId": "x" * 256}, "InvalidParameterException", "mlModelTransformJobId"),
        ({**JOB, "neptuneIamRoleArn": "not-an-arn"}, "InvalidParameterException", "neptuneIamRoleArn"),
        ({**JOB, "volumeEncryptionKMSKey": "bad key!"}, "InvalidParameterException", "volumeEncryptionKMSKey"),
    ],
)
def test_create_rejects_bad_fields_naming_them(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, arguments: dict[str, Any], code: str, field: str
) -> None:
    message = refusal_message(client, code, lambda: client.create_ml_endpoint(**arguments))
    assert message.startswith(f"{field}:")
    assert not any(name in message for name in CLOUDFORMATION_NAMES), message
    assert api.endpoint_ids() == []


def test_valid_optional_fields_are_accepted(client: NeptuneDataClient) -> None:
    answer = client.create_ml_endpoint(
        id="ep-1", mlModelTrainingJobId="job-1", update=False, neptuneIamRoleArn=ROLE_ARN, modelName="rgcn",
        instanceType="ml.g4dn.xlarge", instanceCount=schema.INSTANCE_COUNT_MAX,
        volumeEncryptionKMSKey="arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
    )
    assert answer["id"] == "ep-1"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({**JOB, "instanceCount": "2"}, "InvalidParameterException", "instanceCount: '2' is not a JSON integer"),
        ({**JOB, "instanceCount": True}, "InvalidParameterException", "instanceCount: True is not"),
        ({**JOB, "instanceCount": 1.5}, "InvalidParameterException", "instanceCount: 1.5 is not"),
        ({**JOB, "update": "yes"}, "InvalidParameterException", "update: 'yes' is not a boolean"),
        ({**JOB, "id": 5}, "InvalidParameterException", "id: 5 is not a string"),
        ({**JOB, "instanceCont": 1}, "IllegalArgumentException", "'instanceCont' is not a CreateMLEndpoint field"),
        ("{not json", "BadRequestException", "not JSON"),
        ([JOB], "BadRequestException", "must be a JSON object"),
    ],
)
def test_create_rejects_bodies_boto3_would_never_send(
    api: LocalNeptuneMlApi, body: object, code: str, words: str
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    status, _, answer = raw_request(api.url, "POST", "/ml/endpoints", text,
                                    {"Content-Type": "application/json"})
    assert (status, answer["code"]) == (400, code)
    assert words in answer["detailedMessage"]
    assert api.endpoint_ids() == []


def test_error_bodies_carry_request_id_code_and_message_only(api: LocalNeptuneMlApi) -> None:
    status, headers, answer = raw_request(api.url, "GET", "/ml/endpoints/nobody")
    assert status == 404
    assert set(answer) == {"requestId", "code", "detailedMessage"}
    assert answer["code"] == "MLResourceNotFoundException"
    assert str(uuid.UUID(answer["requestId"])) == answer["requestId"] == headers["x-amzn-requestid"]


@pytest.mark.parametrize("max_items", [0, 1025, -1])
def test_list_rejects_max_items_outside_1_to_1024(api: LocalNeptuneMlApi, max_items: int) -> None:
    unchecked = make_client(api.url, parameter_validation=False)
    with pytest.raises(unchecked.exceptions.InvalidParameterException) as raised:
        unchecked.list_ml_endpoints(maxItems=max_items)
    assert "maxItems" in detailed_message(raised.value)
    assert "1 to 1024" in detailed_message(raised.value)


def test_list_rejects_a_max_items_that_is_not_a_number(api: LocalNeptuneMlApi) -> None:
    status, _, answer = raw_request(api.url, "GET", "/ml/endpoints?maxItems=ten")
    assert (status, answer["code"]) == (400, "InvalidParameterException")


def test_delete_rejects_a_clean_flag_that_is_not_a_boolean(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    client.create_ml_endpoint(id="ep-1", **JOB)
    status, _, answer = raw_request(api.url, "DELETE", "/ml/endpoints/ep-1?clean=maybe")
    assert (status, answer["code"]) == (400, "InvalidParameterException")
    assert answer["detailedMessage"].startswith("clean:")
    assert api.status("ep-1") == "Creating"


def test_a_role_in_the_query_must_be_a_role_arn(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.InvalidParameterException) as raised:
        client.get_ml_endpoint(id="ep-1", neptuneIamRoleArn="role")
    assert detailed_message(raised.value).startswith("neptuneIamRoleArn:")
    with pytest.raises(client.exceptions.InvalidParameterException) as raised:
        client.list_ml_endpoints(neptuneIamRoleArn="role")
    assert detailed_message(raised.value).startswith("neptuneIamRoleArn:")


def test_str_of_the_error_is_empty_but_detailed_message_explains(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.InvalidParameterException) as raised:
        client.create_ml_endpoint(modelName="gcn", **JOB)
    assert str(raised.value).endswith(": ")
    assert "rgcn" in detailed_message(raised.value)
