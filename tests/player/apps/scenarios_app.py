"""A small app for the player's tests: versions of one stack, synthesized together.

Every version is its own stack artifact with the same CloudFormation stack name, so a test
deploys one version and then another as an update of the same stack, from one synthesis.
The cluster is an existing one (attributes only), which keeps the templates small.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint

STACK_NAME = "PlayerTest"
TRAINING_ID = "player-training"


@dataclass(frozen=True)
class Version:
    """What differs between the versions of the stack."""

    training_job: str = "training-job-1"
    training_id: str | None = TRAINING_ID
    transform_job: str | None = "transform-job-1"
    transform_removal: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    training_id_parameter: bool = False
    transform_after_training: bool = False


VERSIONS = {
    "Base": Version(),
    "InPlace": Version(training_job="training-job-2"),
    "Replaced": Version(training_id="player-training-b"),
    "FailingUpdate": Version(training_job="failing-training-job"),
    "FailingCreate": Version(transform_job="failing-transform-job"),
    "ReplacedAndFailing": Version(training_id="player-training-b", transform_job="failing-transform-job"),
    "TrainingOnly": Version(transform_job=None),
    "RetainedTransform": Version(transform_removal=cdk.RemovalPolicy.RETAIN),
    "IdParameter": Version(training_id_parameter=True),
    "Chained": Version(transform_after_training=True),
}


def add_version(app: cdk.App, artifact_id: str, version: Version) -> cdk.Stack:
    """One version of the stack: a cluster by attributes and one or two endpoints."""
    stack = cdk.Stack(app, artifact_id, stack_name=STACK_NAME)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789", availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-0123456789"],
    )
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="player.cluster-abcdefghij.us-east-1.neptune.amazonaws.com",
        cluster_resource_id="cluster-PLAYERTEST",
        vpc=vpc,
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789"),
    )
    training_id = version.training_id
    if version.training_id_parameter:
        # A token: the construct cannot check it at synth time, only the handler can.
        training_id = cdk.CfnParameter(stack, "TrainingIdParameter", default="Not_A_Valid_Id!").value_as_string
    training = NeptuneMlEndpoint(stack, "Training", cluster=cluster, endpoint_id=training_id,
                                 ml_model_training_job_id=version.training_job)
    cdk.CfnOutput(stack, "TrainingEndpointId", value=training.endpoint_id)
    cdk.CfnOutput(stack, "TrainingEndpointArn", value=training.endpoint_arn)
    if version.transform_job is not None:
        transform = NeptuneMlEndpoint(stack, "Transform", cluster=cluster, removal_policy=version.transform_removal,
                                      ml_model_transform_job_id=version.transform_job)
        if version.transform_after_training:
            transform.node.add_dependency(training)
        cdk.CfnOutput(stack, "TransformEndpointId", value=transform.endpoint_id)
    return stack


def build_app() -> cdk.App:
    app = cdk.App()
    for artifact_id, version in VERSIONS.items():
        add_version(app, artifact_id, version)
    return app


if __name__ == "__main__":
    build_app().synth()
