"""The ownership and rollback decisions, in milliseconds, against a fake client through the resource's seams.

Each case also runs on the wire in test_handler_ownership.py; these pin the decision table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class FakeNeptune:
    """GetMLEndpoint, CreateMLEndpoint and DeleteMLEndpoint over a dict of id -> status."""

    endpoints: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    refuse_create: Any = None  # a NeptuneApiError to raise from the next create

    def get_endpoint(self, endpoint_id: str) -> Any:
        import neptune_data_client

        self.calls.append("get")
        status = self.endpoints.get(endpoint_id)
        return None if status is None else neptune_data_client.EndpointStatus(endpoint_id, status)

    def create_endpoint(self, request: dict[str, Any]) -> Any:
        import neptune_data_client

        self.calls.append("update" if request.get("update") else "create")
        if self.refuse_create is not None:
            self.endpoints.setdefault(request["id"], "Creating")
            raise self.refuse_create
        self.endpoints[request["id"]] = "Creating"
        return neptune_data_client.StartedEndpoint(request["id"], "arn:new", 42)

    def delete_endpoint(self, endpoint_id: str) -> bool:
        self.calls.append("delete")
        return self.endpoints.pop(endpoint_id, None) is not None


@dataclass
class FakeMarkers:
    markers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def get(self, name: str) -> Any:
        return self.markers.get(name)

    def put(self, name: str, marker: Any) -> None:
        self.history.append(marker.phase)
        self.markers[name] = marker

    def remove(self, name: str) -> None:
        self.markers.pop(name, None)


PROPERTIES = {"NeptuneEndpoint": "https://cluster:8182", "MlModelTrainingJobId": "training-1"}


def _request(request_type: str = "Create", properties: dict[str, str] | None = None, **event: Any) -> Any:
    import ml_endpoint_resource

    return ml_endpoint_resource.Request(request_type, "stack-1", "Endpoint", "request-1",
                                           properties if properties is not None else {**PROPERTIES, "Id": "ep"},
                                           **event)


@pytest.fixture
def world(handler_module: object) -> tuple[FakeNeptune, FakeMarkers, Any]:
    import ml_endpoint_resource

    neptune, markers = FakeNeptune(), FakeMarkers()

    def make(request: Any) -> Any:
        return ml_endpoint_resource.MlEndpointResource(request, lambda address, role: neptune, markers)  # type: ignore[arg-type,return-value]

    return neptune, markers, make


def _own_marker(markers: FakeMarkers, phase: str, request_id: str = "request-1") -> None:
    import creation_marker

    markers.markers[creation_marker.marker_name("stack-1", "Endpoint")] = creation_marker.CreationMarker(
        request_id, "ep", phase, "arn:first", "7")


def test_a_free_explicit_id_is_marked_before_and_after_the_create(world: Any) -> None:
    neptune, markers, make = world
    resource = make(_request())

    outcome = resource.start()

    assert outcome.endpoint_id == "ep" and outcome.marked
    assert neptune.calls == ["get", "create"]
    assert markers.history == ["sending", "created"]
    resource.forget_marker("ep")
    assert markers.markers == {}


@pytest.mark.parametrize(("marker", "adopted"), [
    (None, False), ("other-request", False), ("sending", False), ("created", True)])
def test_an_existing_explicit_id_is_adopted_only_with_this_requests_created_marker(
        world: Any, marker: str | None, adopted: bool) -> None:
    import ml_endpoint_resource

    neptune, markers, make = world
    neptune.endpoints["ep"] = "InService"
    if marker == "other-request":
        _own_marker(markers, "created", request_id="request-0")
    elif marker is not None:
        _own_marker(markers, marker)
    resource = make(_request())

    if adopted:
        outcome = resource.start()
        assert (outcome.arn, outcome.creation_time) == ("arn:first", "7")
    else:
        with pytest.raises(ml_endpoint_resource.RequestFailed) as failed:
            resource.start()
        assert "AlreadyExists" in failed.value.reason
        assert failed.value.physical_id is None  # the rollback's Delete has no endpoint to remove
    assert "create" not in neptune.calls and "delete" not in neptune.calls


@pytest.mark.parametrize(("retried", "adopted"), [(False, False), (True, True)])
def test_a_refused_create_is_ours_only_after_an_unanswered_attempt(
        world: Any, retried: bool, adopted: bool) -> None:
    import ml_endpoint_resource
    import neptune_data_client

    neptune, _, make = world
    neptune.refuse_create = neptune_data_client.NeptuneApiError("CreateMLEndpoint", "BadRequestException",
                                                                "exists", retried=retried)
    resource = make(_request())

    if adopted:
        assert resource.start().endpoint_id == "ep"
    else:
        with pytest.raises(ml_endpoint_resource.RequestFailed, match="AlreadyExists"):
            resource.start()


def test_a_derived_id_is_adopted_without_a_marker(world: Any) -> None:
    import ml_endpoint_resource

    neptune, markers, make = world
    request = _request(properties=dict(PROPERTIES))
    neptune.endpoints[ml_endpoint_resource.derive_endpoint_id("stack-1", "Endpoint", "request-1")] = "Creating"

    outcome = make(request).start()

    assert neptune.calls == ["get"] and markers.history == []
    assert not outcome.marked


def test_a_marker_that_cannot_be_written_fails_before_anything_is_created(world: Any) -> None:
    import creation_marker
    import ml_endpoint_resource

    neptune, markers, make = world

    def refuse(name: str, marker: Any) -> None:
        raise creation_marker.MarkerError("EventBridge PutRule failed with AccessDeniedException: no")

    markers.put = refuse  # type: ignore[method-assign]

    with pytest.raises(ml_endpoint_resource.RequestFailed, match="nothing was created"):
        make(_request()).start()
    assert "create" not in neptune.calls


@pytest.mark.parametrize(("failed_update", "sent"), [
    ({"InstanceCount": "0"}, []),
    ({"MlModelTrainingJobId": "failing-job"}, ["update"]),
])
def test_a_rollback_resends_only_what_reached_neptune(world: Any, failed_update: dict[str, str],
                                                      sent: list[str]) -> None:
    neptune, _, make = world
    neptune.endpoints["ep"] = "InService"
    restored = {**PROPERTIES, "Id": "ep"}
    resource = make(_request("Update", restored, old_properties={**restored, **failed_update}, physical_id="ep"))

    resource.start()

    assert [call for call in neptune.calls if call != "get"] == sent


def test_the_rollback_of_a_move_to_another_cluster_keeps_the_endpoint_on_this_one(
        world: tuple[FakeNeptune, FakeMarkers, Any]) -> None:
    neptune, _, make = world
    neptune.endpoints["ep-current"] = "InService"
    moved = {**PROPERTIES, "NeptuneEndpoint": "http://127.0.0.1:9"}

    outcome = make(_request("Update", PROPERTIES, old_properties=moved, physical_id="ep-current")).start()

    assert outcome.physical_id == "ep-current"
    assert "create" not in neptune.calls and "update" not in neptune.calls


def test_a_move_to_another_cluster_creates_the_endpoint_there(world: tuple[FakeNeptune, FakeMarkers, Any]) -> None:
    neptune, _, make = world
    moved = {**PROPERTIES, "NeptuneEndpoint": "https://other-cluster:8182"}

    outcome = make(_request("Update", moved, old_properties=PROPERTIES, physical_id="ep-current")).start()

    assert outcome.endpoint_id != "ep-current"
    assert neptune.calls[-1] == "create"
