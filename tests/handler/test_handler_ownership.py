"""An explicit Id never adopts an endpoint the stack did not create; a retry of the same request still does.

The hand-made endpoint, the second stack and the retried invocation all go over HTTP to the
local Neptune ML API through real crhelper; the creation marker a crashed first invocation
leaves is put with boto3's EventBridge client, as that invocation would have.
"""

from __future__ import annotations

import json
import uuid

import boto3
from handler_driver import STACK_ID, CloudFormation

from neptune_ml_endpoint import schema


def _hand_made_endpoint(cloudformation: CloudFormation, endpoint_id: str) -> None:
    neptune = boto3.client("neptunedata", endpoint_url=cloudformation.api.url)
    neptune.create_ml_endpoint(id=endpoint_id, mlModelTrainingJobId="nb-job")


def test_a_taken_id_fails_and_the_rollback_leaves_the_hand_made_endpoint_alone(
        cloudformation: CloudFormation) -> None:
    _hand_made_endpoint(cloudformation, "notebook-endpoint")
    properties = cloudformation.properties(Id="notebook-endpoint")

    answer = cloudformation.send(cloudformation.event("Create", properties))

    assert answer["Status"] == "FAILED"
    assert "AlreadyExists" in answer["Reason"] and "notebook-endpoint" in answer["Reason"]
    assert "endpoint id notebook-endpoint is taken by an endpoint this stack did not create" in answer["Reason"]
    assert "Choose another Id" in answer["Reason"]
    assert answer["PhysicalResourceId"] != "notebook-endpoint"
    assert cloudformation.operations().count("CreateMLEndpoint") == 1  # the hand-made one only

    rollback = cloudformation.send(
        cloudformation.event("Delete", properties, physical_id=answer["PhysicalResourceId"]))

    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert "DeleteMLEndpoint" not in cloudformation.operations()
    assert cloudformation.api.endpoint_ids() == ["notebook-endpoint"]


