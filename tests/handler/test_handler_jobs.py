"""The three job resource types end to end: real crhelper, boto3 over HTTP to the local Neptune ML API,
CloudFormation-shaped events with string properties."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from handler_driver import FAST, SAFETY_MARGIN, STACK_ID, CloudFormation, LambdaContext, json_input

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.api.faults import Fault
from neptune_ml_endpoint.local.cloudformation.testing import (
    SERVICE_TOKEN,
    CustomResourceRequest,
    custom_resource_event,
)

QUICK = 0.1
SLOW = 1.0
"""Seconds a slow job runs in these tests: longer than a short first invocation waits."""
FIRST_INVOCATION = SAFETY_MARGIN + 0.3


@dataclass(frozen=True)
class JobCase:
    resource_type: str
    api_kind: str
    logical_id: str
    needs: tuple[str, ...]
    """Kinds of completed jobs the job's properties name."""


PROCESSING = JobCase(schema.DATA_PROCESSING_TYPE, "dataprocessing", "Processing", ())
TRAINING = JobCase(schema.MODEL_TRAINING_TYPE, "modeltraining", "Training", ("dataprocessing",))
TRANSFORM = JobCase(schema.MODEL_TRANSFORM_TYPE, "modeltransform", "Transform", ("dataprocessing", "modeltraining"))
CASES = (PROCESSING, TRAINING, TRANSFORM)


class Jobs:
    """Events for job resources, and the jobs they need, on top of the endpoint tests' driver."""

    def __init__(self, cloudformation: CloudFormation) -> None:
        self.cf = cloudformation
        self.api = cloudformation.api

    def completed(self, kind: str, job_id: str) -> str:
        """A job started by hand (as in a notebook) and completed."""
        import boto3

        client = boto3.client("neptunedata", endpoint_url=self.api.url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        if kind == "dataprocessing":
            client.start_ml_data_processing_job(id=job_id, inputDataS3Location="s3://bucket/export/",
                                                processedDataS3Location="s3://bucket/processed/")
        elif kind == "modeltraining":
            processing = self.completed("dataprocessing", f"{job_id}-data")
            client.start_ml_model_training_job(id=job_id, dataProcessingJobId=processing,
                                               trainModelS3Location="s3://bucket/training/")
        _wait_until(lambda: self.api.job_status(kind, job_id) == "Completed")
        return job_id

    def properties(self, case: JobCase, **values: str) -> dict[str, Any]:
        base: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "NeptuneEndpoint": self.api.url}
        if case is PROCESSING:
            base |= {"InputDataS3Location": "s3://bucket/export/", "ProcessedDataS3Location": "s3://bucket/processed/"}
        elif case is TRAINING:
            base |= {"DataProcessingJobId": self.completed("dataprocessing", f"data-{uuid.uuid4().hex[:8]}"),
                     "TrainModelS3Location": "s3://bucket/training/"}
        else:
            training = self.completed("modeltraining", f"model-{uuid.uuid4().hex[:8]}")
            base |= {"DataProcessingJobId": f"{training}-data", "MlModelTrainingJobId": training,
                     "ModelTransformOutputS3Location": "s3://bucket/transform/"}
        return base | values

    def event(self, case: JobCase, request_type: str, properties: dict[str, Any], *,
              physical_id: str | None = None, old_properties: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        request = CustomResourceRequest(request_type, case.logical_id, case.resource_type, SERVICE_TOKEN,
                                        properties, old_properties, physical_id, request_id)
        return custom_resource_event(request, STACK_ID, request_id,
                                     self.cf.receiver.url_for(self.cf.key(case.logical_id, request_id)))

    def starts(self, case: JobCase) -> list[str]:
        return [str(r.endpoint_id) for r in self.api.requests()
                if r.operation == f"StartML{_operation(case)}Job" and r.status_code == 200]

    def operations(self, case: JobCase) -> list[str]:
        return [str(r.operation) for r in self.api.requests() if _operation(case) in str(r.operation)]


def _poll_rules_until_removed(cf: CloudFormation, limit: float = 15.0) -> None:
    """Deliver every polling rule's Input, as EventBridge would each minute, until crhelper removes the rules."""
    import time

    end = time.monotonic() + limit
    while rules := [rule for rule in cf.stubs.rules() if rule.targets]:
        assert time.monotonic() < end, "polling did not end"
        for rule in rules:
            cf.handler(json_input(rule.targets[0].input), LambdaContext(30.0))
        time.sleep(0.1)


def _operation(case: JobCase) -> str:
    return {"dataprocessing": "DataProcessing", "modeltraining": "ModelTraining",
            "modeltransform": "ModelTransform"}[case.api_kind]


def _wait_until(condition: Any, limit: float = 10.0) -> None:
    import time

    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    timings = Timings(FAST.creating, FAST.updating, FAST.deleting, processing=QUICK, training=QUICK,
                      transform=QUICK, stopping=QUICK)
    with LocalNeptuneMlApi(timings=timings) as started:
        yield started


@pytest.fixture
def jobs(cloudformation: CloudFormation) -> Jobs:
    return Jobs(cloudformation)


def _slow(api: LocalNeptuneMlApi) -> None:
    api.timings = Timings(FAST.creating, FAST.updating, FAST.deleting, processing=SLOW, training=SLOW,
                          transform=SLOW, stopping=QUICK)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.api_kind)
