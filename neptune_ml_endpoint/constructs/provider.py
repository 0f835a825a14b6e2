"""The Lambda function behind every Custom::NeptuneMlEndpoint of one cluster in one stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from neptune_ml_endpoint.constructs.acknowledgments import (
    acknowledge_managed_policy,
    acknowledge_wildcard_resource,
)
from neptune_ml_endpoint.constructs.bundling import HANDLER_ENTRY, HANDLER_RUNTIME, handler_code
from neptune_ml_endpoint.constructs.cluster import NeptuneCluster

HANDLER_TIMEOUT = cdk.Duration.minutes(15)
HANDLER_MEMORY_MB = 256

# Data API actions the handler calls (GetMLEndpoint is authorised as GetMLEndpointStatus).
NEPTUNE_ACTIONS = (
    "neptune-db:CreateMLEndpoint",
    "neptune-db:GetMLEndpointStatus",
    "neptune-db:DeleteMLEndpoint",
)
# crhelper's polling: an EventBridge rule per resource and a permission for it to invoke us.
POLLING_RULE_ACTIONS = ("events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule")
SELF_PERMISSION_ACTIONS = ("lambda:AddPermission", "lambda:RemovePermission")
# Logs and the VPC network interfaces Lambda creates; those EC2 actions take no resource ARN.
VPC_EXECUTION_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


class NeptuneMlEndpointProvider(Construct):
    """The handler function, its security group and its least-privilege permissions.

    Use :meth:`for_cluster` to get the single provider of a cluster in a stack. The handler
    runs in the cluster's subnets, which must also reach EventBridge, Lambda and the
    CloudFormation response URL in S3 (through a NAT gateway or VPC endpoints).
    """

    def __init__(self, scope: Construct, id: str, *, cluster: NeptuneCluster) -> None:
        """Create a provider; endpoints should share one through :meth:`for_cluster`."""
        super().__init__(scope, id)
        self.cluster = cluster

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description="Neptune ML endpoint handler: reaches the Neptune Data API and AWS APIs",
            allow_all_outbound=True,
        )
        self._cluster_ingress = ec2.CfnSecurityGroupIngress(
            self,
            "ClusterIngress",
            group_id=cluster.security_group.security_group_id,
            source_security_group_id=self.security_group.security_group_id,
            ip_protocol="tcp",
            from_port=cluster.port_as_number,
            to_port=cluster.port_as_number,
            description="Neptune ML endpoint handler to the Neptune Data API",
        )

        log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        vpc_execution = iam.ManagedPolicy.from_aws_managed_policy_name(VPC_EXECUTION_POLICY)
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            managed_policies=[vpc_execution],
        )
        self._function = lambda_.Function(
            self,
            "Handler",
            description="Creates, updates and deletes Neptune ML inference endpoints",
            runtime=HANDLER_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER_ENTRY,
            code=handler_code(),
            timeout=HANDLER_TIMEOUT,
            memory_size=HANDLER_MEMORY_MB,
            role=self.role,
            vpc=cluster.vpc,
            vpc_subnets=cluster.vpc_subnets,
            security_groups=[self.security_group],
            log_group=log_group,
        )
        cluster.grant(self.role, *NEPTUNE_ACTIONS)

        # The function's own ARN cannot go in its role's default policy (the function depends
        # on that policy), so polling permissions live in a policy that endpoints depend on.
        self.polling_policy = iam.Policy(
            self,
            "PollingPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=list(SELF_PERMISSION_ACTIONS),
                    resources=[self._function.function_arn],
                )
            ],
        )
        acknowledge_managed_policy(
            self,
            vpc_execution.managed_policy_arn,
            "AWS's policy for a VPC Lambda function: its logs and network interfaces (EC2 "
            "network-interface actions cannot be scoped to resources)",
        )
        acknowledge_wildcard_resource(
            self,
            cluster.resource_arn,
            "Neptune's Data API authorises actions on <cluster resource id>/*; the statement "
            "names only the three ML endpoint actions on this one cluster",
        )
        self._polling_rules: iam.PolicyStatement | None = None

    @classmethod
    def for_cluster(cls, scope: Construct, cluster: NeptuneCluster) -> NeptuneMlEndpointProvider:
        """The provider of cluster in scope's stack, created on first use."""
        stack = cdk.Stack.of(scope)
        provider_id = f"NeptuneMlEndpointProvider{cluster.unique_key(stack)}"
        existing = stack.node.try_find_child(provider_id)
        if isinstance(existing, NeptuneMlEndpointProvider):
            return existing
        return cls(stack, provider_id, cluster=cluster)

    @property
    def function(self) -> lambda_.IFunction:
        """The handler function."""
        return self._function

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources this provider serves."""
        return self._function.function_arn

    def serve(self, resource: cdk.CfnResource) -> None:
        """Let the handler poll for resource, and create resource only once the handler may.

        crhelper names each rule ``<LogicalResourceId><8 random characters>``.
        """
        rule_arn = cdk.Stack.of(self).format_arn(
            service="events",
            resource="rule",
            resource_name=f"{resource.logical_id}*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        acknowledge_wildcard_resource(
            self,
            rule_arn,
            "crhelper names its polling rule after the resource's logical id plus 8 random "
            "characters; the wildcard covers only that suffix",
        )
        if self._polling_rules is None:
            self._polling_rules = iam.PolicyStatement(
                actions=list(POLLING_RULE_ACTIONS), resources=[rule_arn]
            )
            self.polling_policy.add_statements(self._polling_rules)
        else:
            self._polling_rules.add_resources(rule_arn)
        resource.node.add_dependency(self.polling_policy, self._cluster_ingress)
