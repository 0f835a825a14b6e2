"""Fixtures for the reliability tests: the handler as Lambda runs it, against local servers.

The building blocks (CloudFormation events, the Lambda context, short handler settings) come
from tests/handler/handler_driver.py and the session fixtures (handler module, response
receiver, EventBridge/Lambda stubs) from tests/support/lambda_fixtures.py; both folders are
put on sys.path here so this folder also runs alone. The figures the tests measure are
collected in one session-wide FiguresFile.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

_TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_TESTS / "handler"), str(_TESTS / "support")]

import lambda_fixtures
from handler_driver import CloudFormation
from reliability_figures import FIGURES_PATH, FiguresFile
from reliability_support import fast_api, lambda_function

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

handler_module = lambda_fixtures.handler_module
receiver = lambda_fixtures.receiver
stubs = lambda_fixtures.stubs


# pytest-xdist distributions that run each test file whole on one worker, so every section of
# figures is recorded whole; "no" is a run without workers.
WHOLE_FILE_DISTRIBUTIONS = frozenset({"no", "loadfile", "loadscope"})


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Iterator[FiguresFile]:
    """Figures for the README; written to tests/reliability/figures.json when the session ends.

    Under pytest-xdist each worker writes the sections of the files it ran. A distribution that
    splits a file's tests across workers would leave partial sections, so none are written then.
    """
    recorded = FiguresFile(FIGURES_PATH)
    yield recorded
    # A worker's own --dist is "no": tests/conftest.py hands it the run's (pytest_configure_node).
    distribution = getattr(request.config, "workerinput", {}).get("neptune-ml-endpoint/dist", "no")
    if distribution in WHOLE_FILE_DISTRIBUTIONS:
        recorded.write()
    else:
        warnings.warn(f"reliability figures not written: --dist {distribution} splits test files across "
                      "workers; use --dist loadfile", stacklevel=1)


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    with fast_api() as started:
        yield started


@pytest.fixture
def cloudformation(handler_module: ModuleType, receiver: ResponseReceiver, stubs: LocalCloudStubs,
                   api: LocalNeptuneMlApi, monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    """The Lambda function's environment, and a driver that sends it CloudFormation's requests."""
    return lambda_function(monkeypatch, handler_module, receiver, stubs, api)
