"""Waiting across invocations: answer in the first one when possible, else crhelper's polling."""

from __future__ import annotations

import json

import pytest
from handler_driver import FAST, FUNCTION_NAME, SAFETY_MARGIN, CloudFormation

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Timings

SLOW = 1.0
"""Seconds an endpoint change takes in these tests: longer than the first invocation may wait."""
FIRST_INVOCATION = SAFETY_MARGIN + 0.3
"""A context with this much time waits about 0.3 s, then hands over to polling."""


def hand_over(cloudformation: CloudFormation, event: dict[str, object]) -> None:
    """Run the first invocation and check that it set up polling instead of answering."""
    cloudformation.invoke(event, seconds=FIRST_INVOCATION)

    assert cloudformation.receiver.responses(cloudformation.key_of(event)) == []
    [rule] = [rule for rule in cloudformation.stubs.rules() if rule.targets]
    assert rule.schedule_expression == "rate(1 minute)"
    [target] = rule.targets
    assert target.arn == f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
    assert target.input is not None and len(target.input) <= 8192
    poll_event = json.loads(target.input)
    assert poll_event["CrHelperPoll"] is True and poll_event["RequestId"] == event["RequestId"]
    [permission] = cloudformation.stubs.permissions()
    assert (permission.function_name, permission.principal) == (FUNCTION_NAME, "events.amazonaws.com")
    assert permission.source_arn == rule.arn


def assert_polling_removed(cloudformation: CloudFormation) -> None:
    assert cloudformation.stubs.rules() == []
    assert cloudformation.stubs.permissions() == []


def test_a_quick_endpoint_is_answered_in_the_first_invocation_without_polling(
        cloudformation: CloudFormation) -> None:
    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-quick")),
                                 seconds=FIRST_INVOCATION + 5)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert not {"PutTargets", "AddPermission"} & set(cloudformation.stubs.calls())


