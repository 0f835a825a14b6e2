"""NeptuneMlWorkflow: what a user of the workflow is told names the workflow's own props, and two
workflows cannot silently write to the same S3 prefixes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from constructs_support import literal_cluster, new_stack

from neptune_ml_endpoint import NeptuneMlWorkflow


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
