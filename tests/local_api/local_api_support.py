"""Helpers for the local Neptune ML API's tests: a manual clock, boto3 clients, raw HTTP."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

ROLE_ARN = "arn:aws:iam::123456789012:role/NeptuneMlRole"
# One session for every client: it loads the service model once. Create clients in one thread.
_SESSION = boto3.session.Session()


class ManualClock:
    """A monotonic clock that moves only when a test advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def make_client(url: str, attempts: int = 1, verify: bool | str | None = None,
                **config: Any) -> NeptuneDataClient:
    """A neptunedata client for the local API; one attempt shows raw errors, more retry in standard mode."""
    options: dict[str, Any] = {"connect_timeout": 2, "read_timeout": 5, "max_pool_connections": 32, **config}
    settings = Config(retries={"mode": "standard", "total_max_attempts": attempts}, **options)
    return _SESSION.client("neptunedata", endpoint_url=url, config=settings, verify=verify)


def detailed_message(error: ClientError) -> str:
    """The text of a Neptune error, which botocore keeps in response["detailedMessage"]."""
    response: dict[str, Any] = dict(error.response)
    return str(response["detailedMessage"])


def refusal_message(client: NeptuneDataClient, code: str, call: Callable[[], object], status: int = 400) -> str:
    """Make the call, which must fail with Neptune's error `code` and HTTP `status`; its detailedMessage."""
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        call()
    response: dict[str, Any] = dict(raised.value.response)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["Error"]["Code"] == code
    return str(response["detailedMessage"])


def raw_request(url: str, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Send one request as written (no client-side checks or encoding); (status, headers, JSON body)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(payload)
    finally:
        connection.close()


PROCESSING = {"inputDataS3Location": "s3://graph-export/movies/", "processedDataS3Location": "s3://ml-bucket/processed/"}
TRAINING = {"trainModelS3Location": "s3://ml-bucket/training/"}
TRANSFORM = {"modelTransformOutputS3Location": "s3://ml-bucket/transform/"}


def completed_chain(client: NeptuneDataClient, clock: ManualClock, prefix: str = "movies") -> tuple[str, str]:
    """A Completed processing job and a Completed training job on it: (processing id, training id)."""
    processing = client.start_ml_data_processing_job(id=f"{prefix}-processing", **PROCESSING)["id"]
    clock.advance(10_000)
    training = client.start_ml_model_training_job(id=f"{prefix}-training", dataProcessingJobId=processing,
                                                  **TRAINING)["id"]
    clock.advance(10_000)
    return processing, training
