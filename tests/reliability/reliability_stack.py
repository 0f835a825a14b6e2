"""One custom resource taken through CloudFormation's protocol, answers checked at every step.

StackPlayer sends what CloudFormation would send after each answer: a failed Create is
rolled back with a Delete of the reported PhysicalResourceId, a successful Update that
returns a new id is followed by a Delete of the old one, a failed Update is rolled back with
an Update to the old properties, and the stack's deletion ends with a Delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handler_driver import CloudFormation
from reliability_support import INVOCATION_SECONDS, Answered, answer_once, live_endpoints

from neptune_ml_endpoint import schema

Properties = dict[str, Any]


@dataclass(frozen=True)
class ResourceState:
    """What CloudFormation holds for the resource: its physical id and its properties."""

    physical_id: str
    properties: Properties


@dataclass
class StackPlayer:
    """Plays one resource's requests and follow-ups; every answer is kept in `answers`."""

    cloudformation: CloudFormation
    logical_id: str = field(default_factory=lambda: f"Endpoint{uuid.uuid4().hex[:8]}")
    seconds: float = INVOCATION_SECONDS
    after_each_answer: Callable[[Answered], None] = lambda answered: None
    """Runs after every answer, before any follow-up (e.g. to end an injected outage)."""
    answers: list[Answered] = field(default_factory=list)

    def send(self, request_type: str, properties: Properties, *, physical_id: str | None = None,
             old_properties: Properties | None = None) -> Answered:
        event = self.cloudformation.event(request_type, properties, logical_id=self.logical_id,
                                          physical_id=physical_id, old_properties=old_properties)
        answered = answer_once(self.cloudformation, event, self.seconds)
        self.answers.append(answered)
        self.after_each_answer(answered)
        return answered

    def create(self, properties: Properties) -> ResourceState | None:
        """Create; a failure is rolled back, leaving no resource."""
        answered = self.send("Create", properties)
        if answered.succeeded:
            self.expect_declared(answered.physical_id)
            return ResourceState(answered.physical_id, properties)
        self.send("Delete", properties, physical_id=answered.physical_id)
        return None

    def update(self, state: ResourceState, properties: Properties) -> ResourceState:
        """Update; a replacement deletes the old resource, a failure rolls back to the old properties."""
        answered = self.send("Update", properties, physical_id=state.physical_id,
                             old_properties=state.properties)
        if answered.succeeded:
            return self._replaced(state, ResourceState(answered.physical_id, properties))
        rollback = self.send("Update", state.properties, physical_id=state.physical_id,
                             old_properties=properties)
        if rollback.succeeded:
            return self._replaced(state, ResourceState(rollback.physical_id, state.properties))
        return state

    def delete(self, state: ResourceState) -> Answered:
        answered = self.send("Delete", state.properties, physical_id=state.physical_id)
        if answered.succeeded:
            self.expect_declared(None)
        return answered

    def _replaced(self, old: ResourceState, new: ResourceState) -> ResourceState:
        if new.physical_id != old.physical_id:
            self.send("Delete", old.properties, physical_id=old.physical_id)
        self.expect_declared(new.physical_id)
        return new

    def expect_declared(self, physical_id: str | None) -> None:
        """After a success the local API holds exactly the endpoint the stack declares (and those
        being deleted)."""
        api = self.cloudformation.api
        declared = [physical_id] if physical_id is not None and schema.is_endpoint_id(physical_id) else []
        assert live_endpoints(api) == declared, f"declared {declared}, the API holds {api.endpoint_ids()}"
        if declared:
            assert api.status(declared[0]) == "InService"
