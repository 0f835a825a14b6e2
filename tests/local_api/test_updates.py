"""update=true: which endpoints may be updated, and what an update keeps and changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from local_api_support import ManualClock, detailed_message

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


def test_creating_an_existing_id_without_update_is_a_bad_request(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    for update in (None, False):
        arguments: dict[str, Any] = {} if update is None else {"update": update}
        with pytest.raises(client.exceptions.BadRequestException) as raised:
            client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-2", **arguments)
        message = detailed_message(raised.value)
        assert "'ep-1' already exists" in message and "set update to true" in message
    clock.advance(api.timings.creating)
    client.delete_ml_endpoint(id="ep-1")
    with pytest.raises(client.exceptions.BadRequestException):
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-2")


def test_updating_an_unknown_endpoint_is_not_found(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
        client.create_ml_endpoint(id="nobody", mlModelTrainingJobId="job-1", update=True)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "nobody" in detailed_message(raised.value)


@pytest.mark.parametrize("busy_status", ["Creating", "Updating", "Deleting"])
def test_an_endpoint_in_transition_cannot_be_updated(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock, busy_status: str
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    if busy_status != "Creating":
        clock.advance(api.timings.creating)
    if busy_status == "Updating":
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-2", update=True)
    if busy_status == "Deleting":
        client.delete_ml_endpoint(id="ep-1")
    assert api.status("ep-1") == busy_status
    with pytest.raises(client.exceptions.PreconditionsFailedException) as raised:
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-3", update=True)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert busy_status in detailed_message(raised.value)
    assert api.status("ep-1") == busy_status


def test_an_update_keeps_arn_and_creation_time_and_serves_the_new_model(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    created = client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    clock.advance(api.timings.creating)
    updated = client.create_ml_endpoint(id="ep-1", mlModelTransformJobId="transform-2", update=True,
                                        instanceCount=2)
    assert (updated["id"], updated["arn"], updated["creationTimeInMillis"]) == (
        created["id"], created["arn"], created["creationTimeInMillis"])
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Updating"
    clock.advance(api.timings.updating - 0.1)
    assert api.status("ep-1") == "Updating"
    clock.advance(0.2)
    answer = client.get_ml_endpoint(id="ep-1")
    assert answer["status"] == "InService"
    assert "transform-2" in answer["endpoint"]["outputLocation"]


def test_a_failed_endpoint_can_be_updated_to_a_working_model(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="failing-job")
    clock.advance(api.timings.creating)
    assert api.status("ep-1") == "Failed"
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-2", update=True)
    assert api.status("ep-1") == "Updating"
    clock.advance(api.timings.updating)
    answer = client.get_ml_endpoint(id="ep-1")
    assert answer["status"] == "InService"
    assert "failureReason" not in answer["endpoint"]


def test_timing_changes_apply_to_transitions_that_start_later(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    api.timings.creating = 100.0
    client.create_ml_endpoint(id="ep-2", mlModelTrainingJobId="job-1")
    clock.advance(50.0)
    assert (api.status("ep-1"), api.status("ep-2")) == ("InService", "Creating")


def test_an_update_needs_an_id(api: LocalNeptuneMlApi, client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.MissingParameterException) as raised:
        client.create_ml_endpoint(mlModelTrainingJobId="job-1", update=True)
    assert detailed_message(raised.value).startswith("id:")
    assert api.endpoint_ids() == []
