"""The "failing-" convention for jobs: the job ends Failed with a reason and a log URL in its nested jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from local_api_support import PROCESSING, TRANSFORM, ManualClock, completed_chain

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


@pytest.mark.parametrize(("field", "value"), [("id", "failing-1"),
                                              ("inputDataS3Location", "s3://graph-export/failing-input/"),
                                              ("processedDataS3Location", "s3://failing-bucket/out/")])
def test_a_processing_job_asking_to_fail_ends_failed_with_reason_and_log_url(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, field: str, value: str
) -> None:
    answer = client.start_ml_data_processing_job(**{**PROCESSING, "id": "processing-1", field: value})
    job_id = answer["id"]
    running = client.get_ml_data_processing_job(id=job_id)
    assert running["status"] == "InProgress" and "failureReason" not in running["processingJob"]
    clock.advance(api.timings.processing)
    failed = client.get_ml_data_processing_job(id=job_id)
    nested = failed["processingJob"]
    assert failed["status"] == nested["status"] == "Failed"
    assert nested["failureReason"].startswith("ClientError: ") and f"{field} is {value!r}" in nested["failureReason"]
    assert "/aws/sagemaker/ProcessingJobs" in nested["cloudwatchLogUrl"] and job_id in nested["cloudwatchLogUrl"]


def test_a_failing_training_job_fails_in_its_hpo_job_after_its_processing_stage(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    processing, _ = completed_chain(client, clock)
    client.start_ml_model_training_job(id="training-2", dataProcessingJobId=processing,
                                       trainModelS3Location="s3://ml-bucket/failing-run/")
    clock.advance(api.timings.training)
    failed = client.get_ml_model_training_job(id="training-2")
    assert failed["status"] == "Failed"
    assert failed["processingJob"]["status"] == "Completed" and "failureReason" not in failed["processingJob"]
    assert failed["hpoJob"]["status"] == "Failed"
    assert failed["hpoJob"]["failureReason"].startswith("AlgorithmError: See job logs")
    assert "/aws/sagemaker/TrainingJobs" in failed["hpoJob"]["cloudwatchLogUrl"]
    assert "modelTransformJob" not in failed and "mlModels" not in failed


@pytest.mark.parametrize("arguments", [{"id": "failing-transform"},
                                       {"modelTransformOutputS3Location": "s3://ml-bucket/failing-out/"}])
def test_a_failing_transform_job_fails_in_its_remote_transform_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, arguments: dict[str, str]
) -> None:
    processing, training = completed_chain(client, clock)
    job_id = client.start_ml_model_transform_job(**{**TRANSFORM, "dataProcessingJobId": processing,
                                                    "mlModelTrainingJobId": training, **arguments})["id"]
    clock.advance(api.timings.transform)
    failed = client.get_ml_model_transform_job(id=job_id)
    assert failed["status"] == failed["remoteModelTransformJob"]["status"] == "Failed"
    assert failed["baseProcessingJob"]["status"] == "Completed"
    assert failed["remoteModelTransformJob"]["failureReason"].startswith("AlgorithmError: ")
    assert failed["remoteModelTransformJob"]["cloudwatchLogUrl"].startswith("https://console.aws.amazon.com/")
    assert "models" not in failed


def test_a_transform_of_a_failing_sagemaker_training_job_fails(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.start_ml_model_transform_job(id="transform-1", trainingJobName="failing-sagemaker-job", **TRANSFORM)
    clock.advance(api.timings.transform)
    reason = client.get_ml_model_transform_job(id="transform-1")["remoteModelTransformJob"]["failureReason"]
    assert "trainingJobName is 'failing-sagemaker-job'" in reason


@pytest.mark.parametrize("value", ["s3://graph-export/not-failing-x/", "s3://graph-export/x/failing"])
def test_the_prefix_must_start_a_part_of_the_location(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, value: str
) -> None:
    client.start_ml_data_processing_job(**{**PROCESSING, "id": "job-failing-1", "inputDataS3Location": value})
    clock.advance(api.timings.processing)
    assert api.job_status("dataprocessing", "job-failing-1") == "Completed"


def test_a_failing_job_cancelled_in_time_is_stopped_without_a_reason(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.start_ml_data_processing_job(id="failing-1", **PROCESSING)
    client.cancel_ml_data_processing_job(id="failing-1")
    clock.advance(api.timings.processing + api.timings.stopping)
    stopped = client.get_ml_data_processing_job(id="failing-1")
    assert stopped["status"] == "Stopped" and "failureReason" not in stopped["processingJob"]
