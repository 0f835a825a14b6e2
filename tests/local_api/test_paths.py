"""Request paths: ids are decoded once and checked before any state is touched; unknown routes."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_api_support import ManualClock, detailed_message, raw_request

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Fault, LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient


@pytest.mark.parametrize(
    "path",
    ["/ml/endpoints/../x", "/ml/endpoints/a%2Fb", "/ml/endpoints/a%252Fb", "/ml/endpoints/",
     "/ml/endpoints/a/b", "/ml/endpoints/%2e%2e", "/ml/endpoints/ep%201", "/ml/endpoints/-ep"],
)
def test_paths_that_do_not_name_an_endpoint_are_bad_requests(api: LocalNeptuneMlApi, path: str) -> None:
    status, _, answer = raw_request(api.url, "GET", path)
    assert (status, answer["code"]) == (400, "BadRequestException")
    assert answer["detailedMessage"].startswith("The endpoint id in the path:")


def test_a_bad_path_id_changes_nothing(
    api: LocalNeptuneMlApi, client: NeptuneDataClient, clock: ManualClock
) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    clock.advance(api.timings.creating)
    api.add_fault(Fault("throttle", operation="DeleteMLEndpoint"))
    status, _, _ = raw_request(api.url, "DELETE", "/ml/endpoints/ep-1/../ep-1")
    assert status == 400
    assert api.status("ep-1") == "InService"
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.delete_ml_endpoint(id="ep-1")  # the planned fault was not used up by the bad request


def test_boto3_sends_a_slash_in_an_id_encoded_and_is_refused(client: NeptuneDataClient) -> None:
    with pytest.raises(client.exceptions.BadRequestException) as raised:
        client.get_ml_endpoint(id="a/b")
    assert "'a/b' is not a valid endpoint id" in detailed_message(raised.value)


def test_a_percent_encoded_valid_id_is_decoded(api: LocalNeptuneMlApi, client: NeptuneDataClient) -> None:
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    status, _, answer = raw_request(api.url, "GET", "/ml/endpoints/ep%2D1")
    assert (status, answer["id"]) == (200, "ep-1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=70))
def test_any_text_in_the_path_is_either_a_valid_id_or_refused(api: LocalNeptuneMlApi, text: str) -> None:
    status, _, answer = raw_request(api.url, "GET", "/ml/endpoints/" + quote(text, safe=""))
    if schema.is_endpoint_id(text):
        assert (status, answer["code"]) == (404, "MLResourceNotFoundException")
    else:
        assert (status, answer["code"]) == (400, "BadRequestException")


@pytest.mark.parametrize(("method", "path"), [("PUT", "/ml/endpoints"), ("DELETE", "/ml/endpoints"),
                                              ("POST", "/ml/endpoints/ep-1"), ("PATCH", "/ml/endpoints/ep-1"),
                                              ("OPTIONS", "/ml/endpoints")])
def test_unsupported_methods_are_unsupported_operations(api: LocalNeptuneMlApi, method: str, path: str) -> None:
    status, _, answer = raw_request(api.url, method, path, b"{}")
    assert (status, answer["code"]) == (400, "UnsupportedOperationException")
    assert method in answer["detailedMessage"]


@pytest.mark.parametrize("path", ["/gremlin", "/ml/endpoint", "/", "/ml/endpointsx"])
def test_unknown_paths_are_not_found(api: LocalNeptuneMlApi, path: str) -> None:
    status, _, answer = raw_request(api.url, "GET", path)
    assert (status, answer["code"]) == (404, "UnsupportedOperationException")
    assert "/ml/endpoints" in answer["detailedMessage"]


def test_a_malformed_request_gets_a_json_error(api: LocalNeptuneMlApi) -> None:
    host, port = api.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
        answer = connection.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert json.loads(body)["code"] == "BadRequestException"


def test_any_sigv4_authorization_is_accepted(api: LocalNeptuneMlApi) -> None:
    header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/neptune-db/aws4_request, " \
             "SignedHeaders=host, Signature=0000"
    status, _, answer = raw_request(api.url, "GET", "/ml/endpoints", headers={"Authorization": header})
    assert (status, answer) == (200, {"ids": []})
