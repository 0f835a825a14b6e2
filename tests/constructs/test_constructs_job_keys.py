"""A job's KMS keys: its roles get the actions SageMaker needs of each key, named one by one, before the job
starts; and a job synthesizes without aws-cdk-lib's deprecated APIs."""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs_support import literal_cluster, new_stack, resources

from neptune_ml_endpoint import NeptuneMlDataProcessingJob, NeptuneMlEndpoint, schema

BUCKET = "s3://ml-bucket"


def processing(stack: cdk.Stack, **props: Any) -> NeptuneMlDataProcessingJob:
    return NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack),
                                      input_data_s3_location=f"{BUCKET}/export/",
                                      processed_data_s3_location=f"{BUCKET}/processed/", **props)


def kms_actions_by_key(template: Template) -> dict[str, set[str]]:
    """The kms: actions every policy grants, by the key's logical id."""
    granted: dict[str, set[str]] = {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("kms:") for action in actions):
                key = statement["Resource"]["Fn::GetAtt"][0]
                granted.setdefault(key, set()).update(actions)
    return granted


def test_the_volume_key_gets_create_grant_and_the_output_key_encrypt_and_decrypt_without_wildcards() -> None:
    stack = new_stack()
    role = iam.Role(stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    volume = kms.Key(stack, "VolumeKey")
    output = kms.Key(stack, "OutputKey")
    processing(stack, sagemaker_iam_role=role, volume_encryption_key=volume, s3_output_encryption_key=output)

    granted = kms_actions_by_key(Template.from_stack(stack))

    assert granted == {
        stack.resolve(volume.node.default_child.logical_id): {"kms:CreateGrant", "kms:DescribeKey"},  # type: ignore[union-attr]
        stack.resolve(output.node.default_child.logical_id): {  # type: ignore[union-attr]
            "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
    }


def test_one_key_for_both_gets_both_sets_once_and_the_job_waits_for_the_policy() -> None:
    stack = new_stack()
    role = iam.Role(stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key = kms.Key(stack, "Key")
    processing(stack, sagemaker_iam_role=role, neptune_iam_role=role, volume_encryption_key=key,
               s3_output_encryption_key=key)
    template = Template.from_stack(stack)

    [actions] = kms_actions_by_key(template).values()
    assert actions == {"kms:CreateGrant", "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
    [policy_id] = [logical_id for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
                   if policy["Properties"]["Roles"] == [{"Ref": stack.resolve(role.node.default_child.logical_id)}]]  # type: ignore[union-attr]
    [job] = resources(template, schema.DATA_PROCESSING_TYPE).values()
    assert policy_id in job["DependsOn"]


def test_a_long_wait_synthesizes_without_deprecated_apis() -> None:
    """JSII_DEPRECATED=fail (tests/conftest.py sets it for every test, before aws-cdk-lib starts) turns a call
    of a deprecated aws-cdk-lib API into an error, which would otherwise be a warning every user sees on every
    synth; a long wait brings the wait condition, its handle and the watcher's rule."""
    assert os.environ.get("JSII_DEPRECATED") == "fail"
    stack = cdk.Stack(cdk.App(), "LongWait")
    NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack), timeout=cdk.Duration.hours(3),
                               input_data_s3_location=f"{BUCKET}/export/",
                               processed_data_s3_location=f"{BUCKET}/processed/")

    template = Template.from_stack(stack)

    template.resource_count_is("AWS::CloudFormation::WaitCondition", 1)


def test_an_imported_role_with_a_key_of_the_stack_synthesizes_for_jobs_and_endpoints() -> None:
    """The README's role is imported (Role.from_role_arn); in an environment-agnostic stack the key's grant
    then goes into the key policy, which a resource cannot be made to depend on."""
    stack = new_stack()
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/NeptuneMl")
    key = kms.Key(stack, "Key")
    job = processing(stack, neptune_iam_role=role, volume_encryption_key=key, s3_output_encryption_key=key)
    NeptuneMlEndpoint(stack, "Endpoint", cluster=job.cluster, ml_model_training_job_id="training-1",
                      neptune_iam_role=role, volume_encryption_key=key)

    template = Template.from_stack(stack)

    [(_, key_resource)] = resources(template, "AWS::KMS::Key").items()
    granted = {action for statement in key_resource["Properties"]["KeyPolicy"]["Statement"]
               if statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:role/NeptuneMl"}
               for action in statement["Action"]}
    assert granted == {"kms:CreateGrant", "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