def test_create_starts_the_job_and_answers_once_it_is_completed(jobs: Jobs, case: JobCase) -> None:
    answer = jobs.cf.send(jobs.event(case, "Create", jobs.properties(case)))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    job_id = answer["PhysicalResourceId"]
    assert job_id.startswith(case.logical_id + "-")
    assert jobs.api.job_status(case.api_kind, job_id) == "Completed"
    assert jobs.starts(case) == [job_id]
    data = answer["Data"]
    assert data["Id"] == job_id
    assert data["Arn"].startswith("arn:aws:sagemaker:")
    assert data["OutputS3Location"].startswith("s3://bucket/")
    assert data["CloudwatchLogUrl"].startswith("https://")
    assert int(data["CreationTimeInMillis"]) > 0


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.api_kind)
def test_a_long_job_is_waited_for_across_invocations_by_polling(jobs: Jobs, case: JobCase) -> None:
    properties = jobs.properties(case)
    _slow(jobs.api)
    event = jobs.event(case, "Create", properties)

    jobs.cf.invoke(event, seconds=FIRST_INVOCATION)
    assert jobs.cf.receiver.responses(jobs.cf.key_of(event)) == []
    answer = jobs.cf.poll_until_answered(event)

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert jobs.api.job_status(case.api_kind, answer["PhysicalResourceId"]) == "Completed"
    assert len(jobs.starts(case)) == 1


def test_a_failing_job_fails_the_create_with_its_reason_and_log_url(jobs: Jobs) -> None:
    properties = jobs.properties(TRAINING, TrainModelS3Location="s3://bucket/failing-model/")

    answer = jobs.cf.send(jobs.event(TRAINING, "Create", properties))

    assert answer["Status"] == "FAILED"
    job_id = answer["PhysicalResourceId"]
    assert answer["Reason"].startswith("Create: model training job ended Failed: hpoJob: ")
    assert "AlgorithmError" in answer["Reason"]
    assert "(log: https://" in answer["Reason"]
    assert jobs.api.job_status("modeltraining", job_id) == "Failed"


def test_a_retried_create_finds_the_job_the_first_invocation_started(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING)
    _slow(jobs.api)
    event = jobs.event(PROCESSING, "Create", properties)
    jobs.cf.invoke(event, seconds=FIRST_INVOCATION)  # handed over to polling; Lambda then runs the event again

    jobs.cf.invoke(event, seconds=30)

    [answer, *_] = jobs.cf.receiver.responses(jobs.cf.key_of(event))
    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert jobs.starts(PROCESSING) == [answer["PhysicalResourceId"]]
    _poll_rules_until_removed(jobs.cf)  # the first invocation's polling answers too, and removes its rule


