"""An existing Neptune cluster known by its attributes, for the test apps: small templates, no VPC to build."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from neptune_ml_endpoint import NeptuneCluster


def existing_cluster(stack: cdk.Stack, name: str) -> NeptuneCluster:
    """A cluster named `name` (lowercase letters) in an imported VPC and security group of the stack."""
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789", availability_zones=["us-east-1a"],
                                      private_subnet_ids=["subnet-0123456789"])
    return NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address=f"{name}.cluster-abcdefghij.us-east-1.neptune.amazonaws.com",
        cluster_resource_id=f"cluster-{name.upper()}", vpc=vpc,
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789"),
    )
