"""Delete: answered once Neptune no longer knows the endpoint; nothing to delete is a success."""

from __future__ import annotations

import pytest
from handler_driver import STACK_ID, CloudFormation


def test_delete_answers_once_the_endpoint_is_gone(cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(Id="ep-delete")
    assert cloudformation.send(cloudformation.event("Create", properties))["Status"] == "SUCCESS"

    answer = cloudformation.send(cloudformation.event("Delete", properties, physical_id="ep-delete"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-delete"
    assert cloudformation.api.endpoint_ids() == []
    assert cloudformation.operations()[-1] == "GetMLEndpoint"
    assert [r.status_code for r in cloudformation.api.requests()][-1] == 404


def test_deleting_an_unknown_endpoint_succeeds_after_one_call(cloudformation: CloudFormation) -> None:
    answer = cloudformation.send(
        cloudformation.event("Delete", cloudformation.properties(), physical_id="ep-never-created"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-never-created"
    assert cloudformation.operations() == ["DeleteMLEndpoint"]


def test_deleting_crhelpers_generated_id_makes_no_calls(cloudformation: CloudFormation) -> None:
    generated = f"{STACK_ID.split('/')[1]}_Endpoint_A1B2C3D4"

    answer = cloudformation.send(cloudformation.event("Delete", cloudformation.properties(), physical_id=generated))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == generated
    assert cloudformation.operations() == []


@pytest.mark.parametrize(
    "properties",
    [
        pytest.param({"MlModelTrainingJobId": "training-1"}, id="no-address"),
        pytest.param({"NeptuneEndpoint": "not a url", "MlModelTrainingJobId": "training-1"}, id="bad-address"),
        pytest.param({"NeptuneEndpoint": "https://db.example.com:8182", "NeptuneIamRoleArn": "role"}, id="bad-role"),
    ],
)
def test_deleting_with_invalid_properties_makes_no_calls(cloudformation: CloudFormation,
                                                         properties: dict[str, str]) -> None:
    answer = cloudformation.send(cloudformation.event("Delete", properties, physical_id="ep-with-bad-input"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert cloudformation.operations() == []


def test_delete_ignores_properties_it_does_not_need(cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(Id="ep-loose")
    assert cloudformation.send(cloudformation.event("Create", properties))["Status"] == "SUCCESS"

    answer = cloudformation.send(cloudformation.event(
        "Delete", {**properties, "InstanceCount": "lots", "Unknown": "x"}, physical_id="ep-loose"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert cloudformation.api.endpoint_ids() == []
