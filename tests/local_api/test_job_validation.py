"""Start requests checked against botocore's model and Neptune's rules; job ids in paths; error shapes."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from local_api_support import (
    PROCESSING,
    TRAINING,
    TRANSFORM,
    ManualClock,
    make_client,
    raw_request,
    refusal_message,
)

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ({**PROCESSING, "id": "has space"}, "InvalidParameterException", "id"),
        ({**PROCESSING, "id": "x" * 256}, "InvalidParameterException", "id"),
        ({**PROCESSING, "inputDataS3Location": "/tmp/data"}, "InvalidParameterException", "inputDataS3Location"),
        ({**PROCESSING, "modelType": "gnn"}, "InvalidParameterException", "modelType"),
        ({**PROCESSING, "processingInstanceType": "m5.xlarge"}, "InvalidParameterException",
         "processingInstanceType"),
        ({**PROCESSING, "processingTimeOutInSeconds": 0}, "InvalidParameterException", "processingTimeOutInSeconds"),
        ({**PROCESSING, "processingInstanceVolumeSizeInGB": -1}, "InvalidParameterException",
         "processingInstanceVolumeSizeInGB"),
        ({**PROCESSING, "sagemakerIamRoleArn": "role"}, "InvalidParameterException", "sagemakerIamRoleArn"),
        ({**PROCESSING, "s3OutputEncryptionKMSKey": "bad key!"}, "InvalidParameterException",
         "s3OutputEncryptionKMSKey"),
        ({**PROCESSING, "subnets": [""]}, "InvalidParameterException", "subnets"),
    ],
)
def test_start_processing_rejects_bad_fields_naming_them(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, arguments: dict[str, Any], code: str, field: str
) -> None:
    message = refusal_message(client, code, lambda: client.start_ml_data_processing_job(**arguments))
    assert message.startswith(f"{field}:")
    assert api.job_ids("dataprocessing") == []


def test_every_modelled_field_is_accepted(client: NeptuneDataClient) -> None:
    role = "arn:aws:iam::123456789012:role/NeptuneMlRole"
    client.start_ml_data_processing_job(
        id="processing-1", **PROCESSING, sagemakerIamRoleArn=role, neptuneIamRoleArn=role,
        processingInstanceType="ml.r5.xlarge", processingInstanceVolumeSizeInGB=0, processingTimeOutInSeconds=3600,
        modelType="heterogeneous", configFileName="training-job-configuration.json", subnets=["subnet-1"],
        securityGroupIds=["sg-1"], volumeEncryptionKMSKey="key-1", s3OutputEncryptionKMSKey="key-2",
    )
    answer = client.start_ml_model_transform_job(
        id="transform-1", trainingJobName="sagemaker-job", **TRANSFORM,
        customModelTransformParameters={"sourceS3DirectoryPath": "s3://ml-bucket/code/",
                                        "transformEntryPointScript": "transform.py"},
        baseProcessingInstanceType="ml.m5.large", baseProcessingInstanceVolumeSizeInGB=10,
    )
    assert answer["id"] == "transform-1"


def _post(api: LocalNeptuneMlApi, kind: str, body: object) -> tuple[int, dict[str, Any]]:
    text = body if isinstance(body, str) else json.dumps(body)
    status, _, answer = raw_request(api.url, "POST", f"/ml/{kind}", text, {"Content-Type": "application/json"})
    return status, answer


@pytest.mark.parametrize(
    ("kind", "body", "code", "words"),
    [
        ("dataprocessing", {**PROCESSING, "processingTimeOutInSeconds": "60"}, "InvalidParameterException",
         "processingTimeOutInSeconds: '60' is not a JSON integer"),
        ("dataprocessing", {**PROCESSING, "id": 5}, "InvalidParameterException", "id: 5 is not a string"),
        ("dataprocessing", {**PROCESSING, "subnets": "subnet-1"}, "InvalidParameterException",
         "subnets: 'subnet-1' is not a list of strings"),
        ("dataprocessing", {**PROCESSING, "inputS3": "s3://x"}, "IllegalArgumentException",
         "'inputS3' is not a StartMLDataProcessingJob field"),
        ("modeltraining", {"dataProcessingJobId": "p", **TRAINING, "enableManagedSpotTraining": "maybe"},
         "InvalidParameterException", "enableManagedSpotTraining: 'maybe' is not a boolean"),
        ("modeltraining", {"dataProcessingJobId": "p", **TRAINING, "customModelTrainingParameters": {}},
         "MissingParameterException", "customModelTrainingParameters.sourceS3DirectoryPath: is missing"),
        ("modeltraining", {"dataProcessingJobId": "p", **TRAINING,
                           "customModelTrainingParameters": {"sourceS3DirectoryPath": "s3://ml-bucket/c/",
                                                             "entry": "x"}},
         "IllegalArgumentException", "customModelTrainingParameters.entry: is not a field"),
        ("modeltraining", {"dataProcessingJobId": "p", **TRAINING, "modelName": "gcn"},
         "InvalidParameterException", "modelName: 'gcn' is not one of rgcn, transe, distmult, rotate, custom"),
        ("dataprocessing", {"processedDataS3Location": "s3://ml-bucket/x/"}, "MissingParameterException",
         "inputDataS3Location: is missing. StartMLDataProcessingJob needs inputDataS3Location"),
        ("modeltransform", {"trainingJobName": "t"}, "MissingParameterException",
         "modelTransformOutputS3Location: is missing"),
        ("dataprocessing", {**PROCESSING, "inputDataS3Location": ""}, "InvalidParameterException",
         "inputDataS3Location: '' is not an S3 URI"),
        ("modeltransform", {**TRANSFORM, "trainingJobName": "", "id": ""}, "MissingParameterException",
         "dataProcessingJobId: is missing"),
        ("modeltraining", "{not json", "BadRequestException", "not JSON"),
        ("modeltransform", [TRANSFORM], "BadRequestException", "must be a JSON object"),
    ],
)
def test_start_rejects_bodies_boto3_would_never_send(
    api: LocalNeptuneMlApi, kind: str, body: object, code: str, words: str
) -> None:
    status, answer = _post(api, kind, body)
    assert (status, answer["code"]) == (400, code)
    assert set(answer) == {"requestId", "code", "detailedMessage"}
    assert words in answer["detailedMessage"]
    assert api.job_ids(kind) == []


def test_an_empty_string_in_an_optional_field_is_not_given(api: LocalNeptuneMlApi) -> None:
    """graph-notebook's magics send "" for each option left out: a generated id, the default instance type."""
    status, answer = _post(api, "dataprocessing", {**PROCESSING, "id": "", "configFileName": "",
                                                   "processingInstanceType": "", "modelType": ""})
    assert status == 200
    assert str(uuid.UUID(answer["id"])) == answer["id"]
    assert api.job_ids("dataprocessing") == [answer["id"]]


