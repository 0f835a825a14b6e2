"""The job constructs: the resources they declare, chaining into the endpoint, checks, IAM per declared type."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from constructs_support import literal_cluster, new_stack, policy_statements, resources

from neptune_ml_endpoint import (
    CustomModelParameters,
    NeptuneCluster,
    NeptuneMlDataProcessingJob,
    NeptuneMlEndpoint,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
    schema,
)
from neptune_ml_endpoint.constructs.provider import NEPTUNE_ACTIONS_BY_TYPE

BUCKET = "s3://ml-bucket"


def chain(stack: cdk.Stack, cluster: NeptuneCluster, **training: Any) -> tuple[Any, Any, Any]:
    processing = NeptuneMlDataProcessingJob(stack, "Processing", cluster=cluster,
                                            input_data_s3_location=f"{BUCKET}/export/",
                                            processed_data_s3_location=f"{BUCKET}/processed/")
    trained = NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster, data_processing_job=processing,
                                        train_model_s3_location=f"{BUCKET}/training/", **training)
    endpoint = NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, training_job=trained)
    return processing, trained, endpoint


def logical_id(stack: cdk.Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.custom_resource.node.default_child)


def test_a_chain_passes_each_job_id_down_as_a_reference() -> None:
    stack = new_stack()
    processing, trained, _ = chain(stack, literal_cluster(stack))
    template = Template.from_stack(stack)

    template.has_resource_properties(schema.MODEL_TRAINING_TYPE, {
        "DataProcessingJobId": {"Fn::GetAtt": [logical_id(stack, processing), "Id"]},
        "TrainModelS3Location": f"{BUCKET}/training/",
    })
    template.has_resource_properties(schema.RESOURCE_TYPE, {
        "MlModelTrainingJobId": {"Fn::GetAtt": [logical_id(stack, trained), "Id"]},
    })
    template.has_resource_properties(schema.DATA_PROCESSING_TYPE, {
        "NeptuneEndpoint": Match.any_value(), "InputDataS3Location": f"{BUCKET}/export/",
        "ServiceTimeout": "3600",
    })


def test_the_jobs_share_the_endpoint_handler_and_it_gets_only_the_declared_types_actions() -> None:
    stack = new_stack()
    chain(stack, literal_cluster(stack))
    template = Template.from_stack(stack)

    assert len(resources(template, "AWS::Lambda::Function")) == 1
    granted = {action for statement in policy_statements(template)
               for action in _as_list(statement["Action"]) if action.startswith("neptune-db:")}
    assert granted == {*NEPTUNE_ACTIONS_BY_TYPE[schema.RESOURCE_TYPE],
                       *NEPTUNE_ACTIONS_BY_TYPE[schema.DATA_PROCESSING_TYPE],
                       *NEPTUNE_ACTIONS_BY_TYPE[schema.MODEL_TRAINING_TYPE]}
    assert "neptune-db:StartMLModelTransformJob" not in granted


def test_a_processing_job_alone_grants_only_its_three_actions() -> None:
    stack = new_stack()
    NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack),
                               input_data_s3_location=f"{BUCKET}/export/",
                               processed_data_s3_location=f"{BUCKET}/processed/")
    granted = {action for statement in policy_statements(Template.from_stack(stack))
               for action in _as_list(statement["Action"]) if action.startswith("neptune-db:")}

    assert granted == {"neptune-db:StartMLDataProcessingJob", "neptune-db:GetMLDataProcessingJobStatus",
                       "neptune-db:CancelMLDataProcessingJob"}


def test_every_training_prop_becomes_its_property() -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/NeptuneMl")
    key = kms.Key(stack, "Key")
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef9")
    NeptuneMlModelTrainingJob(
        stack, "Training", cluster=cluster, data_processing_job="processing-1",
        train_model_s3_location=f"{BUCKET}/training/", previous_training_job="training-0", model_name="custom",
        base_processing_instance_type="ml.m5.large", training_instance_type="ml.p3.2xlarge",
        training_instance_volume_size_in_gb=100, training_timeout=cdk.Duration.hours(6),
        max_hpo_number_of_training_jobs=4, max_hpo_parallel_training_jobs=2, enable_managed_spot_training=True,
        max_wait_time=cdk.Duration.hours(8), enable_inter_container_traffic_encryption=True,
        custom_model_training_parameters=CustomModelParameters(f"{BUCKET}/code/", "train.py", "transform.py"),
        sagemaker_iam_role=role, neptune_iam_role=role, vpc_subnets=ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS), security_groups=[group],
        volume_encryption_key=key, s3_output_encryption_key=key, run_key="2026-11", clean=True,
        timeout=cdk.Duration.minutes(50),
    )
    template = Template.from_stack(stack)

    [properties] = [r["Properties"] for r in resources(template, schema.MODEL_TRAINING_TYPE).values()]
    given = {name for name in properties if name not in schema.CLOUDFORMATION_KEYS}
    assert given == set(schema.MODEL_TRAINING.property_names) - {"Id", "CompletionSignalUrl", "CompletionTimeoutSeconds"}
    assert properties["CustomModelTrainingParameters"] == {"SourceS3DirectoryPath": f"{BUCKET}/code/",
                                                           "TrainingEntryPointScript": "train.py",
                                                           "TransformEntryPointScript": "transform.py"}
    assert properties["Subnets"] == ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
    assert (properties["TrainingTimeOutInSeconds"], properties["MaxWaitTime"]) == (21600, 28800)
    assert properties["ServiceTimeout"] == "3000"
    resolved = {name: value for name, value in properties.items() if not isinstance(value, dict)
                or name == "CustomModelTrainingParameters"}
    resolved |= {"NeptuneEndpoint": "https://cluster:8182", "VolumeEncryptionKMSKey": "alias/key",
                 "S3OutputEncryptionKMSKey": "alias/key", "SecurityGroupIds": ["sg-0123456789abcdef9"]}
    schema.parse_job_properties(schema.MODEL_TRAINING, {k: _as_cloudformation(v) for k, v in resolved.items()})


def test_a_transform_takes_a_processing_and_a_training_job() -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    processing, trained, _ = chain(stack, cluster)
    transform = NeptuneMlModelTransformJob(stack, "Transform", cluster=cluster, data_processing_job=processing,
                                           training_job=trained,
                                           model_transform_output_s3_location=f"{BUCKET}/transform/")
    NeptuneMlEndpoint(stack, "Serving", cluster=cluster, transform_job=transform)
    template = Template.from_stack(stack)

    template.has_resource_properties(schema.RESOURCE_TYPE, {
        "MlModelTransformJobId": {"Fn::GetAtt": [logical_id(stack, transform), "Id"]}})


@pytest.mark.parametrize("mix_up", ["training_from_training", "endpoint_from_processing",
                                    "transform_from_processing", "warm_start_from_processing"])
def test_a_job_of_the_wrong_kind_is_refused_at_synth_naming_the_prop(mix_up: str) -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    processing, trained, _ = chain(stack, cluster)
    location = f"{BUCKET}/next/"
    mistakes = {
        "training_from_training": ("data_processing_job", "Training", "NeptuneMlDataProcessingJob",
                                   lambda: NeptuneMlModelTrainingJob(stack, "Again", cluster=cluster,
                                                                     data_processing_job=trained,
                                                                     train_model_s3_location=location)),
        "endpoint_from_processing": ("training_job", "Processing", "NeptuneMlModelTrainingJob",
                                     lambda: NeptuneMlEndpoint(stack, "Wrong", cluster=cluster,
                                                               training_job=processing)),
        "transform_from_processing": ("training_job", "Processing", "NeptuneMlModelTrainingJob",
                                      lambda: NeptuneMlModelTransformJob(stack, "Transform", cluster=cluster,
                                                                         data_processing_job=processing,
                                                                         training_job=processing,
                                                                         model_transform_output_s3_location=location)),
        "warm_start_from_processing": ("previous_training_job", "Processing", "NeptuneMlModelTrainingJob",
                                       lambda: NeptuneMlModelTrainingJob(stack, "Warm", cluster=cluster,
                                                                         data_processing_job=processing,
                                                                         previous_training_job=processing,
                                                                         train_model_s3_location=location)),
    }
    prop, given, wanted, declare = mistakes[mix_up]

    with pytest.raises(TypeError, match=f"^{prop}: .*/{given} is a .*; {prop} takes a {wanted} "):
        declare()


def test_something_that_is_no_job_is_refused_naming_the_prop() -> None:
    stack = new_stack()

    with pytest.raises(TypeError, match=r"^data_processing_job: give a NeptuneMlDataProcessingJob, one from "
                                        r"NeptuneMlDataProcessingJob\.from_job_id, or a job id, not 123"):
        NeptuneMlModelTrainingJob(stack, "Training", cluster=literal_cluster(stack), data_processing_job=123,  # type: ignore[arg-type]
                                  train_model_s3_location=f"{BUCKET}/training/")


def test_an_imported_job_of_the_wrong_kind_is_refused_too() -> None:
    stack = new_stack()
    imported = NeptuneMlModelTrainingJob.from_job_id("training-1")

    with pytest.raises(TypeError, match=r"^data_processing_job: job 'training-1' comes from "
                                        r"NeptuneMlModelTrainingJob\.from_job_id; data_processing_job takes a "
                                        r"NeptuneMlDataProcessingJob"):
        NeptuneMlModelTrainingJob(stack, "Training", cluster=literal_cluster(stack), data_processing_job=imported,
                                  train_model_s3_location=f"{BUCKET}/training/")


def test_imported_jobs_chain_by_id() -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster,
                              data_processing_job=NeptuneMlDataProcessingJob.from_job_id("from-notebook"),
                              train_model_s3_location=f"{BUCKET}/training/")

    Template.from_stack(stack).has_resource_properties(schema.MODEL_TRAINING_TYPE,
                                                       {"DataProcessingJobId": "from-notebook"})


@pytest.mark.parametrize(("props", "message"), [
    ({"input_data_s3_location": "bucket/export"},
     r"input_data_s3_location \(InputDataS3Location\): 'bucket/export' is not an S3 URI"),
    ({"processing_instance_type": "m5.large"}, r"processing_instance_type \(ProcessingInstanceType\)"),
    ({"processing_instance_volume_size_in_gb": 0}, r"processing_instance_volume_size_in_gb .*from 1 to 16384"),
    ({"model_type": "rgcn"}, r"model_type \(ModelType\): 'rgcn' is not one of heterogeneous, kge"),
    ({"job_id": "has space"}, r"job_id \(Id\)"),
    ({"timeout": cdk.Duration.hours(13)}, r"timeout: 13 hours is outside"),
])
def test_bad_processing_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    arguments = {"input_data_s3_location": f"{BUCKET}/export/", "processed_data_s3_location": f"{BUCKET}/p/", **props}

    with pytest.raises(ValueError, match=message):
        NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack), **arguments)


def test_rules_between_training_props_are_checked_at_synth() -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)

    with pytest.raises(ValueError, match=r"max_wait_time \(MaxWaitTime\): is set without EnableManagedSpotTraining"):
        NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster, data_processing_job="p",
                                  train_model_s3_location=f"{BUCKET}/t/", max_wait_time=cdk.Duration.hours(1))
    with pytest.raises(ValueError, match=r"custom_model_training_parameters"):
        NeptuneMlModelTrainingJob(stack, "Training2", cluster=cluster, data_processing_job="p",
                                  train_model_s3_location=f"{BUCKET}/t/", model_name="custom")


def test_a_transform_needs_both_jobs_or_a_training_job_name() -> None:
    stack = new_stack()

    with pytest.raises(ValueError, match=r"training_job \(MlModelTrainingJobId\): is missing"):
        NeptuneMlModelTransformJob(stack, "Transform", cluster=literal_cluster(stack), data_processing_job="p",
                                   model_transform_output_s3_location=f"{BUCKET}/x/")


def test_removal_policy_retain_keeps_the_job_resource() -> None:
    stack = new_stack()
    NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack),
                               input_data_s3_location=f"{BUCKET}/export/",
                               processed_data_s3_location=f"{BUCKET}/processed/",
                               removal_policy=cdk.RemovalPolicy.RETAIN)

    Template.from_stack(stack).has_resource(schema.DATA_PROCESSING_TYPE, {"DeletionPolicy": "Retain"})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _as_cloudformation(value: Any) -> Any:
    """A template value as CloudFormation sends it to a custom resource: scalars become strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_as_cloudformation(item) for item in value]
    if isinstance(value, dict):
        return {k: _as_cloudformation(v) for k, v in value.items()}
    return value


