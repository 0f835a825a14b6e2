"""The "failing-" convention: a job id starting with it makes the endpoint end Failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from local_api_support import ManualClock

from neptune_ml_endpoint.local.api import FAILING_JOB_PREFIX, LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


@pytest.mark.parametrize(("field", "kind"), [("mlModelTrainingJobId", "training"),
                                             ("mlModelTransformJobId", "transform")])
def test_a_failing_job_ends_failed_with_a_reason_naming_the_job(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, field: str, kind: str
) -> None:
    job_id = f"{FAILING_JOB_PREFIX}x"
    client.create_ml_endpoint(id="ep-1", **{field: job_id})  # type: ignore[arg-type]
    creating = client.get_ml_endpoint(id="ep-1")
    assert creating["status"] == "Creating" and "failureReason" not in creating["endpoint"]
    clock.advance(api.timings.creating)
    answer = client.get_ml_endpoint(id="ep-1")
    assert answer["status"] == answer["endpoint"]["status"] == "Failed"
    assert answer["endpoint"]["failureReason"] == (
        f"Model artifacts for {kind} job 'failing-x' could not be loaded")


def test_updating_to_a_failing_job_ends_failed(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    clock.advance(api.timings.creating)
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="failing-retrain", update=True)
    clock.advance(api.timings.updating)
    answer = client.get_ml_endpoint(id="ep-1")
    assert answer["status"] == "Failed"
    assert "'failing-retrain'" in answer["endpoint"]["failureReason"]


def test_the_prefix_must_start_the_id(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-failing-1")
    clock.advance(api.timings.creating)
    assert api.status("ep-1") == "InService"
