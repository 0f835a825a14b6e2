"""Start, get, list and cancel the three Neptune ML job kinds through boto3, on the API's clock."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from local_api_support import (
    PROCESSING,
    ROLE_ARN,
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


def _start(client: NeptuneDataClient, clock: ManualClock, kind: str, **arguments: Any) -> dict[str, Any]:
    """Start a job of a kind; training and transform jobs build on one Completed chain, made once."""
    if kind == "dataprocessing":
        return dict(client.start_ml_data_processing_job(**PROCESSING, **arguments))
    processing, training = "base-processing", "base-training"
    if training not in client.list_ml_model_training_jobs(maxItems=1024)["ids"]:
        completed_chain(client, clock, prefix="base")
    if kind == "modeltraining":
        return dict(client.start_ml_model_training_job(dataProcessingJobId=processing, **TRAINING, **arguments))
    return dict(client.start_ml_model_transform_job(dataProcessingJobId=processing, mlModelTrainingJobId=training,
                                                    **TRANSFORM, **arguments))


def _get(client: NeptuneDataClient, kind: str, job_id: str) -> dict[str, Any]:
    calls = {"dataprocessing": client.get_ml_data_processing_job, "modeltraining": client.get_ml_model_training_job,
             "modeltransform": client.get_ml_model_transform_job}
    return dict(calls[kind](id=job_id))


def _cancel(client: NeptuneDataClient, kind: str, job_id: str, **arguments: Any) -> dict[str, Any]:
    calls = {"dataprocessing": client.cancel_ml_data_processing_job,
             "modeltraining": client.cancel_ml_model_training_job,
             "modeltransform": client.cancel_ml_model_transform_job}
    return dict(calls[kind](id=job_id, **arguments))


def _list(client: NeptuneDataClient, kind: str, **arguments: Any) -> list[str]:
    calls = {"dataprocessing": client.list_ml_data_processing_jobs, "modeltraining": client.list_ml_model_training_jobs,
             "modeltransform": client.list_ml_model_transform_jobs}
    return list(calls[kind](**arguments)["ids"])


DURATION = {"dataprocessing": "processing", "modeltraining": "training", "modeltransform": "transform"}
STAGES = {"dataprocessing": ["processingJob"], "modeltraining": ["processingJob", "hpoJob", "modelTransformJob"],
          "modeltransform": ["baseProcessingJob", "remoteModelTransformJob"]}
ARN_RESOURCE = {"dataprocessing": "processing-job", "modeltraining": "hyper-parameter-tuning-job",
                "modeltransform": "training-job"}
KINDS = list(DURATION)


@pytest.mark.parametrize("kind", KINDS)
def test_start_answers_id_arn_and_creation_time(client: NeptuneDataClient, clock: ManualClock, kind: str) -> None:
    before = int(time.time() * 1000)
    answer = _start(client, clock, kind, id="job-1", neptuneIamRoleArn=ROLE_ARN)
    assert answer["id"] == "job-1"
    assert answer["arn"] == f"arn:aws:sagemaker:us-east-1:123456789012:{ARN_RESOURCE[kind]}/job-1"
    assert before <= answer["creationTimeInMillis"] <= int(time.time() * 1000)


@pytest.mark.parametrize("kind", KINDS)
def test_a_job_is_in_progress_then_completed_after_its_kinds_time(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    _start(client, clock, kind, id="job-1")
    running = _get(client, kind, "job-1")
    assert (running["id"], running["status"]) == ("job-1", "InProgress")
    assert [running[stage]["status"] for stage in STAGES[kind]] == ["InProgress"] * len(STAGES[kind])
    clock.advance(getattr(api.timings, DURATION[kind]) - 0.1)
    assert api.job_status(kind, "job-1") == "InProgress"
    clock.advance(0.2)
    done = _get(client, kind, "job-1")
    assert done["status"] == "Completed"
    for stage in STAGES[kind]:
        nested = done[stage]
        assert nested["status"] == "Completed" and "failureReason" not in nested
        assert nested["outputLocation"].startswith("s3://ml-bucket/")
        assert nested["name"] in nested["cloudwatchLogUrl"] and "region=us-east-1" in nested["cloudwatchLogUrl"]
        assert nested["arn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:")


def test_completed_training_and_transform_jobs_name_their_models(
    client: NeptuneDataClient, clock: ManualClock
) -> None:
    processing, training = completed_chain(client, clock)
    assert "mlModels" not in client.get_ml_data_processing_job(id=processing)
    assert client.get_ml_model_training_job(id=training)["mlModels"] == [
        {"name": training, "arn": f"arn:aws:sagemaker:us-east-1:123456789012:model/{training}"}]
    client.start_ml_model_transform_job(id="transform-1", dataProcessingJobId=processing,
                                        mlModelTrainingJobId=training, **TRANSFORM)
    assert "models" not in client.get_ml_model_transform_job(id="transform-1")
    clock.advance(10_000)
    assert client.get_ml_model_transform_job(id="transform-1")["models"][0]["name"] == "transform-1"


@pytest.mark.parametrize("kind", KINDS)
def test_an_id_is_a_generated_uuid_when_the_request_has_none(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    first, second = _start(client, clock, kind)["id"], _start(client, clock, kind)["id"]
    assert str(uuid.UUID(first)) == first and first != second
    assert api.job_status(kind, first) is not None
    assert [r.endpoint_id for r in api.requests() if r.operation and r.operation.startswith("Start")][-1] == second


@pytest.mark.parametrize("kind", KINDS)
def test_starting_an_existing_id_is_refused_and_makes_no_second_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    _start(client, clock, kind, id="job-1")
    before = api.job_ids(kind)
    with pytest.raises(client.exceptions.BadRequestException) as raised:
        _start(client, clock, kind, id="job-1")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "'job-1' already exists" in detailed_message(raised.value)
    assert api.job_ids(kind).count("job-1") == 1
    assert len(api.job_ids(kind)) == len(before)


def test_the_kinds_have_separate_ids(api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock) -> None:
    processing, _ = completed_chain(client, clock, prefix="same")
    client.start_ml_model_training_job(id=processing, dataProcessingJobId=processing, **TRAINING)
    assert processing in api.job_ids("dataprocessing") and processing in api.job_ids("modeltraining")


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_stops_a_running_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    _start(client, clock, kind, id="job-1")
    assert _cancel(client, kind, "job-1", neptuneIamRoleArn=ROLE_ARN)["status"] == "Stopping"
    stopping = _get(client, kind, "job-1")
    assert stopping["status"] == stopping[STAGES[kind][0]]["status"] == "Stopping"
    assert _cancel(client, kind, "job-1")["status"] == "Stopping"  # again while stopping: the same answer
    clock.advance(api.timings.stopping)
    stopped = _get(client, kind, "job-1")
    assert stopped["status"] == "Stopped"
    assert stopped[STAGES[kind][-1]]["outputLocation"].startswith("s3://")  # kept without clean
    clock.advance(10_000)
    assert api.job_status(kind, "job-1") == "Stopped"


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_with_clean_deletes_the_stopped_jobs_artifacts(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    _start(client, clock, kind, id="job-1")
    _cancel(client, kind, "job-1", clean=True)
    assert "outputLocation" in _get(client, kind, "job-1")[STAGES[kind][0]]
    clock.advance(api.timings.stopping)
    stopped = _get(client, kind, "job-1")
    assert all("outputLocation" not in stopped[stage] for stage in STAGES[kind])


@pytest.mark.parametrize(("text", "cleaned"), [("TRUE", True), ("true", True), ("True", True),
                                               ("FALSE", False), ("false", False)])
def test_clean_is_a_boolean_in_any_case(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, text: str, cleaned: bool
) -> None:
    client.start_ml_data_processing_job(id="job-1", **PROCESSING)
    status, _, answer = raw_request(api.url, "DELETE", f"/ml/dataprocessing/job-1?clean={text}")
    assert (status, answer) == (200, {"status": "Stopping"})
    clock.advance(api.timings.stopping)
    assert ("outputLocation" in client.get_ml_data_processing_job(id="job-1")["processingJob"]) is not cleaned


def test_a_clean_flag_that_is_not_a_boolean_is_refused_and_nothing_stops(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    client.start_ml_data_processing_job(id="job-1", **PROCESSING)
    status, _, answer = raw_request(api.url, "DELETE", "/ml/dataprocessing/job-1?clean=yes")
    assert (status, answer["code"]) == (400, "InvalidParameterException")
    assert answer["detailedMessage"].startswith("clean:")
    assert api.job_status("dataprocessing", "job-1") == "InProgress"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("finish", ["complete", "fail", "stop"])
def test_a_finished_job_cannot_be_cancelled(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str, finish: str
) -> None:
    job_id = "failing-1" if finish == "fail" else "job-1"
    _start(client, clock, kind, id=job_id)
    if finish == "stop":
        _cancel(client, kind, job_id)
    clock.advance(10_000)
    status = api.job_status(kind, job_id)
    assert status == {"complete": "Completed", "fail": "Failed", "stop": "Stopped"}[finish]
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        _cancel(client, kind, job_id)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"is {status}" in detailed_message(raised.value)
    assert api.job_status(kind, job_id) == status


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_jobs_are_not_found(client: NeptuneDataClient, kind: str) -> None:
    for call in (lambda: _get(client, kind, "never-made"), lambda: _cancel(client, kind, "never-made")):
        with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert "never-made" in detailed_message(raised.value)


@pytest.mark.parametrize("kind", KINDS)
def test_list_answers_ids_oldest_first_up_to_max_items(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, kind: str
) -> None:
    ids = [f"job-{n:02d}" for n in range(12)]
    for job_id in ids:
        _start(client, clock, kind, id=job_id)
    _cancel(client, kind, "job-00")  # stopped jobs stay listed
    listed = _list(client, kind, maxItems=1024)
    assert [job_id for job_id in listed if job_id.startswith("job-")] == ids
    assert listed == api.job_ids(kind)
    assert _list(client, kind) == listed[:10]
    assert _list(client, kind, maxItems=3, neptuneIamRoleArn=ROLE_ARN) == listed[:3]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_items", [0, 1025, -1])
def test_list_rejects_max_items_outside_1_to_1024(api: LocalNeptuneMlApi, kind: str, max_items: int) -> None:
    status, _, answer = raw_request(api.url, "GET", f"/ml/{kind}?maxItems={max_items}")
    assert (status, answer["code"]) == (400, "InvalidParameterException")
    assert "maxItems" in answer["detailedMessage"] and "1 to 1024" in answer["detailedMessage"]


def test_timing_changes_apply_to_jobs_started_later(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.start_ml_data_processing_job(id="job-1", **PROCESSING)
    api.timings.processing = 1000.0
    client.start_ml_data_processing_job(id="job-2", **PROCESSING)
    clock.advance(500.0)
    assert (api.job_status("dataprocessing", "job-1"), api.job_status("dataprocessing", "job-2")) == (
        "Completed", "InProgress")
