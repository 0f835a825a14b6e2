"""NeptuneMlWorkflow: what a user of the workflow is told names the workflow's own props, and two
workflows cannot silently write to the same S3 prefixes."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from constructs_support import literal_cluster, new_stack

from neptune_ml_endpoint import IncrementalData, NeptuneMlWorkflow


def declare(stack: cdk.Stack, name: str = "Movies", **props: Any) -> NeptuneMlWorkflow:
    props = {"input_data_s3_location": "s3://ml-bucket/export/", "output_s3_location": "s3://ml-bucket/ml/",
             **props}
    return NeptuneMlWorkflow(stack, name, cluster=literal_cluster(stack, prefix=name), **props)


@pytest.mark.parametrize("prop", ["training_timeout", "processing_timeout"])
def test_a_timeout_over_12_hours_is_refused_naming_the_workflows_prop(prop: str) -> None:
    with pytest.raises(ValueError, match=rf"^{prop}: 13 hours is outside 1 s to 12 hours"):
        too_long: dict[str, Any] = {prop: cdk.Duration.hours(13)}
        declare(new_stack(), **too_long)


def test_an_output_location_that_is_not_s3_is_refused_naming_output_s3_location() -> None:
    with pytest.raises(ValueError, match=r"^output_s3_location: 'https://ml-bucket/ml/' is not an S3 URI"):
        declare(new_stack(), output_s3_location="https://ml-bucket/ml/")


def test_two_workflows_writing_the_same_version_under_the_same_output_location_are_refused() -> None:
    stack = new_stack()
    declare(stack, "Movies")

    with pytest.raises(ValueError, match=r"^output_s3_location: .*Movies.*writes under s3://ml-bucket/ml/ too"):
        declare(stack, "Books", output_s3_location="s3://ml-bucket/ml")


def test_two_workflows_under_distinct_output_locations_are_fine() -> None:
    stack = new_stack()
    declare(stack, "Movies", output_s3_location="s3://ml-bucket/movies/")
    declare(stack, "Books", output_s3_location="s3://ml-bucket/books/")


@pytest.mark.parametrize(("props", "named"), [
    ({"endpoint_instance_count": 0}, "endpoint_instance_count (InstanceCount)"),
    ({"endpoint_instance_type": "m5"}, "endpoint_instance_type (InstanceType)"),
    ({"warm_start_from": "bad id!"}, "warm_start_from (PreviousModelTrainingJobId)"),
    ({"max_hpo_number_of_training_jobs": 0}, "max_hpo_number_of_training_jobs (MaxHPONumberOfTrainingJobs)"),
    ({"output_s3_location": "s3://My_Bucket/ml/"}, "output_s3_location (ProcessedDataS3Location)"),
    ({"incremental_data": IncrementalData(input_data_s3_location="export-2", data_version="2")},
     "incremental_data.input_data_s3_location (InputDataS3Location)"),
])
def test_a_bad_value_passed_to_an_inner_construct_names_the_workflows_prop(props: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(named) + ": "):
        declare(new_stack(), **props)


def test_an_invalid_bucket_name_is_said_to_be_one() -> None:
    with pytest.raises(ValueError, match=r"names 'My_Bucket', which is not a bucket name \(3-63 lowercase letters"):
        declare(new_stack(), output_s3_location="s3://My_Bucket/ml/")


@pytest.mark.parametrize("output", ["s3://ml-bucket/export/", "s3://ml-bucket/export/ml/"])
def test_an_output_location_inside_the_input_is_refused(output: str) -> None:
    with pytest.raises(ValueError, match=r"^output_s3_location: .* is inside input_data_s3_location s3://ml-bucket/"
                                         r"export/, so a retrain's processing would read"):
        declare(new_stack(), output_s3_location=output)


def test_an_input_beside_or_under_the_output_is_fine() -> None:
    declare(new_stack(), input_data_s3_location="s3://ml-bucket/ml/exports/1/", output_s3_location="s3://ml-bucket/ml/")
    declare(new_stack(), input_data_s3_location="s3://ml-bucket/export-1/", output_s3_location="s3://ml-bucket/export")
