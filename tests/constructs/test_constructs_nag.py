"""cdk-nag's AwsSolutions pack finds nothing unacknowledged in the constructs' resources: endpoints alone, and
the three job constructs chained into endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cdk_nag
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs_support import CLUSTER_RESOURCE_ID, literal_cluster

from neptune_ml_endpoint import (
    NeptuneMlDataProcessingJob,
    NeptuneMlEndpoint,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
)

LONG_ID = "AnEndpointWhoseConstructIdIsLongEnoughToBeShortenedForCrhelperRules"


def acknowledgments(scope: Any) -> dict[str, str]:
    """Every acknowledged rule id below scope, with its reason (metadata data is {id: reason})."""
    found: dict[str, str] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.update(entry.data)
    return found


@pytest.fixture(scope="module")
def nagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Path]:
    outdir = tmp_path_factory.mktemp("nag")
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())
    stack = cdk.Stack(app, "Nagged")
    cluster = literal_cluster(stack)
    NeptuneMlEndpoint(stack, "First", cluster=cluster, ml_model_training_job_id="training-1")
    NeptuneMlEndpoint(stack, LONG_ID, cluster=cluster, ml_model_transform_job_id="transform-1")
    return stack, outdir


def test_no_unacknowledged_findings(nagged: tuple[cdk.Stack, Path]) -> None:
    stack, outdir = nagged
    try:
        cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        pytest.fail(report.read_text() if report.exists() else str(error))
    if (outdir / "validation-report.json").exists():
        report = json.loads((outdir / "validation-report.json").read_text())
        assert all(not plugin.get("violations") for plugin in report.get("pluginReports", [])), report


def test_acknowledgments_are_specific_and_explained(nagged: tuple[cdk.Stack, Path]) -> None:
    stack, _ = nagged
    found = acknowledgments(stack)
    account = "<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>"
    endpoint_ids = [
        stack.resolve(endpoint.custom_resource.node.default_child.logical_id)  # type: ignore[union-attr]
        for endpoint in stack.node.children
        if isinstance(endpoint, NeptuneMlEndpoint)
    ]
    assert len(endpoint_ids) == 2
    expected = [
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",  # the network-interface actions Lambda needs, alone
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='neptune-db')}:"
        + f"{CLUSTER_RESOURCE_ID}/*]",
        *(
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='events')}:rule/{logical_id}*]"
            for logical_id in endpoint_ids
        ),
    ]
    assert sorted(found) == sorted(expected)
    assert all(len(reason) >= 40 for reason in found.values())


# --- the job constructs, chained into endpoints -------------------------------------------------


@pytest.fixture(scope="module")
def nagged_jobs(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Path]:
    """Processing -> training (a wait past the hour) -> endpoint, and a transform with an explicit id served by a
    second endpoint; roles of the app with a volume and an output key, so the keys' grants are nagged too."""
    outdir = tmp_path_factory.mktemp("nag-jobs")
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())
    stack = cdk.Stack(app, "NaggedJobs")
    cluster = literal_cluster(stack)
    role = iam.Role(stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    volume_key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
    output_key = kms.Key(stack, "OutputKey", enable_key_rotation=True)
    keys: dict[str, Any] = {"sagemaker_iam_role": role, "neptune_iam_role": role,
                            "volume_encryption_key": volume_key, "s3_output_encryption_key": output_key}
    processing = NeptuneMlDataProcessingJob(stack, "Processing", cluster=cluster, run_key="export-1", clean=True,
                                            input_data_s3_location="s3://ml-bucket/export/",
                                            processed_data_s3_location="s3://ml-bucket/processed/", **keys)
    training = NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster, data_processing_job=processing,
                                         train_model_s3_location="s3://ml-bucket/training/",
                                         timeout=cdk.Duration.hours(6), **keys)
    transform = NeptuneMlModelTransformJob(stack, "Transform", cluster=cluster, data_processing_job=processing,
                                           training_job=training, job_id="transform-1",
                                           model_transform_output_s3_location="s3://ml-bucket/transform/", **keys)
    NeptuneMlEndpoint(stack, "FromTraining", cluster=cluster, training_job=training)
    NeptuneMlEndpoint(stack, "FromTransform", cluster=cluster, transform_job=transform)
    return stack, outdir


def test_jobs_have_no_unacknowledged_findings(nagged_jobs: tuple[cdk.Stack, Path]) -> None:
    test_no_unacknowledged_findings(nagged_jobs)


def test_jobs_acknowledge_what_endpoints_do_and_their_own_rule_names(nagged_jobs: tuple[cdk.Stack, Path]) -> None:
    """The shared handler's network-interface policy and cluster wildcard, and per resource, job or endpoint, the
    ``rule/<logical id>*`` names of its crhelper polling rule, creation marker and watcher."""
    stack, _ = nagged_jobs
    found = acknowledgments(stack)
    account = "<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>"
    logical_ids = [
        stack.resolve(child.custom_resource.node.default_child.logical_id)  # type: ignore[union-attr]
        for child in stack.node.children
        if isinstance(child, NeptuneMlEndpoint | NeptuneMlDataProcessingJob | NeptuneMlModelTrainingJob
                      | NeptuneMlModelTransformJob)
    ]
    assert len(logical_ids) == 5
    expected = [
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",  # the network-interface actions Lambda needs, alone
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='neptune-db')}:"
        + f"{CLUSTER_RESOURCE_ID}/*]",
        *(
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='events')}:rule/{logical_id}*]"
            for logical_id in logical_ids
        ),
    ]
    assert sorted(found) == sorted(expected)
    assert all(len(reason) >= 40 for reason in found.values())