def test_a_changed_configuration_is_a_new_job_and_an_unchanged_one_keeps_it(jobs: Jobs) -> None:
    first = jobs.properties(PROCESSING)
    created = jobs.cf.send(jobs.event(PROCESSING, "Create", first))["PhysicalResourceId"]

    kept = jobs.cf.send(jobs.event(PROCESSING, "Update", {**first, "Clean": "true"}, physical_id=created,
                                   old_properties=first))
    changed = {**first, "ProcessingInstanceType": "ml.r5.large"}
    replaced = jobs.cf.send(jobs.event(PROCESSING, "Update", changed, physical_id=created, old_properties=first))
    rerun = jobs.cf.send(jobs.event(PROCESSING, "Update", {**changed, "RunKey": "2026-12-01"},
                                    physical_id=replaced["PhysicalResourceId"], old_properties=changed))

    assert kept["Status"] == "SUCCESS" and kept["PhysicalResourceId"] == created
    assert replaced["Status"] == "SUCCESS" and replaced["PhysicalResourceId"] != created
    assert rerun["Status"] == "SUCCESS" and rerun["PhysicalResourceId"] not in (created, replaced["PhysicalResourceId"])
    assert jobs.starts(PROCESSING) == [created, replaced["PhysicalResourceId"], rerun["PhysicalResourceId"]]


def test_the_rollback_of_a_failed_retrain_returns_to_the_completed_job_without_starting_one(jobs: Jobs) -> None:
    good = jobs.properties(TRAINING)
    created = jobs.cf.send(jobs.event(TRAINING, "Create", good))["PhysicalResourceId"]
    bad = {**good, "TrainModelS3Location": "s3://bucket/failing-retrain/"}

    failed = jobs.cf.send(jobs.event(TRAINING, "Update", bad, physical_id=created, old_properties=good))
    rollback = jobs.cf.send(jobs.event(TRAINING, "Update", good, physical_id=created, old_properties=bad))

    assert failed["Status"] == "FAILED" and failed["PhysicalResourceId"] == created
    assert rollback["Status"] == "SUCCESS" and rollback["PhysicalResourceId"] == created
    assert len(jobs.starts(TRAINING)) == 2


def test_a_configuration_whose_job_failed_runs_again_under_the_next_id(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING, InputDataS3Location="s3://bucket/failing-export/")
    failed = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))
    jobs.cf.send(jobs.event(PROCESSING, "Delete", properties, physical_id=failed["PhysicalResourceId"]))

    again = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))

    assert again["Status"] == "FAILED"
    assert again["PhysicalResourceId"] != failed["PhysicalResourceId"]
    assert len(jobs.starts(PROCESSING)) == 2


def test_delete_cancels_a_running_job_with_clean_and_answers_once_it_has_stopped(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING, Clean="true")
    _slow(jobs.api)
    event = jobs.event(PROCESSING, "Create", properties)
    jobs.cf.invoke(event, seconds=FIRST_INVOCATION)
    [job_id] = jobs.starts(PROCESSING)

    answer = jobs.cf.send(jobs.event(PROCESSING, "Delete", properties, physical_id=job_id))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert jobs.api.job_status("dataprocessing", job_id) == "Stopped"
    cancels = [r for r in jobs.api.requests() if r.operation == "CancelMLDataProcessingJob"]
    assert len(cancels) == 1
    jobs.cf.poll_until_answered(event)  # the create's polling ends too: the job it waited for stopped
    assert jobs.cf.receiver.responses(jobs.cf.key_of(event))[0]["Status"] == "FAILED"


def test_delete_leaves_a_finished_job_alone(jobs: Jobs) -> None:
    properties = jobs.properties(TRANSFORM)
    job_id = jobs.cf.send(jobs.event(TRANSFORM, "Create", properties))["PhysicalResourceId"]

    answer = jobs.cf.send(jobs.event(TRANSFORM, "Delete", properties, physical_id=job_id))

    assert answer["Status"] == "SUCCESS"
    assert "CancelMLModelTransformJob" not in jobs.operations(TRANSFORM)


def test_an_explicit_id_taken_by_a_job_made_by_hand_is_left_alone(jobs: Jobs) -> None:
    jobs.completed("dataprocessing", "made-by-hand")

    answer = jobs.cf.send(jobs.event(PROCESSING, "Create", jobs.properties(PROCESSING, Id="made-by-hand")))
    delete = jobs.cf.send(jobs.event(PROCESSING, "Delete", jobs.properties(PROCESSING, Id="made-by-hand"),
                                     physical_id=answer["PhysicalResourceId"]))

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("Create: AlreadyExists: data processing job id made-by-hand is taken by a data "
                                       "processing job this stack did not create")
    assert answer["PhysicalResourceId"] != "made-by-hand"
    assert delete["Status"] == "SUCCESS"
    assert jobs.starts(PROCESSING) == ["made-by-hand"]
    assert "CancelMLDataProcessingJob" not in jobs.operations(PROCESSING)


