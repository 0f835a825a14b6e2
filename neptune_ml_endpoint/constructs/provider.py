"""The Lambda function behind every Neptune ML resource (endpoints and jobs) of one cluster in one stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs.acknowledgments import (
    acknowledge_checkov_check,
    acknowledge_wildcard_resource,
)
from neptune_ml_endpoint.constructs.bundling import HANDLER_ENTRY, HANDLER_RUNTIME, handler_code
from neptune_ml_endpoint.constructs.cluster import NeptuneCluster, select_subnets

HANDLER_TIMEOUT = cdk.Duration.minutes(15)
HANDLER_MEMORY_MB = 256

# Data API actions the handler calls for each resource type it serves (Get* is authorised as
# Get*Status), granted only for the types a stack declares.
NEPTUNE_ACTIONS = (
    "neptune-db:CreateMLEndpoint",
    "neptune-db:GetMLEndpointStatus",
    "neptune-db:DeleteMLEndpoint",
)
NEPTUNE_ACTIONS_BY_TYPE: dict[str, tuple[str, ...]] = {
    schema.RESOURCE_TYPE: NEPTUNE_ACTIONS,
    **{
        resource_type: tuple(f"neptune-db:{verb}ML{operation}Job{suffix}"
                             for verb, suffix in (("Start", ""), ("Get", "Status"), ("Cancel", "")))
        for resource_type, operation in (
            (schema.DATA_PROCESSING_TYPE, "DataProcessing"),
            (schema.MODEL_TRAINING_TYPE, "ModelTraining"),
            (schema.MODEL_TRANSFORM_TYPE, "ModelTransform"),
        )
    },
}
# crhelper's polling: an EventBridge rule per resource and a permission for it to invoke us; and the
# creation marker of an explicit Id, a disabled rule without targets read back with DescribeRule.
POLLING_RULE_ACTIONS = (
    "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule", "events:DescribeRule",
)
SELF_PERMISSION_ACTIONS = ("lambda:AddPermission", "lambda:RemovePermission")
# The network interfaces Lambda creates in the VPC for the function (AWSLambdaVPCAccessExecutionRole's EC2
# actions; Lambda checks them with no resource ARN), and the function's writes to its own log group.
NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
)
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# What the handler needs of a customer managed key to send to its encrypted dead-letter queue.
QUEUE_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# What CloudWatch Logs needs of a key that encrypts a log group (the Logs user guide's key policy).
LOG_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
DEAD_LETTER_RETENTION = cdk.Duration.days(14)
ISOLATED_SUBNETS_WARNING = "neptune-ml-endpoint:handlerInIsolatedSubnets"


class NeptuneMlEndpointProvider(Construct):
    """The handler function, its security group and its least-privilege permissions: the Data API
    actions of the resource types it serves (added by :meth:`serve`), crhelper's polling rules.

    Use :meth:`for_cluster` to get the single provider of a cluster in a stack. The handler
    runs in the cluster's subnets, which must also reach EventBridge, Lambda and the
    CloudFormation response URL in S3 (through a NAT gateway or VPC endpoints). Invocations
    that fail every attempt (CloudFormation's requests and crhelper's polls are both
    asynchronous) land in :attr:`dead_letter_queue`.
    """

    def __init__(
        self, scope: Construct, id: str, *, cluster: NeptuneCluster, encryption_key: kms.IKey | None = None
    ) -> None:
        """Create a provider; endpoints should share one through :meth:`for_cluster`.

        :param cluster: the cluster whose endpoints the handler manages.
        :param encryption_key: a customer managed KMS key for the handler's log group and
            dead-letter queue; by default the log group has CloudWatch Logs' own encryption
            and the queue SQS's AWS managed key.
        """
        super().__init__(scope, id)
        self.cluster = cluster
        self.encryption_key = encryption_key

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description="Neptune ML endpoint handler: reaches the Neptune Data API and AWS APIs",
            allow_all_outbound=False,
        )
        # Out only to what the handler calls: AWS APIs and CloudFormation's response URL over HTTPS (through a
        # NAT gateway or VPC endpoints), and the cluster's Data API on its port.
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs and the response URL")
        self.security_group.add_egress_rule(
            ec2.Peer.security_group_id(cluster.security_group.security_group_id),
            ec2.Port.tcp(cluster.port_as_number), "The Neptune Data API")
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

        self._log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            encryption_key=encryption_key,
        )
        self._dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.KMS_MANAGED,
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        self.role = iam.Role(self, "ServiceRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.role.add_to_policy(iam.PolicyStatement(actions=list(LOG_WRITE_ACTIONS),
                                                    resources=[self._log_group.log_group_arn]))
        network_policy = iam.Policy(self, "NetworkInterfacePolicy", roles=[self.role], statements=[
            iam.PolicyStatement(actions=list(NETWORK_INTERFACE_ACTIONS), resources=["*"])])
        network_reason = ("Lambda creates and deletes the function's network interfaces in the VPC and checks the "
                          "execution role's EC2 network-interface actions with no resource, as "
                          "AWSLambdaVPCAccessExecutionRole grants them; this policy holds only those actions")
        acknowledge_checkov_check(network_policy, "CKV_AWS_111", network_reason)
        acknowledge_wildcard_resource(network_policy, "*", network_reason)
        self._function = lambda_.Function(
            self,
            "Handler",
            description="Creates, updates and deletes Neptune ML endpoints and jobs",
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
            log_group=self._log_group,
            dead_letter_queue=self._dead_letter_queue,
        )
        self._function.node.add_dependency(network_policy)  # Lambda checks those actions when it creates it
        self._warn_if_isolated()
        if encryption_key is None:
            acknowledge_checkov_check(
                self._log_group,
                "CKV_AWS_158",
                "CloudWatch Logs encrypts the handler's log at rest with its own keys; the log holds "
                "endpoint ids and the handler's steps, never credentials or the ResponseURL. Give "
                "handler_encryption_key for a customer managed key",
            )
        else:
            allow_log_encryption(encryption_key)
            encryption_key.grant(self.role, *QUEUE_KEY_ACTIONS)
        acknowledge_checkov_check(
            self._function,
            "CKV_AWS_115",
            "Only CloudFormation (one request per endpoint change) and crhelper's polling rules (one "
            "invocation a minute per endpoint still changing) invoke the handler, so the stack's "
            "endpoints bound its concurrency. One handler serves every "
            "endpoint of a cluster: a reserved limit would throttle concurrent creates past it "
            "until CloudFormation times out, and would take capacity from the account's other "
            "functions",
        )

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
        acknowledge_wildcard_resource(
            self,
            cluster.resource_arn,
            "Neptune's Data API authorises actions on <cluster resource id>/*; the statement "
            "names only the ML actions of the resource types the stack declares, on this one cluster",
        )
        self._polling_rules: iam.PolicyStatement | None = None
        self._served_types: set[str] = set()

    def _warn_if_isolated(self) -> None:
        """Isolated subnets reach AWS APIs only through VPC endpoints: without them every request would wait
        out its service timeout, so say so at synth."""
        vpc = self.cluster.vpc
        selected = {subnet.subnet_id for subnet in select_subnets(vpc, self.cluster.vpc_subnets).subnets}
        if selected and selected <= {subnet.subnet_id for subnet in vpc.isolated_subnets}:
            cdk.Annotations.of(self).add_warning_v2(
                ISOLATED_SUBNETS_WARNING,
                "the handler runs in isolated subnets: give their VPC interface endpoints for events, lambda and "
                "logs, and an S3 gateway endpoint (CloudFormation's response URL), or every request waits out "
                "its service timeout and fails")

    @classmethod
    def for_cluster(
        cls, scope: Construct, cluster: NeptuneCluster, *, encryption_key: kms.IKey | None = None
    ) -> NeptuneMlEndpointProvider:
        """The provider of cluster in scope's stack, created on first use.

        :param encryption_key: the provider's KMS key (see the constructor); every caller for
            one cluster in a stack must give the same key, or none.
        """
        stack = cdk.Stack.of(scope)
        provider_id = f"NeptuneMlEndpointProvider{cluster.unique_key(stack)}"
        existing = stack.node.try_find_child(provider_id)
        if isinstance(existing, NeptuneMlEndpointProvider):
            if _key_arn(existing.encryption_key) != _key_arn(encryption_key):
                raise ValueError(
                    "handler_encryption_key: the endpoints of one cluster in a stack share one "
                    f"handler, which {existing.node.path} created with "
                    f"{'another key' if existing.encryption_key else 'no key'}. Give every endpoint "
                    "of the cluster the same handler_encryption_key, or none"
                )
            return existing
        return cls(stack, provider_id, cluster=cluster, encryption_key=encryption_key)

    @property
    def function(self) -> lambda_.IFunction:
        """The handler function."""
        return self._function

    @property
    def log_group(self) -> logs.ILogGroup:
        """The handler's log group, retained for a month."""
        return self._log_group

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        """Where invocations go that failed every attempt Lambda made (kept 14 days).

        Alarm on its ``metric_approximate_number_of_messages_visible()``: a message means a
        request that CloudFormation will not hear about until its service timeout. Each message
        is the event as delivered, with CloudFormation's pre-signed ResponseURL (valid for two
        hours) in it.
        """
        return self._dead_letter_queue

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources this provider serves."""
        return self._function.function_arn

    def serve(self, resource: cdk.CfnResource) -> None:
        """Let the handler call the Data API for resource's type and poll for resource, and create
        resource only once the handler may.

        crhelper names each rule ``<LogicalResourceId><8 random characters>``.
        """
        if resource.cfn_resource_type not in self._served_types:
            self._served_types.add(resource.cfn_resource_type)
            self.cluster.grant(self.role, *NEPTUNE_ACTIONS_BY_TYPE[resource.cfn_resource_type])
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


def allow_log_encryption(key: kms.IKey) -> None:
    """Let CloudWatch Logs encrypt the log groups of key's account and region with key.

    Keys imported into the app keep the policy they have: it must allow the service principal
    ``logs.<region>.amazonaws.com`` the same actions.
    """
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=list(LOG_KEY_ACTIONS),
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )


def _key_arn(key: kms.IKey | None) -> str | None:
    return None if key is None else key.key_arn
