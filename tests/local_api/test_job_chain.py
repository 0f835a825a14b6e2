"""Cross-checks a cluster makes: the jobs a job or an endpoint builds on must be Completed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from local_api_support import (
    PROCESSING,
    TRAINING,
    TRANSFORM,
    ManualClock,
    completed_chain,
    detailed_message,
    raw_request,
)

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


def test_training_needs_a_processing_job_the_api_knows(api: LocalNeptuneMlApi, client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
        client.start_ml_model_training_job(id="training-1", dataProcessingJobId="made-elsewhere", **TRAINING)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert detailed_message(raised.value).startswith("dataProcessingJobId: no data processing job")
    assert api.job_ids("modeltraining") == []


@pytest.mark.parametrize(("finish", "status"), [(None, "InProgress"), ("fail", "Failed"), ("cancel", "Stopping")])
def test_training_needs_the_processing_job_completed(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, finish: str | None, status: str
) -> None:
    job_id = "failing-processing" if finish == "fail" else "processing-1"
    client.start_ml_data_processing_job(id=job_id, **PROCESSING)
    if finish == "fail":
        clock.advance(api.timings.processing)
    if finish == "cancel":
        client.cancel_ml_data_processing_job(id=job_id)
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        client.start_ml_model_training_job(id="training-1", dataProcessingJobId=job_id, **TRAINING)
    assert detailed_message(raised.value) == (
        f"dataProcessingJobId: the data processing job {job_id!r} is {status}; it must be Completed")
    assert api.job_ids("modeltraining") == []


def test_a_warm_start_needs_a_completed_previous_training_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    processing, training = completed_chain(client, clock)
    client.start_ml_model_training_job(id="training-2", dataProcessingJobId=processing,
                                       previousModelTrainingJobId=training, **TRAINING)
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        client.start_ml_model_training_job(id="training-3", dataProcessingJobId=processing,
                                           previousModelTrainingJobId="training-2", **TRAINING)
    assert detailed_message(raised.value).startswith("previousModelTrainingJobId:")


def test_incremental_processing_needs_a_known_previous_processing_job(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
        client.start_ml_data_processing_job(id="processing-2", previousDataProcessingJobId="unknown", **PROCESSING)
    assert detailed_message(raised.value).startswith("previousDataProcessingJobId:")


@pytest.mark.parametrize(("field", "code"), [("dataProcessingJobId", "PreconditionsFailedException"),
                                             ("mlModelTrainingJobId", "MLResourceNotFoundException")])
def test_a_transform_needs_a_completed_processing_job_and_a_completed_training_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, field: str, code: str
) -> None:
    processing, training = completed_chain(client, clock)
    client.start_ml_data_processing_job(id="processing-running", **PROCESSING)
    wrong = {"dataProcessingJobId": "processing-running", "mlModelTrainingJobId": "unknown-training"}[field]
    arguments = {"dataProcessingJobId": processing, "mlModelTrainingJobId": training, field: wrong}
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        client.start_ml_model_transform_job(id="transform-1", **arguments, **TRANSFORM)
    assert detailed_message(raised.value).startswith(f"{field}:")
    assert api.job_ids("modeltransform") == []


def test_a_transform_of_a_sagemaker_training_job_needs_no_other_job(client: NeptuneDataClient) -> None:
    answer = client.start_ml_model_transform_job(id="transform-1", trainingJobName="sagemaker-job-1", **TRANSFORM)
    assert client.get_ml_model_transform_job(id=answer["id"])["status"] == "InProgress"


@pytest.mark.parametrize(("arguments", "code", "field"), [
    ({}, "MissingParameterException", "dataProcessingJobId"),
    ({"dataProcessingJobId": "p"}, "MissingParameterException", "mlModelTrainingJobId"),
    ({"trainingJobName": "t", "mlModelTrainingJobId": "m"}, "IllegalArgumentException", "mlModelTrainingJobId"),
])
def test_a_transform_names_either_both_jobs_or_a_sagemaker_training_job(
    client: NeptuneDataClient, arguments: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        client.start_ml_model_transform_job(**arguments, **TRANSFORM)
    message = detailed_message(raised.value)
    assert message.startswith(f"{field}:") and "trainingJobName" in message


@pytest.mark.parametrize(("field", "kind"), [("mlModelTrainingJobId", "training"),
                                             ("mlModelTransformJobId", "transform")])
def test_an_endpoint_on_a_known_job_needs_it_completed(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, field: str, kind: str
) -> None:
    processing, training = completed_chain(client, clock)
    if kind == "training":
        client.start_ml_model_training_job(id="model-job", dataProcessingJobId=processing, **TRAINING)
    else:
        client.start_ml_model_transform_job(id="model-job", dataProcessingJobId=processing,
                                            mlModelTrainingJobId=training, **TRANSFORM)
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        client.create_ml_endpoint(id="ep-1", **{field: "model-job"})  # type: ignore[arg-type]
    assert detailed_message(raised.value) == (
        f"{field}: the model {kind} job 'model-job' is InProgress; it must be Completed")
    assert api.endpoint_ids() == []
    clock.advance(10_000)
    client.create_ml_endpoint(id="ep-1", **{field: "model-job"})  # type: ignore[arg-type]
    assert api.status("ep-1") == "Creating"


def test_an_endpoint_update_to_a_failed_known_job_is_refused(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    processing, training = completed_chain(client, clock)
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId=training)
    client.start_ml_model_training_job(id="failing-retrain", dataProcessingJobId=processing, **TRAINING)
    clock.advance(10_000)
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="failing-retrain", update=True)
    assert "is Failed" in detailed_message(raised.value)
    assert api.status("ep-1") == "InService"


def test_an_endpoint_on_a_job_made_elsewhere_is_accepted(api: LocalNeptuneMlApi, client: NeptuneDataClient) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="made-elsewhere")
    assert api.status("ep-1") == "Creating"


@pytest.mark.parametrize("update", ["true", "TRUE", "True"])
def test_update_given_as_a_string_as_the_user_guide_sends_it(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, update: str
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    clock.advance(api.timings.creating)
    body = json.dumps({"id": "ep-1", "mlModelTrainingJobId": "job-2", "update": update})
    status, _, answer = raw_request(api.url, "POST", "/ml/endpoints", body, {"Content-Type": "application/json"})
    assert (status, answer["id"]) == (200, "ep-1")
    assert api.status("ep-1") == "Updating"


def test_update_false_as_a_string_creates(api: LocalNeptuneMlApi) -> None:
    body = json.dumps({"id": "ep-1", "mlModelTrainingJobId": "job-1", "update": "false"})
    status, _, _ = raw_request(api.url, "POST", "/ml/endpoints", body, {"Content-Type": "application/json"})
    assert status == 200 and api.status("ep-1") == "Creating"
