"""Random CloudFormation requests: each is answered once, well-formed, in time; no endpoint is left.

Each example plays one resource through the player's engine (testing.StackPlayer, in reliability_support):
a Create, an Update or a Delete, of a resource this example created or of one known only by
a random PhysicalResourceId, with random properties, followed by CloudFormation's rollbacks
and cleanups and, at the end, the stack's deletion. After that the local API holds nothing.

How many examples run is the hypothesis profile named by the RELIABILITY_PROFILE environment
variable:

    everyday      30 random examples (EVERYDAY_EXAMPLES): the default, and what `make test` runs
    reliability   200 random examples (RELIABILITY_EXAMPLES): `make reliability` and CI (.ci/run)

    RELIABILITY_PROFILE=reliability .venv/bin/python -m pytest tests/reliability

The profile's name and example count go into the figures (figures.json), so the README's
report says which profile measured them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from handler_driver import CloudFormation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_events import (
    API_URL,
    LOGICAL_ID_MAX_LENGTH,
    REQUEST_TYPES,
    SERVICE_TOKEN,
    STACK_NAME_MAX_LENGTH,
    logical_ids,
    physical_ids,
    properties,
    valid_properties,
    with_api_url,
)
from reliability_figures import FiguresFile
from reliability_support import (
    PROFILE,
    PROFILE_VARIABLE,
    CheckedStackPlayer,
    endpoints_left,
    fast_api,
    lambda_function,
)

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

EVERYDAY_EXAMPLES = 30
RELIABILITY_EXAMPLES = 200
PROFILES = {"everyday": EVERYDAY_EXAMPLES, "reliability": RELIABILITY_EXAMPLES}
for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
if PROFILE not in PROFILES:
    raise pytest.UsageError(f"{PROFILE_VARIABLE}={PROFILE!r}: the profiles are {', '.join(PROFILES)}")
EXAMPLES = PROFILES[PROFILE]


@dataclass(frozen=True)
class History:
    """What one example asks of the resource."""

    request_type: str
    logical_id: str
    properties: dict[str, Any]
    known_physical_id: str | None = None
    """Set: the resource is known only by this id. None: the example creates it first."""
    new_properties: dict[str, Any] | None = None


@st.composite
def histories(draw: st.DrawFn) -> History:
    request_type = draw(st.sampled_from(REQUEST_TYPES))
    logical_id = draw(logical_ids)
    if request_type == "Create":
        return History(request_type, logical_id, draw(properties()))
    if draw(st.booleans()):
        first, known = {**draw(valid_properties()), "NeptuneEndpoint": API_URL}, None
    else:
        first, known = draw(properties()), draw(physical_ids)
    # CloudFormation sends no Update when the properties are unchanged, and neither does the engine.
    new = draw(properties().filter(lambda changed: changed != first)) if request_type == "Update" else None
    return History(request_type, logical_id, first, known, new)


_VALID = {"ServiceToken": SERVICE_TOKEN, "NeptuneEndpoint": API_URL, "MlModelTrainingJobId": "training-1"}
LARGEST_ANSWER = History(
    # A failed Update echoes the longest physical id crhelper makes, with a Reason quoting non-ASCII
    # text (each character six or twelve bytes once JSON-escaped) and the longest logical id.
    "Update", "L" * LOGICAL_ID_MAX_LENGTH, _VALID,
    known_physical_id=f"{'s' * STACK_NAME_MAX_LENGTH}_{'L' * LOGICAL_ID_MAX_LENGTH}_ABCD1234",
    new_properties={**_VALID, "\U0001f600" * 100: "\u00e9" * 100},
)


@dataclass
class Tally:
    """What the examples saw, for the report."""

    examples: int = 0
    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    largest_answer_bytes: int = 0
    slowest_answer_seconds: float = 0.0
    endpoints_left: int = 0

    def add(self, player: CheckedStackPlayer, left: list[str]) -> None:
        self.examples += 1
        self.endpoints_left += len(left)
        self.requests += len(player.answers)
        self.succeeded += sum(answered.succeeded for answered in player.answers)
        self.failed += sum(not answered.succeeded for answered in player.answers)
        self.largest_answer_bytes = max([self.largest_answer_bytes, *(a.size for a in player.answers)])
        self.slowest_answer_seconds = max([self.slowest_answer_seconds, *(a.seconds for a in player.answers)])


@pytest.fixture(scope="module")
def steady_function(handler_module: ModuleType, receiver: ResponseReceiver,
                    stubs: LocalCloudStubs) -> Iterator[CloudFormation]:
    """One local API and function environment for every example (two attempts per call)."""
    with fast_api() as api, pytest.MonkeyPatch.context() as patch:
        yield lambda_function(patch, handler_module, receiver, stubs, api, **{schema.ENV_MAX_ATTEMPTS: "2"})


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[Tally]:
    counted = Tally()
    yield counted
    figures.record("properties", profile=PROFILE, max_examples=EXAMPLES, examples_run=counted.examples,
                   requests=counted.requests, succeeded=counted.succeeded, failed=counted.failed,
                   largest_answer_bytes=counted.largest_answer_bytes,
                   slowest_answer_seconds=round(counted.slowest_answer_seconds, 2),
                   endpoints_left=counted.endpoints_left)


@settings(settings.get_profile(PROFILE))
@given(history=histories())
@example(history=LARGEST_ANSWER)
def test_every_request_is_answered_once_and_only_declared_endpoints_remain(
        steady_function: CloudFormation, tally: Tally, history: History) -> None:
    api = steady_function.api
    player = CheckedStackPlayer(steady_function, history.logical_id)
    first = with_api_url(history.properties, api.url)
    left: list[str] = []
    try:
        if history.known_physical_id is None:
            state = player.create(first)
        else:
            state = player.resource(history.known_physical_id, first)
        if state is not None and history.request_type == "Update":
            assert history.new_properties is not None
            state = player.update(state, with_api_url(history.new_properties, api.url))
        elif state is not None and history.request_type == "Delete":
            player.delete(state)
            state = None
        if state is not None:
            player.delete(state)  # the stack's deletion

        left = endpoints_left(api)
        assert left == [], "an endpoint outlived its stack"
    finally:
        tally.add(player, left)
        _clear_leftovers(steady_function)
    for answered in player.answers:  # nothing answered late, or twice
        assert len(steady_function.receiver.records(steady_function.key_of(answered.event))) == 1


def _clear_leftovers(function: CloudFormation) -> None:
    """After a failed example, delete what it left so later examples start clean."""
    import boto3

    client = boto3.client("neptunedata", endpoint_url=function.api.url)
    for endpoint_id in function.api.endpoint_ids():
        if function.api.status(endpoint_id) != "Deleting":
            client.delete_ml_endpoint(id=endpoint_id)