def test_create_hands_over_to_polling_and_answers_once_in_service(cloudformation: CloudFormation) -> None:
    cloudformation.api.timings = Timings(creating=SLOW, updating=FAST.updating, deleting=FAST.deleting)
    event = cloudformation.event("Create", cloudformation.properties(Id="ep-polled"))

    hand_over(cloudformation, event)
    answer = cloudformation.poll_until_answered(event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-polled"
    assert set(answer["Data"]) == set(schema.ATTRIBUTES)
    assert int(answer["Data"][schema.ATTR_CREATION_TIME]) > 0
    assert cloudformation.api.status("ep-polled") == "InService"
    assert_polling_removed(cloudformation)


@pytest.mark.parametrize(
    ("new_values", "replaced"),
    [
        pytest.param({"MlModelTrainingJobId": "training-2"}, False, id="in-place"),
        pytest.param({"Id": "ep-polled-new"}, True, id="replacement"),
    ],
)
def test_update_hands_over_to_polling(cloudformation: CloudFormation, new_values: dict[str, str],
                                      replaced: bool) -> None:
    old = cloudformation.properties(Id="ep-polled")
    assert cloudformation.send(cloudformation.event("Create", old))["Status"] == "SUCCESS"
    cloudformation.api.timings = Timings(creating=SLOW, updating=SLOW, deleting=FAST.deleting)
    new = {**old, **new_values}
    event = cloudformation.event("Update", new, physical_id="ep-polled", old_properties=old)

    hand_over(cloudformation, event)
    answer = cloudformation.poll_until_answered(event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == new["Id"]
    assert set(answer["Data"]) == set(schema.ATTRIBUTES)
    assert len(cloudformation.api.endpoint_ids()) == (2 if replaced else 1)
    if replaced:  # the creation marker names the replaced endpoint until CloudFormation's cleanup
        cleanup = cloudformation.send(cloudformation.event("Delete", old, physical_id="ep-polled"))
        assert cleanup["Status"] == "SUCCESS", cleanup["Reason"]
    assert_polling_removed(cloudformation)


def test_delete_hands_over_to_polling_and_answers_once_gone(cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(Id="ep-polled")
    assert cloudformation.send(cloudformation.event("Create", properties))["Status"] == "SUCCESS"
    cloudformation.api.timings = Timings(creating=FAST.creating, updating=FAST.updating, deleting=SLOW)
    event = cloudformation.event("Delete", properties, physical_id="ep-polled")

    hand_over(cloudformation, event)
    answer = cloudformation.poll_until_answered(event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-polled"
    assert answer["Data"] == {}
    assert cloudformation.api.endpoint_ids() == []
    assert_polling_removed(cloudformation)


def test_a_failure_found_by_a_poll_keeps_the_endpoint_id_for_the_rollback(cloudformation: CloudFormation) -> None:
    cloudformation.api.timings = Timings(creating=SLOW, updating=FAST.updating, deleting=FAST.deleting)
    properties = cloudformation.properties(MlModelTrainingJobId="failing-4")
    event = cloudformation.event("Create", properties)

    hand_over(cloudformation, event)
    answer = cloudformation.poll_until_answered(event)

    assert answer["Status"] == "FAILED"
    assert "could not be loaded" in answer["Reason"]
    assert answer["PhysicalResourceId"] == cloudformation.api.endpoint_ids()[0]
    assert answer["Data"] == {}
    assert_polling_removed(cloudformation)

    rollback = cloudformation.send(
        cloudformation.event("Delete", properties, physical_id=answer["PhysicalResourceId"]))

    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert cloudformation.api.endpoint_ids() == []


def test_a_logical_id_too_long_for_crhelpers_rule_fails_clearly(cloudformation: CloudFormation) -> None:
    cloudformation.api.timings = Timings(creating=SLOW, updating=FAST.updating, deleting=FAST.deleting)
    event = cloudformation.event("Create", cloudformation.properties(), logical_id="L" * 57)

    answer = cloudformation.send(event, seconds=FIRST_INVOCATION)

    assert answer["Status"] == "FAILED"
    assert "logical id is longer than the 56 characters" in answer["Reason"]
    assert answer["PhysicalResourceId"] in cloudformation.api.endpoint_ids()  # the rollback deletes it
    assert cloudformation.stubs.calls() == []


def test_a_replacement_too_long_for_crhelpers_rule_is_deleted_before_the_update_fails(
        cloudformation: CloudFormation) -> None:
    # A move to another cluster (where the current endpoint is not) replaces it under a new derived id.
    cloudformation.api.timings = Timings(creating=SLOW, updating=FAST.updating, deleting=FAST.deleting)
    current_id = "L" * 20 + "-0123456789ab"
    old = cloudformation.properties(NeptuneEndpoint="https://old-cluster.example.com:8182")
    event = cloudformation.event("Update", cloudformation.properties(), logical_id="L" * 57,
                                 physical_id=current_id, old_properties=old)

    answer = cloudformation.send(event, seconds=FIRST_INVOCATION)

    assert answer["Status"] == "FAILED"
    assert "logical id is longer than the 56 characters" in answer["Reason"]
    assert "the new endpoint was removed" in answer["Reason"]
    assert answer["PhysicalResourceId"] == current_id  # the rollback returns to it
    [created] = [r.endpoint_id for r in cloudformation.api.requests() if r.operation == "CreateMLEndpoint"]
    [deleted] = [r.endpoint_id for r in cloudformation.api.requests() if r.operation == "DeleteMLEndpoint"]
    assert deleted == created != current_id  # nothing is left that CloudFormation does not know of
    assert cloudformation.stubs.calls() == []


def test_a_logical_id_too_long_for_the_creation_marker_fails_before_creating(
        cloudformation: CloudFormation) -> None:
    event = cloudformation.event("Create", cloudformation.properties(Id="ep-long-name"), logical_id="L" * 57)

    answer = cloudformation.send(event)

    assert answer["Status"] == "FAILED"
    assert "logical id is longer than the 56 characters" in answer["Reason"]
    assert "nothing was created" in answer["Reason"]
    assert not schema.is_endpoint_id(answer["PhysicalResourceId"])
    assert cloudformation.api.endpoint_ids() == []


def test_an_answer_whose_first_delivery_is_lost_is_delivered_again(cloudformation: CloudFormation) -> None:
    cloudformation.receiver.refuse_next(1)
    refused_before = cloudformation.receiver.refused

    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-redelivered")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert cloudformation.receiver.refused == refused_before + 1