def test_training_accepts_the_user_guides_fields_that_boto3_lacks(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.start_ml_data_processing_job(id="processing-1", **PROCESSING)
    clock.advance(api.timings.processing)
    body = {"id": "training-1", "dataProcessingJobId": "processing-1", **TRAINING, "modelName": "custom",
            "maxWaitTime": 3600, "enableInterContainerTrafficEncryption": "TRUE", "enableManagedSpotTraining": True}
    status, answer = _post(api, "modeltraining", body)
    assert (status, answer["id"]) == (200, "training-1")


@pytest.mark.parametrize("kind", ["dataprocessing", "modeltraining", "modeltransform"])
@pytest.mark.parametrize("path_id", ["a%2Fb", "", "-job", "a/b", "ep%201", "..", "%2e%2e"])
def test_paths_that_do_not_name_a_job_are_bad_requests(api: LocalNeptuneMlApi, kind: str, path_id: str) -> None:
    for method in ("GET", "DELETE"):
        status, _, answer = raw_request(api.url, method, f"/ml/{kind}/{path_id}")
        assert (status, answer["code"]) == (400, "BadRequestException")
        assert answer["detailedMessage"].startswith("The job id in the path:")


def test_a_job_id_with_dots_and_underscores_is_served(api: LocalNeptuneMlApi, client: NeptuneDataClient) -> None:
    client.start_ml_data_processing_job(id="run_2024.01", **PROCESSING)
    assert client.get_ml_data_processing_job(id="run_2024.01")["id"] == "run_2024.01"


@pytest.mark.parametrize(("method", "path"), [("PUT", "/ml/dataprocessing"), ("DELETE", "/ml/modeltraining"),
                                              ("POST", "/ml/modeltransform/job-1")])
def test_unsupported_methods_on_job_paths(api: LocalNeptuneMlApi, method: str, path: str) -> None:
    status, _, answer = raw_request(api.url, method, path, b"{}")
    assert (status, answer["code"]) == (400, "UnsupportedOperationException")


@pytest.mark.parametrize("kind", ["dataprocessing", "modeltraining", "modeltransform"])
def test_list_rejects_max_items_outside_1_to_1024_through_boto3(api: LocalNeptuneMlApi, kind: str) -> None:
    unchecked = make_client(api.url, parameter_validation=False)
    calls = {"dataprocessing": unchecked.list_ml_data_processing_jobs,
             "modeltraining": unchecked.list_ml_model_training_jobs,
             "modeltransform": unchecked.list_ml_model_transform_jobs}
    for max_items in (0, 1025):
        with pytest.raises(unchecked.exceptions.InvalidParameterException):
            calls[kind](maxItems=max_items)
    assert calls[kind](maxItems=1024)["ids"] == []


def test_a_role_in_a_job_query_must_be_a_role_arn(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.list_ml_model_training_jobs(neptuneIamRoleArn="role")
