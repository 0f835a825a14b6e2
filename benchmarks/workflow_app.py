"""A CDK app with one stack holding N NeptuneMlWorkflows on one imported Neptune cluster, for the
workflow benchmarks (the local deploy's overhead, synth scaling).

    cdk synth --app "python -m benchmarks.workflow_app" -c bench:workflows=4

N comes from the context value bench:workflows (default 1). Each workflow reads its own export and
writes under its own prefix; all of them share the stack's single handler function. The cluster is
imported by its attributes (as in the player's tests), so the template holds the workflows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlWorkflow

WORKFLOW_COUNT_CONTEXT = "bench:workflows"
STACK_NAME = "NeptuneMlWorkflowBenchmark"
BUCKET = "s3://bench-ml"


class ManyWorkflowsStack(cdk.Stack):
    """An imported cluster and `workflow_count` workflows on it."""

    def __init__(self, scope: Construct, id: str, *, workflow_count: int) -> None:
        super().__init__(scope, id)
        vpc = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id="vpc-0123456789", availability_zones=["us-east-1a"],
                                          private_subnet_ids=["subnet-0123456789"],
                                          private_subnet_route_table_ids=["rtb-0123456789"])
        cluster = NeptuneCluster.from_cluster_attributes(
            cluster_endpoint_address="bench.cluster-abcdefghij.us-east-1.neptune.amazonaws.com",
            cluster_resource_id="cluster-BENCHWORKFLOW", vpc=vpc,
            security_group=ec2.SecurityGroup.from_security_group_id(self, "ClusterSg", "sg-0123456789"),
        )
        self.workflows = [
            NeptuneMlWorkflow(self, f"Workflow{number}", cluster=cluster,
                              input_data_s3_location=f"{BUCKET}/export-{number}/",
                              output_s3_location=f"{BUCKET}/workflow-{number}/")
            for number in range(1, workflow_count + 1)
        ]


def build_app(workflow_count: int | None = None, outdir: str | None = None,
              context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app; workflow_count overrides the context value."""
    app = cdk.App(outdir=outdir, context=dict(context) if context is not None else None)
    count = workflow_count if workflow_count is not None else int(app.node.try_get_context(WORKFLOW_COUNT_CONTEXT) or 1)
    ManyWorkflowsStack(app, STACK_NAME, workflow_count=count)
    return app


if __name__ == "__main__":
    build_app().synth()
