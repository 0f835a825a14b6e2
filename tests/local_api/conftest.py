"""Fixtures: a local Neptune ML API on a manual clock, and a one-attempt boto3 client for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from local_api_support import ManualClock, make_client

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

# Seconds on the manual clock; tests advance the clock rather than sleep.
TIMINGS = Timings(creating=10.0, updating=5.0, deleting=2.0, processing=30.0, training=60.0, transform=20.0,
                  stopping=3.0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> Iterator[LocalNeptuneMlApi]:
    timings = dataclasses.replace(TIMINGS)
    with LocalNeptuneMlApi(timings=timings, clock=clock) as running:
        yield running


@pytest.fixture
def client(api: LocalNeptuneMlApi) -> NeptuneDataClient:
    """One attempt per call, so every error reaches the test as the server sent it."""
    return make_client(api.url)