def test_an_explicit_id_is_used_a_changed_configuration_under_it_refused_and_its_rollback_kept(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING, Id="nightly-processing")
    created = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))
    changed = {**properties, "ProcessingInstanceType": "ml.r5.large"}

    update = jobs.cf.send(jobs.event(PROCESSING, "Update", changed, physical_id="nightly-processing",
                                     old_properties=properties))

    rollback = jobs.cf.send(jobs.event(PROCESSING, "Update", properties, physical_id="nightly-processing",
                                       old_properties=changed))
    delete = jobs.cf.send(jobs.event(PROCESSING, "Delete", properties, physical_id="nightly-processing"))

    assert created["Status"] == "SUCCESS" and created["PhysicalResourceId"] == "nightly-processing"
    assert update["Status"] == "FAILED" and update["PhysicalResourceId"] == "nightly-processing"
    assert "jobs cannot be changed" in update["Reason"] and "(job_id)" in update["Reason"]
    assert rollback["Status"] == "SUCCESS" and rollback["PhysicalResourceId"] == "nightly-processing"
    assert jobs.starts(PROCESSING) == ["nightly-processing"]
    assert delete["Status"] == "SUCCESS"
    assert jobs.cf.stubs.rules() == []  # the job's creation marker went with its delete


def test_invalid_properties_fail_naming_the_property_before_any_job_starts(jobs: Jobs) -> None:
    properties = jobs.properties(TRAINING, MaxHPONumberOfTrainingJobs="many", Typo="x")
    del properties["Typo"]

    answer = jobs.cf.send(jobs.event(TRAINING, "Create", properties))

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("MaxHPONumberOfTrainingJobs: 'many' is not a whole number")
    assert jobs.starts(TRAINING) == []


def test_a_job_still_running_near_the_service_timeout_is_cancelled_and_the_request_fails(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING, ServiceTimeout="1")
    _slow(jobs.api)
    jobs.api.timings = Timings(FAST.creating, FAST.updating, FAST.deleting, processing=30.0, stopping=QUICK)

    answer = jobs.cf.send(jobs.event(PROCESSING, "Create", properties), seconds=SAFETY_MARGIN + 3)

    assert answer["Status"] == "FAILED"
    assert "was still running when the resource's ServiceTimeout was nearly up, so it was cancelled" in answer["Reason"]
    [job_id] = jobs.starts(PROCESSING)
    _wait_until(lambda: jobs.api.job_status("dataprocessing", job_id) == "Stopped")


def test_a_throttled_api_still_gives_exactly_one_job(jobs: Jobs) -> None:
    properties = jobs.properties(PROCESSING)
    jobs.api.set_rate_limit(3)

    answer = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert len(jobs.api.job_ids("dataprocessing")) == 1


def test_training_fields_botocore_lacks_reach_the_request_body(jobs: Jobs) -> None:
    properties = jobs.properties(TRAINING, ModelName="custom", EnableManagedSpotTraining="true", MaxWaitTime="7200",
                                 EnableInterContainerTrafficEncryption="TRUE", MaxHPONumberOfTrainingJobs="4",
                                 CustomModelTrainingParameters={"SourceS3DirectoryPath": "s3://bucket/code/",
                                                                "TrainingEntryPointScript": "train.py"})

    answer = jobs.cf.send(jobs.event(TRAINING, "Create", properties))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    sent = jobs.api.job_request("modeltraining", answer["PhysicalResourceId"])
    assert sent is not None
    assert (sent["modelName"], sent["maxWaitTime"], sent["enableInterContainerTrafficEncryption"]) == ("custom", 7200,
                                                                                                      True)
    assert (sent["enableManagedSpotTraining"], sent["maxHPONumberOfTrainingJobs"]) == (True, 4)
    assert sent["customModelTrainingParameters"] == {"sourceS3DirectoryPath": "s3://bucket/code/",
                                                     "trainingEntryPointScript": "train.py"}


