"""Fixtures that run the Lambda handler the way CloudFormation and Lambda would, against local servers.

The handler is imported from its source folder (neptune_ml_endpoint/lambda on sys.path).
crhelper answers to a ResponseReceiver (real HTTPS, trusted through SSL_CERT_FILE), its
polling calls reach LocalCloudStubs, and the handler's boto3 neptunedata client talks HTTP to
a LocalNeptuneMlApi. Handler settings are shortened so every test takes about a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import lambda_fixtures  # shared with tests/reliability (tests/support)
import pytest
from handler_driver import FAST, SHORT_SETTINGS, CloudFormation

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

handler_module = lambda_fixtures.handler_module
receiver = lambda_fixtures.receiver
stubs = lambda_fixtures.stubs


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    with LocalNeptuneMlApi(timings=Timings(FAST.creating, FAST.updating, FAST.deleting)) as started:
        yield started


@pytest.fixture
def cloudformation(handler_module: ModuleType, receiver: ResponseReceiver, stubs: LocalCloudStubs,
                   api: LocalNeptuneMlApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudFormation]:
    """The environment the Lambda function would have, and a driver to send it requests."""
    for name, value in {**receiver.env(), **stubs.env(), **SHORT_SETTINGS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    stubs.reset()
    yield CloudFormation(handler_module.handler, receiver, stubs, api)
    assert stubs.rules() == [], "a polling rule was left behind"
    assert stubs.permissions() == [], "a Lambda permission was left behind"
