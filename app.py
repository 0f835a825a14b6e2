"""Example app: two stacks, each with its own Neptune cluster set up for Neptune ML.

- NeptuneMlEndpointExample: two inference endpoints serving models trained elsewhere.
- NeptuneMlWorkflowExample: NeptuneMlWorkflow, from graph data exported to S3 to a serving
  endpoint; a new dataVersion retrains.

Synthesizes offline and without an AWS account (the stacks are environment-agnostic):

    cdk synth
    cdk synth -c neptune-ml-endpoint:trainingJobId=my-training-job -c neptune-ml-endpoint:instanceCount=2
    cdk synth NeptuneMlWorkflowExample -c neptune-ml-endpoint:dataVersion=2026-12-01

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

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint, NeptuneMlWorkflow
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
    workflow_stack_name: str = "NeptuneMlWorkflowExample"
    export_s3_location: str = "s3://my-neptune-ml-bucket/export/"
    output_s3_location: str = "s3://my-neptune-ml-bucket/neptune-ml/"
    data_version: str = "1"

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
            workflow_stack_name=str(read("workflowStackName") or cls.workflow_stack_name),
            export_s3_location=str(read("exportS3Location") or cls.export_s3_location),
            output_s3_location=str(read("outputS3Location") or cls.output_s3_location),
            data_version=str(read("dataVersion") or cls.data_version),
        )


class ExampleCluster:
    """A VPC and an encrypted Neptune cluster set up for Neptune ML, with its Neptune ML role.

    Its resources are the stack's own children, so their logical ids stay those of earlier
    versions of this example (a new logical id would replace the cluster).
    """

    def __init__(self, stack: cdk.Stack) -> None:

        # One customer managed key for the flow logs and the endpoint handler's log and queue.
        encryption_key = kms.Key(
            stack,
            "EncryptionKey",
            description="Neptune ML example: VPC flow logs, endpoint handler's log group and dead-letter queue",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        allow_log_encryption(encryption_key)
        flow_log_group = logs.LogGroup(
            stack,
            "FlowLogGroup",
            encryption_key=encryption_key,
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        vpc = ec2.Vpc(
            stack,
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
        private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        subnet_group = neptune.CfnDBSubnetGroup(
            stack,
            "SubnetGroup",
            db_subnet_group_description="Private subnets of the Neptune cluster",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        cluster_security_group = ec2.SecurityGroup(
            stack, "ClusterSecurityGroup", vpc=vpc, description="Neptune cluster", allow_all_outbound=False
        )

        # Neptune ML starts SageMaker jobs and endpoints with this role. Attach the S3 and
        # SageMaker permissions your Neptune ML data and models need to it (see "Setting up
        # Neptune ML" in the Neptune user guide).
        neptune_ml_role = iam.Role(
            stack,
            "NeptuneMlRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("rds.amazonaws.com"),
                iam.ServicePrincipal("sagemaker.amazonaws.com"),
            ),
            description="Role Neptune ML uses for SageMaker and S3",
        )
        parameter_group = neptune.CfnDBClusterParameterGroup(
            stack,
            "ClusterParameterGroup",
            description="Neptune ML settings",
            family=NEPTUNE_PARAMETER_GROUP_FAMILY,
            # Audit logs reach CloudWatch Logs only with both this and the cluster's export.
            parameters={"neptune_ml_iam_role": neptune_ml_role.role_arn, "neptune_enable_audit_log": "1"},
        )
        cfn_cluster = neptune.CfnDBCluster(
            stack,
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
        # The cluster's endpoints and jobs wait for this instance: its Data API answers only once it is available.
        neptune.CfnDBInstance(
            stack,
            "Instance",
            db_instance_class="db.r6g.large",
            db_cluster_identifier=cfn_cluster.ref,
            auto_minor_version_upgrade=True,
        )

        self.cluster = NeptuneCluster.from_cfn_db_cluster(
            cfn_cluster, vpc=vpc, security_group=cluster_security_group, vpc_subnets=private_subnets
        )
        self.neptune_ml_role = neptune_ml_role
        self.encryption_key = encryption_key


class NeptuneMlExampleStack(cdk.Stack):
    """A Neptune cluster and two endpoints serving models trained elsewhere."""

    def __init__(self, scope: Construct, id: str, *, settings: ExampleSettings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        example = ExampleCluster(self)
        acknowledge_restrict_default_sg_provider(self)
        cluster, neptune_ml_role, encryption_key = example.cluster, example.neptune_ml_role, example.encryption_key
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
            cdk.CfnOutput(self, f"{name}EndpointId", value=endpoint.endpoint_id)
            cdk.CfnOutput(self, f"{name}EndpointArn", value=endpoint.endpoint_arn)

class NeptuneMlWorkflowExampleStack(cdk.Stack):
    """A Neptune cluster and NeptuneMlWorkflow: processing, training and an endpoint from an S3 export."""

    def __init__(self, scope: Construct, id: str, *, settings: ExampleSettings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        example = ExampleCluster(self)
        acknowledge_restrict_default_sg_provider(self)
        # The Neptune ML role must read the export and write under the output location (S3
        # permissions on the role, see "Setting up Neptune ML" in the Neptune user guide).
        workflow = NeptuneMlWorkflow(
            self, "Recommendations",
            cluster=example.cluster,
            input_data_s3_location=settings.export_s3_location,
            output_s3_location=settings.output_s3_location,
            data_version=settings.data_version,
            neptune_iam_role=example.neptune_ml_role,
            handler_encryption_key=example.encryption_key,
        )
        cdk.CfnOutput(self, "ProcessingJobId", value=workflow.data_processing_job.job_id)
        cdk.CfnOutput(self, "TrainingJobId", value=workflow.training_job.job_id)
        cdk.CfnOutput(self, "EndpointId", value=workflow.endpoint.endpoint_id)
        cdk.CfnOutput(self, "ModelS3Location", value=workflow.training_job.output_s3_location)


def acknowledge_restrict_default_sg_provider(stack: cdk.Stack) -> None:
    """checkov's findings on the function aws-cdk-lib adds to empty the VPC's default security group."""
    provider = stack.node.try_find_child(RESTRICT_DEFAULT_SG_PROVIDER)
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
    """The example app with its two stacks, ready to synthesize."""
    app = app or cdk.App()
    settings = ExampleSettings.from_context(app)
    NeptuneMlExampleStack(app, settings.stack_name, settings=settings)
    NeptuneMlWorkflowExampleStack(app, settings.workflow_stack_name, settings=settings)
    return app


if __name__ == "__main__":
    build_app().synth()