def test_a_resource_type_the_handler_does_not_serve_fails_with_the_types_it_serves(jobs: Jobs) -> None:
    unknown = JobCase("Custom::NeptuneMlSomethingElse", "dataprocessing", "Other", ())

    answer = jobs.cf.send(jobs.event(unknown, "Create", jobs.properties(PROCESSING)))

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("ResourceType 'Custom::NeptuneMlSomethingElse' is not served by this handler")
    assert jobs.api.requests() == []


# --- waits past the custom resource's hour: a WaitConditionHandle signalled by a watcher ---------


def _watchers(cf: CloudFormation) -> list[Any]:
    return [rule for rule in cf.stubs.rules() if rule.targets and "NeptuneMlWatch" in str(rule.targets[0].input)]


def _tick_until_no_watcher(cf: CloudFormation, limit: float = 15.0) -> int:
    """Deliver each watcher rule's Input, as EventBridge would every minute, until none is left; the ticks made."""
    import time

    ticks, end = 0, time.monotonic() + limit
    while rules := _watchers(cf):
        assert time.monotonic() < end, "the watcher did not stop"
        for rule in rules:
            cf.handler(json_input(rule.targets[0].input), LambdaContext(30.0))
            ticks += 1
        time.sleep(0.1)
    return ticks


def _long(jobs: Jobs, case: JobCase, handle: str, **values: str) -> dict[str, Any]:
    return jobs.properties(case, CompletionSignalUrl=jobs.cf.receiver.url_for(handle),
                           CompletionTimeoutSeconds="43200", **values)


def test_with_a_completion_handle_the_resource_answers_once_the_job_started_and_the_watcher_signals_it(
        jobs: Jobs) -> None:
    _slow(jobs.api)
    properties = _long(jobs, TRAINING, "handle-1")

    answer = jobs.cf.send(jobs.event(TRAINING, "Create", properties))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    job_id = answer["PhysicalResourceId"]
    assert jobs.api.job_status("modeltraining", job_id) == "InProgress"
    [watcher] = _watchers(jobs.cf)
    assert watcher.schedule_expression == "rate(1 minute)"
    assert jobs.cf.receiver.responses("handle-1") == []
    assert _tick_until_no_watcher(jobs.cf) >= 2
    [signal] = jobs.cf.receiver.responses("handle-1")
    assert (signal["Status"], signal["UniqueId"], signal["Data"]) == ("SUCCESS", job_id, job_id)
    assert jobs.api.job_status("modeltraining", job_id) == "Completed"
    assert jobs.cf.stubs.permissions() == []


def test_a_job_failing_during_the_long_wait_signals_failure_with_its_reason(jobs: Jobs) -> None:
    _slow(jobs.api)
    properties = _long(jobs, TRAINING, "handle-2", TrainModelS3Location="s3://bucket/failing-long/")

    answer = jobs.cf.send(jobs.event(TRAINING, "Create", properties))
    _tick_until_no_watcher(jobs.cf)

    assert answer["Status"] == "SUCCESS"
    [signal] = jobs.cf.receiver.responses("handle-2")
    assert signal["Status"] == "FAILURE"
    assert signal["Reason"].startswith(f"Job {answer['PhysicalResourceId']} ended Failed: hpoJob ")
    assert "AlgorithmError" in signal["Reason"] and "(log: https://" in signal["Reason"]


def test_deleting_a_job_during_the_long_wait_cancels_it_and_stops_its_watcher(jobs: Jobs) -> None:
    _slow(jobs.api)
    properties = _long(jobs, PROCESSING, "handle-3")
    job_id = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))["PhysicalResourceId"]
    assert len(_watchers(jobs.cf)) == 1

    delete = jobs.cf.send(jobs.event(PROCESSING, "Delete", properties, physical_id=job_id))

    assert delete["Status"] == "SUCCESS", delete.get("Reason")
    assert _watchers(jobs.cf) == [] and jobs.cf.stubs.permissions() == []
    assert jobs.api.job_status("dataprocessing", job_id) == "Stopped"
    assert jobs.cf.receiver.responses("handle-3") == []


