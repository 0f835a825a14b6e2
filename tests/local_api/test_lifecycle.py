"""Create, get, list and delete through boto3, with statuses advancing on the API's clock."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from local_api_support import ROLE_ARN, ManualClock, detailed_message, make_client

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


def test_create_answers_id_arn_and_creation_time(client: NeptuneDataClient) -> None:
    before = int(time.time() * 1000)
    answer = client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1", neptuneIamRoleArn=ROLE_ARN)
    assert answer["id"] == "ep-1"
    assert answer["arn"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-1"
    assert before <= answer["creationTimeInMillis"] <= int(time.time() * 1000)


def test_creating_becomes_in_service_after_the_creating_time(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Creating"
    clock.advance(api.timings.creating - 0.1)
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Creating"
    clock.advance(0.2)
    answer = client.get_ml_endpoint(id="ep-1")
    assert answer["status"] == answer["endpoint"]["status"] == "InService"
    assert api.status("ep-1") == "InService"


def test_get_describes_the_sagemaker_endpoint_behind_it(client: NeptuneDataClient) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTransformJobId="transform-7")
    answer = client.get_ml_endpoint(id="ep-1", neptuneIamRoleArn=ROLE_ARN)
    assert answer["id"] == "ep-1"
    endpoint = answer["endpoint"]
    assert endpoint["name"] == "ep-1"
    assert endpoint["arn"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-1"
    assert endpoint["outputLocation"].startswith("s3://") and "transform-7" in endpoint["outputLocation"]
    assert "ep-1" in endpoint["cloudwatchLogUrl"] and "region=us-east-1" in endpoint["cloudwatchLogUrl"]
    assert "failureReason" not in endpoint
    assert answer["endpointConfig"]["arn"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/ep-1"


def test_region_and_account_shape_the_arns(clock: ManualClock) -> None:
    with LocalNeptuneMlApi(region="eu-west-1", account="210987654321", clock=clock) as api:
        answer = make_client(api.url).create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert answer["arn"] == "arn:aws:sagemaker:eu-west-1:210987654321:endpoint/ep-1"


def test_sagemaker_arns_name_the_endpoint_in_lowercase_as_sagemaker_does(client: NeptuneDataClient) -> None:
    answer = client.create_ml_endpoint(id="Recs-AbC", mlModelTrainingJobId="training-1")
    status = client.get_ml_endpoint(id="Recs-AbC")

    assert answer["arn"].endswith(":endpoint/recs-abc")
    assert status["endpoint"]["arn"].endswith(":endpoint/recs-abc")
    assert status["endpoint"]["name"] == "Recs-AbC"


def test_delete_then_the_endpoint_is_gone_after_the_deleting_time(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    clock.advance(api.timings.creating)
    assert client.delete_ml_endpoint(id="ep-1", clean=True, neptuneIamRoleArn=ROLE_ARN)["status"] == "Deleting"
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Deleting"
    assert api.endpoint_ids() == ["ep-1"]
    clock.advance(api.timings.deleting + 0.1)
    with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
        client.get_ml_endpoint(id="ep-1")
    assert "ep-1" in detailed_message(raised.value)
    assert api.endpoint_ids() == []
    assert api.status("ep-1") is None
    with pytest.raises(client.exceptions.MLResourceNotFoundException):
        client.delete_ml_endpoint(id="ep-1")


def test_deleting_twice_answers_the_same_and_keeps_the_first_deadline(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    client.delete_ml_endpoint(id="ep-1")
    clock.advance(api.timings.deleting * 0.75)
    assert client.delete_ml_endpoint(id="ep-1")["status"] == "Deleting"
    clock.advance(api.timings.deleting * 0.5)
    assert api.status("ep-1") is None


def test_an_endpoint_can_be_deleted_while_creating_and_its_id_reused(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    client.delete_ml_endpoint(id="ep-1")
    clock.advance(api.timings.deleting + 0.1)
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-2")
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Creating"


def test_unknown_endpoints_are_not_found(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.MLResourceNotFoundException) as raised:
        client.get_ml_endpoint(id="never-made")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "never-made" in detailed_message(raised.value)


def test_list_answers_ids_oldest_first_up_to_max_items(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    ids = [f"ep-{n:02d}" for n in range(12)]
    for endpoint_id in ids:
        client.create_ml_endpoint(id=endpoint_id, mlModelTrainingJobId="job-1")
    client.delete_ml_endpoint(id="ep-00")
    assert client.list_ml_endpoints()["ids"] == ids[:10]
    assert client.list_ml_endpoints(maxItems=3, neptuneIamRoleArn=ROLE_ARN)["ids"] == ids[:3]
    clock.advance(api.timings.deleting + 0.1)
    assert client.list_ml_endpoints(maxItems=1024)["ids"] == ids[1:]
    assert api.endpoint_ids() == ids[1:]


def test_an_id_is_generated_when_the_request_has_none(client: NeptuneDataClient) -> None:
    first = client.create_ml_endpoint(mlModelTrainingJobId="job-1")["id"]
    second = client.create_ml_endpoint(mlModelTrainingJobId="job-1")["id"]
    assert re.fullmatch(r"endpoint-\d{14}-[0-9a-f]{8}", first)
    assert schema.is_endpoint_id(first) and first != second
    assert client.get_ml_endpoint(id=first)["status"] == "Creating"


def test_statuses_advance_in_real_time_by_default_clock() -> None:
    with LocalNeptuneMlApi(timings=Timings(creating=0.05, updating=0.05, deleting=0.05)) as api:
        client = make_client(api.url)
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
        _wait_until(lambda: api.status("ep-1") == "InService")
        assert client.get_ml_endpoint(id="ep-1")["status"] == "InService"
        client.delete_ml_endpoint(id="ep-1")
        _wait_until(lambda: api.status("ep-1") is None)
        with pytest.raises(client.exceptions.MLResourceNotFoundException):
            client.get_ml_endpoint(id="ep-1")


def _wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
