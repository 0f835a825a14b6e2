"""The shared handler's dead-letter queue, its optional KMS key and its checkov acknowledgments."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs_support import (
    as_list,
    joined_text,
    literal_cluster,
    new_stack,
    only_resource,
    policy_statements,
)

from neptune_ml_endpoint import NeptuneMlEndpoint
from neptune_ml_endpoint.constructs.acknowledgments import acknowledge_checkov_check


def two_endpoints(stack: cdk.Stack, key: kms.IKey | None = None) -> NeptuneMlEndpoint:
    """Two endpoints on one cluster, both given key; the first is returned."""
    cluster = literal_cluster(stack)
    first = NeptuneMlEndpoint(
        stack, "First", cluster=cluster, ml_model_training_job_id="training-1", handler_encryption_key=key
    )
    NeptuneMlEndpoint(
        stack, "Second", cluster=cluster, ml_model_transform_job_id="transform-1", handler_encryption_key=key
    )
    return first


def checkov_skips(resource: dict[str, Any]) -> dict[str, str]:
    """The checkov checks a resource's metadata acknowledges, with their reasons."""
    skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {skip["id"]: skip["comment"] for skip in skips}


@pytest.fixture(scope="module")
def default_handler() -> tuple[NeptuneMlEndpoint, Template]:
    stack = new_stack()
    first = two_endpoints(stack)
    return first, Template.from_stack(stack)


@pytest.fixture(scope="module")
def keyed_handler() -> Template:
    stack = new_stack()
    two_endpoints(stack, kms.Key(stack, "HandlerKey", enable_key_rotation=True))
    return Template.from_stack(stack)


def test_failed_invocations_go_to_a_kms_encrypted_queue(
    default_handler: tuple[NeptuneMlEndpoint, Template],
) -> None:
    first, template = default_handler
    queue_id, queue = only_resource(template, "AWS::SQS::Queue")
    assert queue["Properties"]["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    template.has_resource_properties(
        "AWS::Lambda::Function", {"DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}}
    )
    assert first.stack.resolve(first.provider.dead_letter_queue.queue_arn) == {"Fn::GetAtt": [queue_id, "Arn"]}
    (send,) = [s for s in policy_statements(template) if "sqs:SendMessage" in as_list(s["Action"])]
    assert send["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_the_queue_refuses_requests_without_tls(default_handler: tuple[NeptuneMlEndpoint, Template]) -> None:
    _, template = default_handler
    _, queue_policy = only_resource(template, "AWS::SQS::QueuePolicy")
    (statement,) = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_queue_can_be_alarmed_on(default_handler: tuple[NeptuneMlEndpoint, Template]) -> None:
    first, _ = default_handler
    metric = first.provider.dead_letter_queue.metric_approximate_number_of_messages_visible()
    assert metric.metric_name == "ApproximateNumberOfMessagesVisible"


def test_by_default_only_reserved_concurrency_and_the_log_key_are_acknowledged(
    default_handler: tuple[NeptuneMlEndpoint, Template],
) -> None:
    _, template = default_handler
    _, function = only_resource(template, "AWS::Lambda::Function")
    _, log_group = only_resource(template, "AWS::Logs::LogGroup")
    assert "KmsKeyId" not in log_group["Properties"]
    assert sorted(checkov_skips(function)) == ["CKV_AWS_115"]
    assert sorted(checkov_skips(log_group)) == ["CKV_AWS_158"]
    assert all(len(reason) >= 40 for reason in [*checkov_skips(function).values(),
                                               *checkov_skips(log_group).values()])


def test_a_key_encrypts_the_log_group_and_the_queue(keyed_handler: Template) -> None:
    key_id, _ = only_resource(keyed_handler, "AWS::KMS::Key")
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    keyed_handler.resource_count_is("AWS::Lambda::Function", 1)
    _, log_group = only_resource(keyed_handler, "AWS::Logs::LogGroup")
    _, queue = only_resource(keyed_handler, "AWS::SQS::Queue")
    assert log_group["Properties"]["KmsKeyId"] == key_arn
    assert queue["Properties"]["KmsMasterKeyId"] == key_arn
    assert checkov_skips(log_group) == {}
    (use,) = [s for s in policy_statements(keyed_handler) if s["Resource"] == key_arn]
    assert sorted(as_list(use["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_a_key_of_the_app_lets_cloudwatch_logs_use_it_for_this_account_only(keyed_handler: Template) -> None:
    _, key = only_resource(keyed_handler, "AWS::KMS::Key")
    (logs,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    assert joined_text(logs["Principal"]["Service"]) == "logs.${AWS::Region}.amazonaws.com"
    assert joined_text(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]) == (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    )


@pytest.mark.parametrize("second", ["another key", "no key"])
def test_endpoints_sharing_a_handler_must_give_the_same_key(second: str) -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    NeptuneMlEndpoint(stack, "First", cluster=cluster, ml_model_training_job_id="t-1", handler_encryption_key=key)
    other = kms.Key(stack, "Other", enable_key_rotation=True) if second == "another key" else None
    with pytest.raises(ValueError, match="^handler_encryption_key: .* the same handler_encryption_key"):
        NeptuneMlEndpoint(
            stack, "Second", cluster=cluster, ml_model_training_job_id="t-2", handler_encryption_key=other
        )


def test_checkov_acknowledgments_add_up_and_replace_by_id() -> None:
    stack = new_stack()
    resource = cdk.CfnResource(stack, "Thing", type="AWS::SQS::Queue")
    acknowledge_checkov_check(resource, "CKV_AWS_1", "first reason")
    acknowledge_checkov_check(resource, "CKV_AWS_2", "second reason")
    acknowledge_checkov_check(resource, "CKV_AWS_1", "first reason, restated")
    (thing,) = Template.from_stack(stack).find_resources("AWS::SQS::Queue").values()
    assert thing["Metadata"]["checkov"] == {"skip": [
        {"id": "CKV_AWS_2", "comment": "second reason"},
        {"id": "CKV_AWS_1", "comment": "first reason, restated"},
    ]}