def test_a_job_running_when_the_wait_is_nearly_up_is_cancelled_and_the_wait_fails(jobs: Jobs) -> None:
    jobs.api.timings = Timings(FAST.creating, FAST.updating, FAST.deleting, processing=60.0, stopping=QUICK)
    properties = jobs.properties(PROCESSING, CompletionSignalUrl=jobs.cf.receiver.url_for("handle-4"),
                                 CompletionTimeoutSeconds="2")
    job_id = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))["PhysicalResourceId"]

    _tick_until_no_watcher(jobs.cf)

    [signal] = jobs.cf.receiver.responses("handle-4")
    assert signal["Status"] == "FAILURE"
    assert "was still running when the wait's timeout was nearly up, so it was cancelled" in signal["Reason"]
    _wait_until(lambda: jobs.api.job_status("dataprocessing", job_id) == "Stopped")


def test_a_replacement_during_an_update_signals_only_the_new_jobs_handle(jobs: Jobs) -> None:
    first = _long(jobs, PROCESSING, "handle-old")
    old_id = jobs.cf.send(jobs.event(PROCESSING, "Create", first))["PhysicalResourceId"]
    _tick_until_no_watcher(jobs.cf)
    _slow(jobs.api)
    second = {**first, "RunKey": "v2", "CompletionSignalUrl": jobs.cf.receiver.url_for("handle-new")}

    update = jobs.cf.send(jobs.event(PROCESSING, "Update", second, physical_id=old_id, old_properties=first))
    _tick_until_no_watcher(jobs.cf)

    new_id = update["PhysicalResourceId"]
    assert new_id != old_id
    assert [s["UniqueId"] for s in jobs.cf.receiver.responses("handle-old")] == [old_id]
    assert [(s["Status"], s["UniqueId"]) for s in jobs.cf.receiver.responses("handle-new")] == [("SUCCESS", new_id)]


def test_an_update_that_keeps_the_job_signals_a_new_handle_for_it(jobs: Jobs) -> None:
    first = _long(jobs, PROCESSING, "handle-a")
    job_id = jobs.cf.send(jobs.event(PROCESSING, "Create", first))["PhysicalResourceId"]
    _tick_until_no_watcher(jobs.cf)
    longer = {**first, "CompletionTimeoutSeconds": "30000", "CompletionSignalUrl": jobs.cf.receiver.url_for("handle-b")}

    update = jobs.cf.send(jobs.event(PROCESSING, "Update", longer, physical_id=job_id, old_properties=first))
    _tick_until_no_watcher(jobs.cf)

    assert update["PhysicalResourceId"] == job_id
    assert [(s["Status"], s["UniqueId"]) for s in jobs.cf.receiver.responses("handle-b")] == [("SUCCESS", job_id)]
    assert jobs.starts(PROCESSING) == [job_id]


def test_a_crashed_watcher_tick_loses_nothing_the_next_one_signals(jobs: Jobs) -> None:
    properties = _long(jobs, PROCESSING, "handle-5")
    job_id = jobs.cf.send(jobs.event(PROCESSING, "Create", properties))["PhysicalResourceId"]
    _wait_until(lambda: jobs.api.job_status("dataprocessing", job_id) == "Completed")
    jobs.api.add_fault(Fault("server_error", operation="GetMLDataProcessingJob", count=None))

    [watcher] = _watchers(jobs.cf)
    jobs.cf.handler(json_input(watcher.targets[0].input), LambdaContext(30.0))  # every attempt of its Get fails
    assert jobs.cf.receiver.responses("handle-5") == [] and len(_watchers(jobs.cf)) == 1
    jobs.api.clear_faults()
    _tick_until_no_watcher(jobs.cf)

    assert [(s["Status"], s["UniqueId"]) for s in jobs.cf.receiver.responses("handle-5")] == [("SUCCESS", job_id)]


def test_the_handle_url_is_never_logged(jobs: Jobs, caplog: pytest.LogCaptureFixture) -> None:
    properties = _long(jobs, PROCESSING, "secret-handle-path")
    caplog.set_level("DEBUG")

    jobs.cf.send(jobs.event(PROCESSING, "Create", properties))
    _tick_until_no_watcher(jobs.cf)

    assert jobs.cf.receiver.responses("secret-handle-path")
    assert "secret-handle-path" not in caplog.text
