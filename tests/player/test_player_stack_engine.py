"""The engine carries an interrupted create on as a create: CREATE_* events, and a failure rolls the whole stack back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neptune_ml_endpoint.local.cloudformation.cli.progress import STACK_TYPE
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import DesiredResource, StackEngine
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState

RESOURCE = "Custom::NeptuneMlEndpoint"
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:handler"
DESIRED = {lid: DesiredResource(lid, RESOURCE) for lid in ("First", "Second")}


def properties(logical_id: str, deployed: Mapping[str, ResourceState] | None = None) -> dict[str, Any]:
    return {"ServiceToken": TOKEN, "Id": logical_id.lower()}


FIRST = ResourceState("First", RESOURCE, "first", properties("First"), {}, TOKEN)
"""Created by the earlier, interrupted try of the stack's create."""


class Recorded:
    """The events the engine reports and the requests it sends; Second's Create fails."""

    def __init__(self) -> None:
        self.totals: list[int] = []
        self.stack_events: list[str] = []
        self.requests: list[tuple[str, str]] = []

    def begin_stack(self, stack_name: str, total: int) -> None:
        self.totals.append(total)

    def event(self, stack_name: str, status: str, resource_type: str, logical_id: str, reason: str = "") -> None:
        if resource_type == STACK_TYPE:
            self.stack_events.append(status)

    def send(self, request: CustomResourceRequest) -> CustomResourceAnswer:
        self.requests.append((request.request_type, request.logical_id))
        if request.request_type == "Create":
            return CustomResourceAnswer(False, "second", "Create: endpoint second ended Failed")
        return CustomResourceAnswer(True, request.physical_id or "")


def test_a_failed_resumed_create_rolls_back_the_whole_stack_as_a_create() -> None:
    recorded = Recorded()
    engine = StackEngine("Demo", recorded.send, recorded)

    result = engine.deploy(DESIRED, properties, {"First": FIRST}, created=False)

    assert recorded.stack_events == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert recorded.totals == [1]  # only Second gets a request; First is there already
    assert sorted(recorded.requests) == [("Create", "Second"), ("Delete", "First"), ("Delete", "Second")]
    assert result.status == "ROLLBACK_COMPLETE" and result.resources == {} and result.leftovers == []


def test_a_created_stack_with_the_same_failure_rolls_back_the_update_only() -> None:
    recorded = Recorded()
    engine = StackEngine("Demo", recorded.send, recorded)

    result = engine.deploy(DESIRED, properties, {"First": FIRST}, created=True)

    assert recorded.stack_events == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                     "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    assert sorted(recorded.requests) == [("Create", "Second"), ("Delete", "Second")]
    assert result.resources == {"First": FIRST}


def test_an_update_its_check_refuses_rolls_back_even_when_no_resource_changed() -> None:
    recorded = Recorded()
    engine = StackEngine("Demo", recorded.send, recorded)
    refusal = "Export Demo:Id cannot be deleted as it is in use by Serving"

    result = engine.deploy({"First": DESIRED["First"]}, properties, {"First": FIRST}, created=True,
                           check=lambda resources: refusal)

    assert recorded.stack_events == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                     "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    assert recorded.requests == []
    assert result.status == "UPDATE_ROLLBACK_COMPLETE" and result.failures == [("Demo", refusal)]
    assert result.resources == {"First": FIRST}