# --- waits past the hour -----------------------------------------------------------------------


def long_chain(run_key: str = "export-1", hours: int = 6) -> tuple[cdk.Stack, Template]:
    stack = new_stack()
    cluster = literal_cluster(stack)
    processing = NeptuneMlDataProcessingJob(stack, "Processing", cluster=cluster, run_key=run_key,
                                            input_data_s3_location=f"{BUCKET}/export/",
                                            processed_data_s3_location=f"{BUCKET}/processed/")
    trained = NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster, data_processing_job=processing,
                                        train_model_s3_location=f"{BUCKET}/training/",
                                        timeout=cdk.Duration.hours(hours))
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, training_job=trained)
    return stack, Template.from_stack(stack)


def test_a_timeout_over_an_hour_waits_on_a_wait_condition_the_endpoint_depends_on() -> None:
    _, template = long_chain()

    [(handle_id, _)] = resources(template, "AWS::CloudFormation::WaitConditionHandle").items()
    [(condition_id, condition)] = resources(template, "AWS::CloudFormation::WaitCondition").items()
    [(training_id, training)] = resources(template, schema.MODEL_TRAINING_TYPE).items()
    [endpoint] = resources(template, schema.RESOURCE_TYPE).values()
    assert condition["Properties"] == {"Count": 1, "Handle": {"Ref": handle_id}, "Timeout": "21600"}
    assert training_id in condition["DependsOn"]
    assert training["Properties"]["CompletionSignalUrl"] == {"Ref": handle_id}
    assert training["Properties"]["CompletionTimeoutSeconds"] == 21600
    assert training["Properties"]["ServiceTimeout"] == "600"
    assert condition_id in endpoint["DependsOn"]


