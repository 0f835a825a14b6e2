"""Example app: a Neptune cluster with two Neptune ML inference endpoints.

Synthesizes offline and without an AWS account (the stack is environment-agnostic):

    cdk synth
    cdk synth -c neptune-ml-endpoint:trainingJobId=my-training-job -c neptune-ml-endpoint:instanceCount=2

Settings come from the "context" of cdk.json, or from -c on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_neptune as neptune
from constructs import Construct

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint
from neptune_ml_endpoint.constructs.acknowledgments import acknowledge_checkov_check
from neptune_ml_endpoint.constructs.provider import allow_log_encryption

CONTEXT_PREFIX = "neptune-ml-endpoint:"
NEPTUNE_ENGINE_VERSION = "1.4.6.0"
NEPTUNE_PARAMETER_GROUP_FAMILY = "neptune1.4"
# The Lambda function aws-cdk-lib adds for @aws-cdk/aws-ec2:restrictDefaultSecurityGroup.
RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


@dataclass(frozen=True)
class ExampleSettings:
    """The example's inputs, read from the CDK context."""

    stack_name: str
    training_job_id: str | None
    transform_job_id: str | None
    instance_type: str | None
    instance_count: Any
    model_name: str | None

    @classmethod
    def from_context(cls, scope: Construct) -> ExampleSettings:
        """Read the settings; -c values arrive as strings, cdk.json values as JSON types."""

        def read(name: str) -> Any:
            value = scope.node.try_get_context(CONTEXT_PREFIX + name)
            return None if value in (None, "") else value

        count = read("instanceCount")
        return cls(
            stack_name=str(read("stackName") or "NeptuneMlEndpointExample"),
            training_job_id=read("trainingJobId"),
            transform_job_id=read("transformJobId"),
            instance_type=read("instanceType"),
            # Whole numbers become ints; anything else is passed on for the construct to reject.
            instance_count=int(count) if str(count).strip().isdigit() else count,
            model_name=read("modelName"),
        )


class NeptuneMlExampleStack(cdk.Stack):
    """A VPC, an encrypted Neptune cluster set up for Neptune ML, and two endpoints."""

    def __init__(self, scope: Construct, id: str, *, settings: ExampleSettings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)

        # One customer managed key for the flow logs and the endpoint handler's log and queue.
        encryption_key = kms.Key(
            self,
            "EncryptionKey",
            description="Neptune ML example: VPC flow logs, endpoint handler's log group and dead-letter queue",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        allow_log_encryption(encryption_key)
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=encryption_key,
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ],
            flow_logs={
                "All": ec2.FlowLogOptions(destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))
            },
        )
        self._acknowledge_restrict_default_sg_provider()
        private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        subnet_group = neptune.CfnDBSubnetGroup(
            self,
            "SubnetGroup",
            db_subnet_group_description="Private subnets of the Neptune cluster",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        cluster_security_group = ec2.SecurityGroup(
            self, "ClusterSecurityGroup", vpc=vpc, description="Neptune cluster", allow_all_outbound=False
        )

        # Neptune ML starts SageMaker jobs and endpoints with this role. Attach the S3 and
        # SageMaker permissions your Neptune ML data and models need to it (see "Setting up
        # Neptune ML" in the Neptune user guide).
        neptune_ml_role = iam.Role(
            self,
            "NeptuneMlRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("rds.amazonaws.com"),
                iam.ServicePrincipal("sagemaker.amazonaws.com"),
            ),
            description="Role Neptune ML uses for SageMaker and S3",
        )
        parameter_group = neptune.CfnDBClusterParameterGroup(
            self,
            "ClusterParameterGroup",
            description="Neptune ML settings",
            family=NEPTUNE_PARAMETER_GROUP_FAMILY,
            # Audit logs reach CloudWatch Logs only with both this and the cluster's export.
            parameters={"neptune_ml_iam_role": neptune_ml_role.role_arn, "neptune_enable_audit_log": "1"},
        )
        cfn_cluster = neptune.CfnDBCluster(
            self,
            "Cluster",
            engine_version=NEPTUNE_ENGINE_VERSION,
            storage_encrypted=True,
            iam_auth_enabled=True,
            backup_retention_period=7,
            enable_cloudwatch_logs_exports=["audit"],
            db_subnet_group_name=subnet_group.ref,
            vpc_security_group_ids=[cluster_security_group.security_group_id],
            db_cluster_parameter_group_name=parameter_group.ref,
            associated_roles=[neptune.CfnDBCluster.DBClusterRoleProperty(role_arn=neptune_ml_role.role_arn)],
        )
        instance = neptune.CfnDBInstance(
            self,
            "Instance",
            db_instance_class="db.r6g.large",
            db_cluster_identifier=cfn_cluster.ref,
            auto_minor_version_upgrade=True,
        )

        cluster = NeptuneCluster.from_cfn_db_cluster(
            cfn_cluster, vpc=vpc, security_group=cluster_security_group, vpc_subnets=private_subnets
        )
        # Both endpoints run on the same kind of instances, with the cluster's Neptune ML role.
        serving: dict[str, Any] = {
            "cluster": cluster,
            "instance_type": settings.instance_type,
            "instance_count": settings.instance_count,
            "neptune_iam_role": neptune_ml_role,
            "handler_encryption_key": encryption_key,
        }
        endpoints = {
            "Training": NeptuneMlEndpoint(
                self,
                "TrainingEndpoint",
                ml_model_training_job_id=settings.training_job_id,
                model_name=settings.model_name,
                **serving,
            ),
            "Transform": NeptuneMlEndpoint(
                self, "TransformEndpoint", ml_model_transform_job_id=settings.transform_job_id, **serving
            ),
        }
        for name, endpoint in endpoints.items():
            # The Data API answers only once the cluster has an instance.
            endpoint.node.add_dependency(instance)
            cdk.CfnOutput(self, f"{name}EndpointId", value=endpoint.endpoint_id)
            cdk.CfnOutput(self, f"{name}EndpointArn", value=endpoint.endpoint_arn)

    def _acknowledge_restrict_default_sg_provider(self) -> None:
        """checkov's findings on the function aws-cdk-lib adds to empty the VPC's default security group."""
        provider = self.node.try_find_child(RESTRICT_DEFAULT_SG_PROVIDER)
        if provider is None:
            return
        handler = provider.node.find_child("Handler")
        subject = "aws-cdk-lib's handler that removes the rules of the VPC's default security group"
        for check_id, reason in (
            ("CKV_AWS_115", "runs once per deploy of this stack: a concurrency limit would protect nothing"),
            ("CKV_AWS_116", "is invoked by CloudFormation, which fails the deploy when it does not answer"),
            ("CKV_AWS_117", "calls only the EC2 API, from outside the VPC: it needs nothing inside it"),
        ):
            acknowledge_checkov_check(handler, check_id, f"{subject} {reason}")


def build_app(app: cdk.App | None = None) -> cdk.App:
    """The example app with its one stack, ready to synthesize."""
    app = app or cdk.App()
    settings = ExampleSettings.from_context(app)
    NeptuneMlExampleStack(app, settings.stack_name, settings=settings)
    return app


if __name__ == "__main__":
    build_app().synth()
