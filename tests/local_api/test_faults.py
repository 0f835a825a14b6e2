"""Injected faults as boto3 sees them: raw with one attempt, recovered by botocore's standard retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from hypothesis import given
from hypothesis import strategies as st
from local_api_support import PROCESSING, detailed_message, make_client, raw_request

from neptune_ml_endpoint.local.api import OPERATIONS, Fault, LocalNeptuneMlApi
from neptune_ml_endpoint.local.api.faults import FaultPlan
from neptune_ml_endpoint.local.api.routes import JOB_KINDS

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

REFUSALS = [
    ("throttle", "TooManyRequestsException", 429),
    ("timeout", "ClientTimeoutException", 408),
    ("server_error", "InternalFailureException", 500),
]


@pytest.mark.parametrize(("kind", "code", "status"), REFUSALS)
def test_a_refusal_reaches_a_one_attempt_client_and_nothing_is_done(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, kind: str, code: str, status: int
) -> None:
    api.add_fault(Fault(kind, operation="CreateMLEndpoint"))  # type: ignore[arg-type]
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert kind in response["detailedMessage"]
    assert api.endpoint_ids() == []
    assert [(r.operation, r.status_code, r.fault) for r in api.requests()] == [
        ("CreateMLEndpoint", status, kind)]


@pytest.mark.parametrize(("kind", "code", "status"), REFUSALS)
def test_standard_retries_recover_from_a_refusal(
    api: LocalNeptuneMlApi, kind: str, code: str, status: int
) -> None:
    retrying = make_client(api.url, attempts=3)
    api.add_fault(Fault(kind, operation="CreateMLEndpoint"))  # type: ignore[arg-type]
    answer = retrying.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [(r.status_code, r.fault) for r in api.requests()] == [(status, kind), (200, None)]


def test_a_reset_closes_the_connection_without_an_answer(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    api.add_fault(Fault("reset", operation="CreateMLEndpoint"))
    with pytest.raises(ConnectionClosedError):
        client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert api.endpoint_ids() == []
    assert [(r.status_code, r.fault) for r in api.requests()] == [(None, "reset")]


def test_standard_retries_recover_from_a_reset(api: LocalNeptuneMlApi) -> None:
    retrying = make_client(api.url, attempts=3)
    retrying.list_ml_endpoints()  # a pooled keep-alive connection, which the reset then breaks
    api.add_fault(Fault("reset"))
    assert retrying.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")["id"] == "ep-1"
    assert [r.fault for r in api.requests()] == [None, "reset", None]


def test_a_slow_answer_times_out_after_the_side_effect(api: LocalNeptuneMlApi) -> None:
    impatient = make_client(api.url, read_timeout=0.2)
    api.add_fault(Fault("slow", operation="CreateMLEndpoint", delay=1.0))
    with pytest.raises(ReadTimeoutError):
        impatient.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert api.endpoint_ids() == ["ep-1"]


def test_retrying_a_slow_create_finds_the_endpoint_already_made(api: LocalNeptuneMlApi) -> None:
    impatient = make_client(api.url, attempts=2, read_timeout=0.2)
    api.add_fault(Fault("slow", operation="CreateMLEndpoint", delay=1.0))
    with pytest.raises(impatient.exceptions.BadRequestException) as raised:
        impatient.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert "already exists" in detailed_message(raised.value)
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1


def test_skip_and_count_choose_which_matching_requests_fail(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    api.add_fault(Fault("throttle", operation="GetMLEndpoint", skip=1, count=2))
    outcomes = []
    for _ in range(4):
        try:
            client.get_ml_endpoint(id="ep-1")
            outcomes.append("ok")
        except client.exceptions.TooManyRequestsException:
            outcomes.append("throttled")
        client.list_ml_endpoints()  # another operation: never matched
    assert outcomes == ["ok", "throttled", "throttled", "ok"]


def test_a_fault_without_operation_matches_every_operation_until_cleared(
    api: LocalNeptuneMlApi, client: NeptuneDataClient
) -> None:
    api.add_fault(Fault("timeout", count=None))
    for call in (client.list_ml_endpoints, lambda: client.get_ml_endpoint(id="ep-1"),
                 lambda: client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")):
        with pytest.raises(client.exceptions.ClientTimeoutException):
            call()
    api.clear_faults()
    assert client.list_ml_endpoints()["ids"] == []


@pytest.mark.parametrize(("kind", "code", "status"), REFUSALS)
def test_a_refusal_of_a_job_start_starts_nothing_and_is_recorded(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, kind: str, code: str, status: int
) -> None:
    api.add_fault(Fault(kind, operation="StartMLDataProcessingJob"))  # type: ignore[arg-type]
    with pytest.raises(getattr(client.exceptions, code)):
        client.start_ml_data_processing_job(id="job-1", **PROCESSING)
    assert api.job_ids("dataprocessing") == []
    client.start_ml_data_processing_job(id="job-1", **PROCESSING)
    assert [(r.operation, r.endpoint_id, r.status_code, r.fault, r.path) for r in api.requests()] == [
        ("StartMLDataProcessingJob", None, status, kind, "/ml/dataprocessing"),
        ("StartMLDataProcessingJob", "job-1", 200, None, "/ml/dataprocessing")]


JOB_REQUESTS = [request for kind in JOB_KINDS for request in (
    (kind.start, "POST", kind.path), (kind.list, "GET", kind.path),
    (kind.get, "GET", f"{kind.path}/job-1"), (kind.remove, "DELETE", f"{kind.path}/job-1"))]


def test_faults_accept_every_operation_the_api_serves() -> None:
    assert {operation for operation, _, _ in JOB_REQUESTS} < set(OPERATIONS)
    assert len(OPERATIONS) == 16
    assert Fault.parse("throttle,operation=CancelMLModelTransformJob").operation == "CancelMLModelTransformJob"


@pytest.mark.parametrize(("operation", "method", "target"), JOB_REQUESTS)
def test_every_job_operation_can_be_targeted(
    api: LocalNeptuneMlApi, operation: str, method: str, target: str
) -> None:
    api.add_fault(Fault("timeout", operation=operation))
    status, _, answer = raw_request(api.url, method, target, b"{}")
    assert (status, answer["code"]) == (408, "ClientTimeoutException")
    recorded = api.requests()[-1]
    assert (recorded.operation, recorded.fault, recorded.error_code, recorded.method) == (
        operation, "timeout", "ClientTimeoutException", method)
    assert recorded.endpoint_id == ("job-1" if target.endswith("/job-1") else None)


def test_retrying_a_slow_job_start_finds_the_id_taken(api: LocalNeptuneMlApi) -> None:
    impatient = make_client(api.url, attempts=2, read_timeout=0.2)
    api.add_fault(Fault("slow", operation="StartMLDataProcessingJob", delay=1.0))
    with pytest.raises(impatient.exceptions.BadRequestException) as raised:
        impatient.start_ml_data_processing_job(id="job-1", **PROCESSING)
    assert "already exists" in detailed_message(raised.value)
    assert api.job_ids("dataprocessing") == ["job-1"]


@given(skip=st.integers(0, 5), count=st.integers(1, 5), requests=st.integers(0, 15))
def test_a_fault_applies_to_exactly_the_requests_after_skip_for_count(skip: int, count: int,
                                                                       requests: int) -> None:
    plan = FaultPlan()
    plan.add(Fault("throttle", operation="GetMLEndpoint", skip=skip, count=count))
    applied = [n for n in range(requests)
               if plan.take("ListMLEndpoints") is None and plan.take("GetMLEndpoint") is not None]
    assert applied == [n for n in range(skip, skip + count) if n < requests]


@pytest.mark.parametrize(
    "arguments",
    [{"kind": "explode"}, {"kind": "slow"}, {"kind": "throttle", "operation": "GetEndpoint"},
     {"kind": "throttle", "count": 0}, {"kind": "throttle", "skip": -1}],
)
def test_faults_that_make_no_sense_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Fault(**arguments)  # type: ignore[arg-type]


def test_faults_parse_from_command_line_text() -> None:
    assert Fault.parse("slow,operation=CreateMLEndpoint,delay=0.5,skip=2") == Fault(
        "slow", operation="CreateMLEndpoint", delay=0.5, skip=2)
    assert Fault.parse("throttle, count=all") == Fault("throttle", count=None)
    with pytest.raises(ValueError, match="colour"):
        Fault.parse("throttle,colour=red")
