"""Create: an endpoint per resource, answered once it is InService; retries adopt, never duplicate."""

from __future__ import annotations

import re

import boto3
from handler_driver import CloudFormation

from neptune_ml_endpoint import schema


def test_create_with_explicit_id_answers_once_in_service(cloudformation: CloudFormation) -> None:
    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(Id="ep-explicit")))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "ep-explicit"
    assert cloudformation.api.status("ep-explicit") == "InService"
    data = answer["Data"]
    assert set(data) == set(schema.ATTRIBUTES)
    assert data[schema.ATTR_ID] == "ep-explicit"
    assert data[schema.ATTR_SAGEMAKER_ENDPOINT_NAME] == "ep-explicit"
    assert data[schema.ATTR_SAGEMAKER_ENDPOINT_ARN].endswith(":endpoint/ep-explicit")
    assert data[schema.ATTR_ARN].startswith("arn:aws:")
    assert int(data[schema.ATTR_CREATION_TIME]) > 0
    assert cloudformation.operations()[:2] == ["GetMLEndpoint", "CreateMLEndpoint"]


def test_create_without_id_derives_a_valid_id_from_the_logical_id(cloudformation: CloudFormation) -> None:
    answer = cloudformation.send(cloudformation.event("Create", cloudformation.properties(),
                                                      logical_id="Recommendations_Endpoint"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    endpoint_id = answer["PhysicalResourceId"]
    assert re.fullmatch(r"RecommendationsEndpoint-[0-9a-f]{12}", endpoint_id)
    assert schema.is_endpoint_id(endpoint_id)
    assert cloudformation.api.endpoint_ids() == [endpoint_id]


def test_a_retried_invocation_adopts_the_endpoint_it_started(cloudformation: CloudFormation) -> None:
    event = cloudformation.event("Create", cloudformation.properties())
    first = cloudformation.send(event)
    cloudformation.receiver.responses(cloudformation.key_of(event)).clear()

    cloudformation.invoke(event)  # Lambda runs the same event again

    answers = cloudformation.receiver.responses(cloudformation.key_of(event))
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"]
    assert answers[1]["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert answers[1]["Data"][schema.ATTR_CREATION_TIME] == "0"
    assert cloudformation.api.endpoint_ids() == [first["PhysicalResourceId"]]
    assert cloudformation.operations().count("CreateMLEndpoint") == 1


def test_a_retry_adopts_an_endpoint_that_is_still_creating(cloudformation: CloudFormation,
                                                            handler_module: object) -> None:
    import ml_endpoint_resource

    event = cloudformation.event("Create", cloudformation.properties())
    endpoint_id = ml_endpoint_resource.derive_endpoint_id(event["StackId"], event["LogicalResourceId"],
                                                          event["RequestId"])
    neptune = boto3.client("neptunedata", endpoint_url=cloudformation.api.url)
    neptune.create_ml_endpoint(id=endpoint_id, mlModelTrainingJobId="training-1")  # the lost first try

    answer = cloudformation.send(event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == endpoint_id
    assert answer["Data"][schema.ATTR_CREATION_TIME] == "0"
    assert cloudformation.api.endpoint_ids() == [endpoint_id]
    assert cloudformation.operations().count("CreateMLEndpoint") == 1


def test_a_failed_endpoint_fails_the_create_and_the_rollback_removes_it(cloudformation: CloudFormation) -> None:
    properties = cloudformation.properties(Id="ep-failing", MlModelTrainingJobId="failing-job")

    answer = cloudformation.send(cloudformation.event("Create", properties))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ep-failing"
    assert "ep-failing ended Failed" in answer["Reason"]
    assert "could not be loaded" in answer["Reason"]
    assert answer["Data"] == {}

    rollback = cloudformation.send(cloudformation.event("Delete", properties, physical_id="ep-failing"))

    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert cloudformation.api.endpoint_ids() == []
