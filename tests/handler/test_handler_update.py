"""Update: in place with update=true when the id and cluster stay; otherwise a new endpoint."""

from __future__ import annotations

import boto3
import pytest
from handler_driver import FAST, CloudFormation

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings


def created(cloudformation: CloudFormation, properties: dict[str, str]) -> str:
    answer = cloudformation.send(cloudformation.event("Create", properties))
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    return str(answer["PhysicalResourceId"])


def create_statuses(api: LocalNeptuneMlApi, endpoint_id: str) -> list[int | None]:
    return [r.status_code for r in api.requests() if r.operation == "CreateMLEndpoint" and r.endpoint_id == endpoint_id]


def moved_and_rolled_back(cloudformation: CloudFormation, original: dict[str, str], moved: dict[str, str],
                          endpoint_id: str) -> None:
    """A failing update to `moved` and its rollback, which keeps the endpoint and creates none."""
    failed = cloudformation.send(cloudformation.event("Update", moved, physical_id=endpoint_id,
                                                      old_properties=original))
    rollback = cloudformation.send(cloudformation.event("Update", original, physical_id=endpoint_id,
                                                        old_properties=moved))

    assert failed["Status"] == "FAILED" and failed["PhysicalResourceId"] == endpoint_id
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert rollback["PhysicalResourceId"] == endpoint_id
    assert cloudformation.api.endpoint_ids() == [endpoint_id]
    assert create_statuses(cloudformation.api, endpoint_id) == [200]


def test_a_new_model_updates_the_endpoint_in_place(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties()
    endpoint_id = created(cloudformation, old)
    new = cloudformation.properties(MlModelTrainingJobId="training-2", InstanceCount="2")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id=endpoint_id, old_properties=old))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == endpoint_id
    assert answer["Data"][schema.ATTR_ID] == endpoint_id
    assert cloudformation.api.endpoint_ids() == [endpoint_id]
    # Without update=true, Neptune refuses a second create of an existing id (400).
    assert create_statuses(cloudformation.api, endpoint_id) == [200, 200]


def test_an_in_place_update_to_a_failing_model_fails_and_keeps_the_id(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-in-place")
    created(cloudformation, old)
    new = cloudformation.properties(Id="ep-in-place", MlModelTrainingJobId="failing-2")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-in-place", old_properties=old))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-in-place"
    assert "could not be loaded" in answer["Reason"]
    assert cloudformation.api.status("ep-in-place") == "Failed"  # the update reached the same endpoint

    rollback = cloudformation.send(
        cloudformation.event("Update", old, physical_id="ep-in-place", old_properties=new))

    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert cloudformation.api.status("ep-in-place") == "InService"


@pytest.mark.parametrize(
    ("old_id", "new_id"),
    [
        pytest.param("ep-old", "ep-new", id="id-changed"),
        pytest.param(None, "ep-new", id="id-added"),
        pytest.param("ep-old", None, id="id-removed"),
    ],
)
def test_a_changed_id_creates_a_new_endpoint(cloudformation: CloudFormation, old_id: str | None,
                                             new_id: str | None) -> None:
    old = cloudformation.properties(**({"Id": old_id} if old_id else {}))
    old_endpoint = created(cloudformation, old)
    new = cloudformation.properties(**({"Id": new_id} if new_id else {}))

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id=old_endpoint, old_properties=old))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    new_endpoint = answer["PhysicalResourceId"]
    assert new_endpoint != old_endpoint
    assert new_endpoint == (new_id or new_endpoint) and schema.is_endpoint_id(new_endpoint)
    assert sorted(cloudformation.api.endpoint_ids()) == sorted([old_endpoint, new_endpoint])

    cleanup = cloudformation.send(cloudformation.event("Delete", old, physical_id=old_endpoint))

    assert cleanup["Status"] == "SUCCESS", cleanup["Reason"]
    assert cloudformation.api.endpoint_ids() == [new_endpoint]


