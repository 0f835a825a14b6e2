"""The rate limit: a token bucket over all operations, answering 429 when it is empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from local_api_support import ManualClock, detailed_message

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


def test_requests_above_the_rate_are_throttled_whatever_the_operation(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    api.set_rate_limit(2)
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    client.list_ml_endpoints()
    with pytest.raises(client.exceptions.TooManyRequestsException) as raised:
        client.get_ml_endpoint(id="ep-1")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "rate limit" in detailed_message(raised.value)
    assert api.requests()[-1].fault == "rate_limit"
    clock.advance(0.5)  # one token back at 2 per second
    assert client.get_ml_endpoint(id="ep-1")["id"] == "ep-1"
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.delete_ml_endpoint(id="ep-1")
    assert api.status("ep-1") == "Creating"


def test_a_quiet_period_refills_the_bucket_only_up_to_one_second_of_requests(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    api.set_rate_limit(3)
    clock.advance(60)
    results = []
    for _ in range(5):
        try:
            client.list_ml_endpoints()
            results.append(200)
        except client.exceptions.TooManyRequestsException:
            results.append(429)
    assert results == [200, 200, 200, 429, 429]


def test_removing_the_rate_limit_lets_everything_through(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    api.set_rate_limit(1)
    client.list_ml_endpoints()
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.list_ml_endpoints()
    api.set_rate_limit(None)
    for _ in range(5):
        client.list_ml_endpoints()


@pytest.mark.parametrize("rate", [0, -1])
def test_a_rate_must_be_positive(api: LocalNeptuneMlApi, rate: float) -> None:
    with pytest.raises(ValueError):
        api.set_rate_limit(rate)
