"""NeptuneMlWorkflow: the jobs and endpoint it declares, its S3 layout, retraining and incremental data."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from constructs_support import literal_cluster, new_stack, resources

from neptune_ml_endpoint import IncrementalData, NeptuneMlWorkflow, schema

OUT = "s3://ml-bucket/movies"


def workflow(**props: Any) -> tuple[cdk.Stack, NeptuneMlWorkflow, Template]:
    stack = new_stack()
    declared = NeptuneMlWorkflow(stack, "Movies", cluster=literal_cluster(stack),
                                 input_data_s3_location="s3://ml-bucket/export/", output_s3_location=OUT + "/",
                                 **props)
    return stack, declared, Template.from_stack(stack)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    [found] = resources(template, resource_type).values()
    return found["Properties"]


def test_a_workflow_declares_processing_training_and_an_endpoint_with_sub_prefixes_and_defaults() -> None:
    stack, declared, template = workflow()

    processing = only(template, schema.DATA_PROCESSING_TYPE)
    training = only(template, schema.MODEL_TRAINING_TYPE)
    endpoint = only(template, schema.RESOURCE_TYPE)
    assert processing["ProcessedDataS3Location"] == f"{OUT}/1/processed/"
    assert (processing["RunKey"], processing["ProcessingInstanceType"]) == ("1", "ml.r5.large")
    assert training["TrainModelS3Location"] == f"{OUT}/1/training/"
    assert training["TrainingInstanceType"] == "ml.m5.2xlarge"
    assert training["DataProcessingJobId"] == {"Fn::GetAtt": [stack.get_logical_id(
        declared.data_processing_job.custom_resource.node.default_child), "Id"]}
    assert endpoint["MlModelTrainingJobId"] == {"Fn::GetAtt": [stack.get_logical_id(
        declared.training_job.custom_resource.node.default_child), "Id"]}
    assert endpoint["InstanceType"] == "ml.m5.xlarge"
    assert declared.transform_job is None
    assert len(resources(template, "AWS::Lambda::Function")) == 1


def test_a_new_data_version_changes_the_jobs_and_keeps_the_endpoints_logical_id() -> None:
    _, _, first = workflow(data_version="2026-11-01")
    _, _, second = workflow(data_version="2026-12-01")

    assert only(first, schema.DATA_PROCESSING_TYPE)["RunKey"] != only(second, schema.DATA_PROCESSING_TYPE)["RunKey"]
    assert only(second, schema.MODEL_TRAINING_TYPE)["TrainModelS3Location"] == f"{OUT}/2026-12-01/training/"
    assert set(resources(first, schema.RESOURCE_TYPE)) == set(resources(second, schema.RESOURCE_TYPE))


def test_incremental_data_is_processed_with_the_earlier_job_and_transformed_for_the_endpoint() -> None:
    stack, declared, template = workflow(incremental_data=IncrementalData("s3://ml-bucket/export-2/", "week-49"))

    assert declared.transform_job is not None and declared.incremental_processing_job is not None
    [incremental] = [r["Properties"] for r in resources(template, schema.DATA_PROCESSING_TYPE).values()
                     if "PreviousDataProcessingJobId" in r["Properties"]]
    assert incremental["ProcessedDataS3Location"] == f"{OUT}/incremental/week-49/processed/"
    transform = only(template, schema.MODEL_TRANSFORM_TYPE)
    assert transform["MlModelTrainingJobId"] == {"Fn::GetAtt": [stack.get_logical_id(
        declared.training_job.custom_resource.node.default_child), "Id"]}
    endpoint = only(template, schema.RESOURCE_TYPE)
    assert "MlModelTransformJobId" in endpoint and "MlModelTrainingJobId" not in endpoint


def test_a_long_training_timeout_puts_a_wait_condition_before_the_endpoint() -> None:
    _, _, template = workflow(training_timeout=cdk.Duration.hours(4))

    [(condition_id, _)] = resources(template, "AWS::CloudFormation::WaitCondition").items()
    [endpoint] = resources(template, schema.RESOURCE_TYPE).values()
    assert condition_id in endpoint["DependsOn"]


@pytest.mark.parametrize(("props", "message"), [
    ({"data_version": "a b"}, r"data_version: 'a b' is not a version name"),
    ({"incremental_data": IncrementalData("s3://b/x/", "")}, r"incremental_data.data_version"),
    ({"training_instance_type": "big"}, r"training_instance_type \(TrainingInstanceType\)"),
])
def test_bad_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        workflow(**props)