def test_two_stacks_with_one_explicit_id_the_second_fails_and_the_first_keeps_its_endpoint(
        cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(Id="shared-id")
    other_stack = f"arn:aws:cloudformation:us-east-1:123456789012:stack/other/{uuid.uuid4()}"

    first = cloudformation.send(cloudformation.event("Create", properties))
    second = cloudformation.send(cloudformation.event("Create", properties, stack_id=other_stack))
    second_rollback = cloudformation.send(cloudformation.event(
        "Delete", properties, physical_id=second["PhysicalResourceId"], stack_id=other_stack))

    assert first["Status"] == "SUCCESS", first["Reason"]
    assert second["Status"] == "FAILED" and "AlreadyExists" in second["Reason"]
    assert second_rollback["Status"] == "SUCCESS"
    assert cloudformation.api.status("shared-id") == "InService"
    assert "DeleteMLEndpoint" not in cloudformation.operations()

    deleted = cloudformation.send(cloudformation.event("Delete", properties, physical_id="shared-id"))

    assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    assert cloudformation.api.endpoint_ids() == []


def _marker_of(cloudformation: CloudFormation, event: dict[str, object], phase: str, **answer: str) -> None:
    """The creation marker a first invocation leaves before it stops without answering."""
    import creation_marker

    marker = creation_marker.CreationMarker(str(event["RequestId"]), str(event["ResourceProperties"]["Id"]),  # type: ignore[index]
                                            phase, **answer)
    events = boto3.client("events", endpoint_url=cloudformation.stubs.url)
    events.put_rule(Name=creation_marker.marker_name(STACK_ID, str(event["LogicalResourceId"])),
                    EventPattern=json.dumps({"source": ["x"]}), State="DISABLED", Description=marker.to_text())


def test_a_retry_adopts_the_endpoint_its_crashed_first_try_created(cloudformation: CloudFormation,
                                                                    handler_module: object) -> None:
    event = cloudformation.event("Create", cloudformation.properties(Id="ep-retried-explicit"))
    _hand_made_endpoint(cloudformation, "ep-retried-explicit")  # what the first try's create made
    _marker_of(cloudformation, event, "created", arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/x",
               creation_time="1700000000000")

    answer = cloudformation.send(event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-retried-explicit"
    assert answer["Data"][schema.ATTR_CREATION_TIME] == "1700000000000"
    assert cloudformation.operations().count("CreateMLEndpoint") == 1
    assert cloudformation.stubs.rules() == []  # the marker is removed once answered


def test_a_retry_whose_first_try_stopped_mid_create_fails_safe(cloudformation: CloudFormation,
                                                               handler_module: object) -> None:
    event = cloudformation.event("Create", cloudformation.properties(Id="ep-unknown-owner"))
    _hand_made_endpoint(cloudformation, "ep-unknown-owner")
    _marker_of(cloudformation, event, "sending")

    answer = cloudformation.send(event)

    assert answer["Status"] == "FAILED"
    assert "may not be this stack's" in answer["Reason"]
    assert answer["PhysicalResourceId"] != "ep-unknown-owner"
    assert cloudformation.api.endpoint_ids() == ["ep-unknown-owner"]
    assert cloudformation.stubs.rules() == []


def test_a_retry_of_another_request_does_not_adopt(cloudformation: CloudFormation, handler_module: object) -> None:
    earlier = cloudformation.event("Create", cloudformation.properties(Id="ep-earlier"))
    _hand_made_endpoint(cloudformation, "ep-earlier")
    _marker_of(cloudformation, earlier, "created")

    properties = cloudformation.properties(Id="ep-earlier")

    answer = cloudformation.send(cloudformation.event("Create", properties))
    rollback = cloudformation.send(cloudformation.event("Delete", properties,
                                                        physical_id=answer["PhysicalResourceId"]))

    assert answer["Status"] == "FAILED" and "AlreadyExists" in answer["Reason"]
    assert rollback["Status"] == "SUCCESS"
    assert cloudformation.api.endpoint_ids() == ["ep-earlier"]
    assert cloudformation.stubs.rules() == []  # the resource's Delete removes a marker left behind


def test_a_replacement_onto_a_taken_id_fails_and_keeps_the_old_endpoint(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-mine")
    created = cloudformation.send(cloudformation.event("Create", old))
    _hand_made_endpoint(cloudformation, "ep-someone-elses")

    answer = cloudformation.send(cloudformation.event(
        "Update", cloudformation.properties(Id="ep-someone-elses"), physical_id="ep-mine", old_properties=old))

    assert created["Status"] == "SUCCESS"
    assert answer["Status"] == "FAILED" and "AlreadyExists" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-mine"
    assert sorted(cloudformation.api.endpoint_ids()) == ["ep-mine", "ep-someone-elses"]


def test_the_rollback_of_an_update_refused_before_any_call_sends_nothing(cloudformation: CloudFormation) -> None:
    good = cloudformation.properties(Id="ep-kept")
    bad = cloudformation.properties(Id="ep-kept", InstanceCount="0")
    assert cloudformation.send(cloudformation.event("Create", good))["Status"] == "SUCCESS"
    failed = cloudformation.send(cloudformation.event("Update", bad, physical_id="ep-kept", old_properties=good))
    calls_before_rollback = len(cloudformation.operations())

    rollback = cloudformation.send(cloudformation.event("Update", good, physical_id="ep-kept", old_properties=bad))

    assert failed["Status"] == "FAILED" and failed["Reason"].startswith("InstanceCount")
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert rollback["PhysicalResourceId"] == "ep-kept"
    assert set(rollback["Data"]) == set(schema.ATTRIBUTES)
    assert cloudformation.operations()[calls_before_rollback:] == ["GetMLEndpoint"]


def test_the_rollback_of_an_update_that_reached_neptune_sends_the_old_configuration(
        cloudformation: CloudFormation) -> None:
    good = cloudformation.properties(Id="ep-restored")
    failing = cloudformation.properties(Id="ep-restored", MlModelTrainingJobId="failing-job")
    assert cloudformation.send(cloudformation.event("Create", good))["Status"] == "SUCCESS"
    failed = cloudformation.send(cloudformation.event("Update", failing, physical_id="ep-restored",
                                                      old_properties=good))

    rollback = cloudformation.send(cloudformation.event("Update", good, physical_id="ep-restored",
                                                        old_properties=failing))

    assert failed["Status"] == "FAILED"
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    updates = [r for r in cloudformation.api.requests() if r.operation == "CreateMLEndpoint"]
    assert len(updates) == 3  # create, the failed update, the rollback's update
    assert cloudformation.api.status("ep-restored") == "InService"


def test_the_rollback_of_a_replacement_returns_to_the_previous_endpoint(cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-before")
    new = cloudformation.properties(Id="ep-after")
    assert cloudformation.send(cloudformation.event("Create", old))["Status"] == "SUCCESS"
    replaced = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-before", old_properties=old))

    # Another resource failed: CloudFormation rolls this one back to its old properties.
    rollback = cloudformation.send(cloudformation.event("Update", old, physical_id="ep-after", old_properties=new))
    cleanup = cloudformation.send(cloudformation.event("Delete", new, physical_id="ep-after"))

    assert replaced["PhysicalResourceId"] == "ep-after"
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert rollback["PhysicalResourceId"] == "ep-before"
    assert cleanup["Status"] == "SUCCESS", cleanup["Reason"]
    assert cloudformation.api.endpoint_ids() == ["ep-before"]
    assert cloudformation.operations().count("CreateMLEndpoint") == 2  # no third endpoint, no update


def test_the_rollback_of_a_refused_replacement_sends_the_kept_endpoint_nothing(
        cloudformation: CloudFormation) -> None:
    old = cloudformation.properties(Id="ep-kept-too")
    new = cloudformation.properties(Id="ep-taken")
    assert cloudformation.send(cloudformation.event("Create", old))["Status"] == "SUCCESS"
    _hand_made_endpoint(cloudformation, "ep-taken")
    failed = cloudformation.send(cloudformation.event("Update", new, physical_id="ep-kept-too", old_properties=old))
    creates_before = cloudformation.operations().count("CreateMLEndpoint")

    rollback = cloudformation.send(cloudformation.event("Update", old, physical_id="ep-kept-too",
                                                        old_properties=new))

    assert failed["Status"] == "FAILED" and failed["PhysicalResourceId"] == "ep-kept-too"
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert cloudformation.operations().count("CreateMLEndpoint") == creates_before
    assert sorted(cloudformation.api.endpoint_ids()) == ["ep-kept-too", "ep-taken"]


def test_the_rollback_of_a_move_from_a_derived_id_to_a_taken_one_keeps_the_endpoint(
        cloudformation: CloudFormation) -> None:
    original = cloudformation.properties()
    created = cloudformation.send(cloudformation.event("Create", original))
    endpoint_id = created["PhysicalResourceId"]
    boto3.client("neptunedata", endpoint_url=cloudformation.api.url, region_name="us-east-1").create_ml_endpoint(
        id="someone-elses", mlModelTrainingJobId="training-1")
    moved = {**original, "Id": "someone-elses"}

    failed = cloudformation.send(cloudformation.event("Update", moved, physical_id=endpoint_id,
                                                      old_properties=original))
    rollback = cloudformation.send(cloudformation.event("Update", original, physical_id=endpoint_id,
                                                        old_properties=moved))

    assert failed["Status"] == "FAILED" and "AlreadyExists" in failed["Reason"]
    assert rollback["Status"] == "SUCCESS" and rollback["PhysicalResourceId"] == endpoint_id
    assert sorted(cloudformation.api.endpoint_ids()) == sorted([endpoint_id, "someone-elses"])
