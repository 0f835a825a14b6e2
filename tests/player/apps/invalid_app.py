"""An app the construct rejects at synth time: InstanceType is not an ML instance type."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint

app = cdk.App()
stack = cdk.Stack(app, "InvalidApp")
vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789", availability_zones=["us-east-1a"],
                                  private_subnet_ids=["subnet-0123456789"])
cluster = NeptuneCluster.from_cluster_attributes(
    cluster_endpoint_address="invalid.cluster-abcdefghij.us-east-1.neptune.amazonaws.com",
    cluster_resource_id="cluster-INVALID", vpc=vpc,
    security_group=ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789"),
)
NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="training-job-1",
                  instance_type="m5.xlarge")
app.synth()