def test_a_new_cluster_gets_a_new_endpoint(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties()
    old_endpoint = created(cloudformation, old)
    with LocalNeptuneMlApi(timings=Timings(FAST.creating, FAST.updating, FAST.deleting)) as other_cluster:
        new = cloudformation.properties(NeptuneEndpoint=other_cluster.url)

        answer = cloudformation.send(
            cloudformation.event("Update", new, physical_id=old_endpoint, old_properties=old))

        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert answer["PhysicalResourceId"] != old_endpoint
        assert other_cluster.endpoint_ids() == [answer["PhysicalResourceId"]]
        assert cloudformation.api.endpoint_ids() == [old_endpoint]  # CloudFormation deletes it next


def test_a_new_cluster_with_the_same_explicit_id_is_refused(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-pinned")
    created(cloudformation, old)
    requests_before = len(cloudformation.api.requests())
    new = cloudformation.properties(Id="ep-pinned", NeptuneEndpoint="https://other.cluster.example.com:8182")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-pinned", old_properties=old))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-pinned"
    assert "Give a new Id" in answer["Reason"]
    assert len(cloudformation.api.requests()) == requests_before


def test_a_failed_replacement_keeps_the_old_endpoint_and_removes_the_new_one(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-current")
    created(cloudformation, old)
    new = cloudformation.properties(Id="ep-broken", MlModelTrainingJobId="failing-3")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-current", old_properties=old))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-current"
    assert "ep-broken ended Failed" in answer["Reason"]
    assert cloudformation.api.status("ep-broken") in ("Deleting", None)
    assert cloudformation.api.status("ep-current") == "InService"


def test_an_endpoint_deleted_out_of_band_is_created_again_with_its_id(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-vanished")
    created(cloudformation, old)
    cloudformation.api.timings = Timings(FAST.creating, FAST.updating, deleting=0.0)
    boto3.client("neptunedata", endpoint_url=cloudformation.api.url).delete_ml_endpoint(id="ep-vanished")
    new = cloudformation.properties(Id="ep-vanished", InstanceCount="3")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-vanished", old_properties=old))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-vanished"
    assert cloudformation.api.status("ep-vanished") == "InService"


def test_an_update_waits_for_a_change_still_in_progress(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-busy")
    created(cloudformation, old)
    # An earlier try of this update reached Neptune, then its invocation was lost.
    boto3.client("neptunedata", endpoint_url=cloudformation.api.url).create_ml_endpoint(
        id="ep-busy", mlModelTrainingJobId="training-2", update=True)
    new = cloudformation.properties(Id="ep-busy", MlModelTrainingJobId="training-2")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-busy", old_properties=old))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert create_statuses(cloudformation.api, "ep-busy") == [200, 200, 200]  # no PreconditionsFailed


def test_a_change_that_outlasts_the_invocation_fails_without_sending_the_update(
        cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-slow")
    created(cloudformation, old)
    cloudformation.api.timings = Timings(FAST.creating, updating=30.0, deleting=FAST.deleting)
    boto3.client("neptunedata", endpoint_url=cloudformation.api.url).create_ml_endpoint(
        id="ep-slow", mlModelTrainingJobId="training-2", update=True)
    new = cloudformation.properties(Id="ep-slow", MlModelTrainingJobId="training-3")

    answer = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-slow", old_properties=old),
                                 seconds=3.0)

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-slow"
    assert "update was not sent" in answer["Reason"]
    assert create_statuses(cloudformation.api, "ep-slow") == [200, 200]


def test_the_rollback_of_a_move_to_an_unreachable_cluster_keeps_the_endpoint_and_creates_none(
        cloudformation: CloudFormation) -> None:
    original = cloudformation.properties()
    endpoint_id = created(cloudformation, original)
    moved = {**original, "NeptuneEndpoint": "http://127.0.0.1:9"}

    moved_and_rolled_back(cloudformation, original, moved, endpoint_id)


def test_the_rollback_of_dropping_an_explicit_id_for_an_unreachable_cluster_keeps_the_endpoint(
        cloudformation: CloudFormation) -> None:
    original = cloudformation.properties(Id="ep-explicit")
    endpoint_id = created(cloudformation, original)
    moved = {key: value for key, value in original.items() if key != "Id"} | {"NeptuneEndpoint": "http://127.0.0.1:9"}

    moved_and_rolled_back(cloudformation, original, moved, endpoint_id)
    assert endpoint_id == "ep-explicit"