def test_a_new_upstream_job_gives_the_long_wait_new_handle_and_condition_ids() -> None:
    _, first = long_chain(run_key="export-1")
    _, same = long_chain(run_key="export-1")
    _, retrained = long_chain(run_key="export-2")
    _, longer = long_chain(hours=7)

    def ids(template: Template) -> set[str]:
        return {*resources(template, "AWS::CloudFormation::WaitConditionHandle"),
                *resources(template, "AWS::CloudFormation::WaitCondition")}

    assert ids(first) == ids(same)
    assert not ids(first) & ids(retrained)
    assert not ids(first) & ids(longer)


def test_up_to_an_hour_no_wait_condition_is_declared() -> None:
    _, template = long_chain(hours=1)

    assert resources(template, "AWS::CloudFormation::WaitCondition") == {}
    [training] = resources(template, schema.MODEL_TRAINING_TYPE).values()
    assert "CompletionSignalUrl" not in training["Properties"]


def test_a_timeout_over_twelve_hours_is_refused() -> None:
    stack = new_stack()

    with pytest.raises(ValueError, match=r"timeout: 13 hours is outside 1 s to 12 hours"):
        NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack),
                                   input_data_s3_location=f"{BUCKET}/export/",
                                   processed_data_s3_location=f"{BUCKET}/processed/", timeout=cdk.Duration.hours(13))


