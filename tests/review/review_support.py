"""Templates the review tests scan: the example app's, one that uses every prop of the endpoint construct, and
one that chains the three job constructs into endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

import app as example
from neptune_ml_endpoint import (
    ModelName,
    NeptuneCluster,
    NeptuneMlDataProcessingJob,
    NeptuneMlEndpoint,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
)

ROOT = Path(__file__).resolve().parents[2]


def every_prop_stack(outdir: Path | None = None) -> cdk.Stack:
    """Two clusters (one imported, one by token port), endpoints with every prop, an import and a grant.

    The first cluster's handler has a customer managed key; the second's has the defaults.
    """
    stack = cdk.Stack(cdk.App(outdir=None if outdir is None else str(outdir)), "EveryProp")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
    )
    security_group = ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789abcdef0")
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="db.cluster-abc.us-east-1.neptune.amazonaws.com", port=8182,
        cluster_resource_id="cluster-ABCDEFGHIJKL", vpc=vpc, security_group=security_group,
    )
    port = cdk.CfnParameter(stack, "ClusterPort", type="Number", default=8182)
    other = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="db2.cluster-abc.us-east-1.neptune.amazonaws.com",
        port=port.value_as_string, cluster_resource_id="cluster-MNOPQRSTUVWX", vpc=vpc,
        security_group=security_group,
    )
    role = iam.Role(stack, "NeptuneMlRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
    handler_key = kms.Key(stack, "HandlerKey", enable_key_rotation=True)
    full = NeptuneMlEndpoint(
        stack, "Full", cluster=cluster, ml_model_training_job_id="training-1", model_name=ModelName.RGCN,
        instance_type="ml.c5.xlarge", instance_count=2, neptune_iam_role=role, volume_encryption_key=key,
        endpoint_id="full-endpoint", removal_policy=cdk.RemovalPolicy.RETAIN,
        service_timeout=cdk.Duration.minutes(20), sagemaker_variant_name="Blue",
        handler_encryption_key=handler_key,
    )
    NeptuneMlEndpoint(stack, "OnOtherCluster", cluster=other, ml_model_transform_job_id="transform-1")
    imported = NeptuneMlEndpoint.from_endpoint_attributes(stack, "Imported", endpoint_id="existing-endpoint")
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    full.grant_invoke(reader)
    imported.grant_invoke(reader)
    cdk.CfnOutput(stack, "FullArn", value=full.endpoint_arn)
    return stack


def jobs_stack(outdir: Path | None = None) -> cdk.Stack:
    """S3 export -> processing -> training -> endpoint, and a transform job served by a second endpoint.

    The jobs use the props that add resources or grants: roles declared in the app (the keys' grants go to
    them), a volume and an output key, subnets and security groups, explicit and derived ids, clean, run_key;
    the training job waits longer than an hour (a WaitConditionHandle and a WaitCondition).
    """
    stack = cdk.Stack(cdk.App(outdir=None if outdir is None else str(outdir)), "Jobs")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
    )
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="db.cluster-abc.us-east-1.neptune.amazonaws.com", port=8182,
        cluster_resource_id="cluster-ABCDEFGHIJKL", vpc=vpc,
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789abcdef0"),
    )
    sagemaker_role = iam.Role(stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    neptune_role = iam.Role(stack, "NeptuneMlRole", assumed_by=iam.ServicePrincipal("rds.amazonaws.com"))
    volume_key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
    output_key = kms.Key(stack, "OutputKey", enable_key_rotation=True)
    common: dict[str, Any] = {
        "cluster": cluster, "sagemaker_iam_role": sagemaker_role, "neptune_iam_role": neptune_role,
        "volume_encryption_key": volume_key, "s3_output_encryption_key": output_key,
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        "security_groups": [ec2.SecurityGroup.from_security_group_id(stack, "JobSg", "sg-0123456789abcdef9")],
    }
    bucket = "s3://ml-bucket"
    processing = NeptuneMlDataProcessingJob(
        stack, "Processing", input_data_s3_location=f"{bucket}/export/",
        processed_data_s3_location=f"{bucket}/processed/", run_key="export-1", clean=True, **common,
    )
    training = NeptuneMlModelTrainingJob(
        stack, "Training", data_processing_job=processing, train_model_s3_location=f"{bucket}/training/",
        max_hpo_number_of_training_jobs=4, timeout=cdk.Duration.hours(6), **common,
    )
    transform = NeptuneMlModelTransformJob(
        stack, "Transform", data_processing_job=processing, training_job=training,
        model_transform_output_s3_location=f"{bucket}/transform/", job_id="movies-transform-1", **common,
    )
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, training_job=training, neptune_iam_role=neptune_role,
                      volume_encryption_key=volume_key)
    NeptuneMlEndpoint(stack, "TransformEndpoint", cluster=cluster, transform_job=transform)
    cdk.CfnOutput(stack, "TrainingJobId", value=training.job_id)
    return stack


def example_app(outdir: Path) -> cdk.App:
    """The example app as `cdk synth` builds it, with cdk.json's context, writing to outdir."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return example.build_app(cdk.App(context=context, outdir=str(outdir)))
