"""A CDK app with one Neptune cluster and N Neptune ML endpoints, for the synth benchmark.

    cdk synth --app "python -m benchmarks.synth_app" -c bench:endpoints=10

N comes from the context value bench:endpoints (default 1). Every endpoint serves its own
training job on the same cluster, so every one shares the cluster's single handler function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_neptune as neptune
from constructs import Construct

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint

ENDPOINT_COUNT_CONTEXT = "bench:endpoints"
STACK_NAME = "NeptuneMlEndpointSynthBenchmark"


class ManyEndpointsStack(cdk.Stack):
    """A VPC, a Neptune cluster and `endpoint_count` endpoints on it."""

    def __init__(self, scope: Construct, id: str, *, endpoint_count: int) -> None:
        super().__init__(scope, id)
        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        security_group = ec2.SecurityGroup(self, "ClusterSecurityGroup", vpc=vpc, allow_all_outbound=False)
        subnet_group = neptune.CfnDBSubnetGroup(
            self, "SubnetGroup", db_subnet_group_description="Neptune cluster subnets",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        cfn_cluster = neptune.CfnDBCluster(
            self, "Cluster", storage_encrypted=True, iam_auth_enabled=True,
            db_subnet_group_name=subnet_group.ref, vpc_security_group_ids=[security_group.security_group_id],
        )
        cluster = NeptuneCluster.from_cfn_db_cluster(cfn_cluster, vpc=vpc, security_group=security_group)
        for number in range(1, endpoint_count + 1):
            NeptuneMlEndpoint(self, f"Endpoint{number}", cluster=cluster,
                              ml_model_training_job_id=f"training-job-{number}")


def build_app(endpoint_count: int | None = None, outdir: str | None = None,
              context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app; endpoint_count overrides the context value."""
    app = cdk.App(outdir=outdir, context=dict(context) if context is not None else None)
    count = endpoint_count if endpoint_count is not None else int(app.node.try_get_context(ENDPOINT_COUNT_CONTEXT) or 1)
    ManyEndpointsStack(app, STACK_NAME, endpoint_count=count)
    return app


if __name__ == "__main__":
    build_app().synth()