def test_an_explicit_job_id_another_job_of_the_app_has_is_refused_at_synth() -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    props: dict[str, Any] = {"cluster": cluster, "job_id": "processing-1",
                             "input_data_s3_location": f"{BUCKET}/export/",
                             "processed_data_s3_location": f"{BUCKET}/processed/"}
    NeptuneMlDataProcessingJob(stack, "First", **props)

    with pytest.raises(ValueError, match=r"^job_id \(Id\): 'processing-1' is also the id of Stack/First"):
        NeptuneMlDataProcessingJob(stack, "Second", **props)


@pytest.mark.parametrize(("props", "message"), [
    ({"sagemaker_iam_role": "arn:aws:iam::123456789012:role/R"}, "sagemaker_iam_role: give an iam.IRole"),
    ({"security_groups": ["sg-0123456789abcdef0"]}, "security_groups: give ec2.ISecurityGroup objects"),
    ({"processing_timeout": 3600}, "processing_timeout: give a Duration"),
    ({"processing_timeout": cdk.Duration.millis(1500)},
     "processing_timeout: 1 second 500 millis is not a whole number of seconds"),
    ({"timeout": cdk.Duration.millis(500)}, "timeout: 500 millis is not a whole number of seconds"),
])
def test_a_job_prop_of_the_wrong_kind_is_refused_naming_it(props: dict[str, Any], message: str) -> None:
    stack = new_stack()

    with pytest.raises((TypeError, ValueError), match="^" + re.escape(message)):
        NeptuneMlDataProcessingJob(stack, "Processing", cluster=literal_cluster(stack),
                                   input_data_s3_location=f"{BUCKET}/export/",
                                   processed_data_s3_location=f"{BUCKET}/processed/", **props)
