"""An app for the player's job tests: graph data in S3 -> processing -> training -> endpoint.

Versions of one stack, synthesized together (as in scenarios_app.py): a retrain is the same
stack with a new run_key on the processing job; a failing retrain names a training location
the local API fails ("failing-"). The endpoint's id is derived, so the tests see that a retrain
keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from neptune_ml_endpoint import (
    NeptuneCluster,
    NeptuneMlDataProcessingJob,
    NeptuneMlEndpoint,
    NeptuneMlModelTrainingJob,
)

STACK_NAME = "PlayerJobs"
BUCKET = "s3://player-ml"


@dataclass(frozen=True)
class Version:
    run_key: str = "export-1"
    training_location: str = f"{BUCKET}/training/"
    training_hours: int = 1
    wait_seconds: int | None = None
    """Shortens the long wait's WaitCondition (and the watcher's deadline) to this many seconds."""


LONG = 6
VERSIONS = {
    "Base": Version(),
    "Retrain": Version(run_key="export-2"),
    "FailingRetrain": Version(run_key="export-2", training_location=f"{BUCKET}/failing-training/"),
    "LongWait": Version(training_hours=LONG),
    "LongRetrain": Version(run_key="export-2", training_hours=LONG),
    "LongFailing": Version(run_key="export-2", training_location=f"{BUCKET}/failing-training/",
                           training_hours=LONG),
    "LongTimesOut": Version(training_hours=LONG, wait_seconds=4),
}


def add_version(app: cdk.App, artifact_id: str, version: Version) -> cdk.Stack:
    stack = cdk.Stack(app, artifact_id, stack_name=STACK_NAME)
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789", availability_zones=["us-east-1a"],
                                      private_subnet_ids=["subnet-0123456789"])
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="jobs.cluster-abcdefghij.us-east-1.neptune.amazonaws.com",
        cluster_resource_id="cluster-PLAYERJOBS", vpc=vpc,
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789"),
    )
    processing = NeptuneMlDataProcessingJob(stack, "Processing", cluster=cluster,
                                            input_data_s3_location=f"{BUCKET}/export/",
                                            processed_data_s3_location=f"{BUCKET}/processed/",
                                            run_key=version.run_key)
    training = NeptuneMlModelTrainingJob(stack, "Training", cluster=cluster, data_processing_job=processing,
                                         train_model_s3_location=version.training_location,
                                         timeout=cdk.Duration.hours(version.training_hours))
    if version.training_hours > 1:
        # The job resource answers once the job started: even a 2 s ServiceTimeout is enough.
        job = training.custom_resource.node.default_child
        assert isinstance(job, cdk.CfnResource)
        job.add_property_override("ServiceTimeout", "2")
    if version.wait_seconds is not None:
        condition = training.completion
        assert isinstance(condition, cdk.CfnWaitCondition)
        condition.timeout = str(version.wait_seconds)
        job = training.custom_resource.node.default_child
        assert isinstance(job, cdk.CfnResource)
        job.add_property_override("CompletionTimeoutSeconds", version.wait_seconds)
    endpoint = NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, training_job=training)
    cdk.CfnOutput(stack, "TrainingJobId", value=training.job_id)
    cdk.CfnOutput(stack, "EndpointId", value=endpoint.endpoint_id)
    return stack


if __name__ == "__main__":
    app = cdk.App()
    for artifact_id, version in VERSIONS.items():
        add_version(app, artifact_id, version)
    app.synth()
