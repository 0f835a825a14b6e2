"""The shared handler: one per cluster per stack, in the cluster's VPC, with least privilege."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_neptune as neptune
from aws_cdk.assertions import Annotations, Match, Template
from constructs_support import (
    CLUSTER_ADDRESS,
    CLUSTER_RESOURCE_ID,
    CLUSTER_SECURITY_GROUP_ID,
    PRIVATE_SUBNET_IDS,
    as_list,
    imported_network,
    joined_text,
    literal_cluster,
    new_stack,
    only_resource,
    policy_statements,
    resources,
)

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint, NeptuneMlEndpointProvider
from neptune_ml_endpoint.constructs.provider import LOG_WRITE_ACTIONS, NETWORK_INTERFACE_ACTIONS
from neptune_ml_endpoint.schema import RESOURCE_TYPE

NEPTUNE_ACTIONS = {
    "neptune-db:CreateMLEndpoint",
    "neptune-db:GetMLEndpointStatus",
    "neptune-db:DeleteMLEndpoint",
}
POLLING_ACTIONS = {"events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule",
                   "events:DescribeRule"}


@pytest.fixture(scope="module")
def two_endpoints() -> Template:
    """Two endpoints on one existing cluster."""
    stack = new_stack()
    cluster = literal_cluster(stack)
    NeptuneMlEndpoint(stack, "First", cluster=cluster, ml_model_training_job_id="training-1")
    NeptuneMlEndpoint(stack, "Second", cluster=cluster, ml_model_transform_job_id="transform-1")
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def cfn_cluster_endpoint() -> Template:
    """One endpoint on an L1 cluster declared in the same stack (address and port are tokens)."""
    stack = new_stack()
    vpc, security_group = imported_network(stack)
    cfn_cluster = neptune.CfnDBCluster(stack, "Cluster", iam_auth_enabled=True)
    cluster = NeptuneCluster.from_cfn_db_cluster(cfn_cluster, vpc=vpc, security_group=security_group)
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="training-1")
    return Template.from_stack(stack)


def statement_with(template: Template, actions: set[str]) -> dict[str, Any]:
    matching = [s for s in policy_statements(template) if set(as_list(s["Action"])) == actions]
    assert len(matching) == 1, policy_statements(template)
    return matching[0]


def test_two_endpoints_on_one_cluster_share_one_handler(two_endpoints: Template) -> None:
    two_endpoints.resource_count_is("AWS::Lambda::Function", 1)
    two_endpoints.resource_count_is(RESOURCE_TYPE, 2)
    function_id, _ = only_resource(two_endpoints, "AWS::Lambda::Function")
    for endpoint in resources(two_endpoints, RESOURCE_TYPE).values():
        assert endpoint["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_each_cluster_and_each_stack_gets_its_own_handler() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Clusters")
    for name in ("A", "B"):
        cluster = literal_cluster(
            stack,
            address=f"{name.lower()}.cluster-x.us-east-1.neptune.amazonaws.com",
            resource_id=f"cluster-{name}",
            prefix=name,
        )
        NeptuneMlEndpoint(stack, f"Endpoint{name}", cluster=cluster, ml_model_training_job_id="training-1")
    other_stack = cdk.Stack(app, "Other")
    NeptuneMlEndpoint(
        other_stack, "Endpoint", cluster=literal_cluster(other_stack), ml_model_training_job_id="training-1"
    )

    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 2)
    Template.from_stack(other_stack).resource_count_is("AWS::Lambda::Function", 1)


def test_for_cluster_finds_the_provider_of_an_equal_cluster() -> None:
    stack = new_stack()
    first = NeptuneMlEndpointProvider.for_cluster(stack, literal_cluster(stack, prefix="One"))
    again = NeptuneMlEndpointProvider.for_cluster(stack, literal_cluster(stack, prefix="Two"))
    other = NeptuneMlEndpointProvider.for_cluster(
        stack, literal_cluster(stack, resource_id="cluster-X", prefix="X")
    )
    assert again is first
    assert other is not first


def test_handler_runs_python_3_12_or_newer_with_the_bundled_entry(two_endpoints: Template) -> None:
    _, function = only_resource(two_endpoints, "AWS::Lambda::Function")
    runtime = re.fullmatch(r"python3\.(\d+)", function["Properties"]["Runtime"])
    assert runtime is not None and int(runtime.group(1)) >= 12
    assert function["Properties"]["Handler"] == "index.handler"
    assert function["Properties"]["Timeout"] == 15 * 60


def test_handler_logs_to_its_own_log_group_with_retention(two_endpoints: Template) -> None:
    log_group_id, log_group = only_resource(two_endpoints, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] > 0
    two_endpoints.has_resource_properties(
        "AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}}
    )


def test_handler_runs_in_the_cluster_subnets_with_its_own_security_group(two_endpoints: Template) -> None:
    security_group_id, _ = only_resource(two_endpoints, "AWS::EC2::SecurityGroup")
    two_endpoints.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "VpcConfig": {
                "SubnetIds": PRIVATE_SUBNET_IDS,
                "SecurityGroupIds": [{"Fn::GetAtt": [security_group_id, "GroupId"]}],
            }
        },
    )


def test_cluster_security_group_lets_the_handler_in_on_the_cluster_port(two_endpoints: Template) -> None:
    security_group_id, _ = only_resource(two_endpoints, "AWS::EC2::SecurityGroup")
    ingress_id, ingress = only_resource(two_endpoints, "AWS::EC2::SecurityGroupIngress")
    properties = dict(ingress["Properties"])
    properties.pop("Description", None)
    assert properties == {
        "GroupId": CLUSTER_SECURITY_GROUP_ID,
        "SourceSecurityGroupId": {"Fn::GetAtt": [security_group_id, "GroupId"]},
        "IpProtocol": "tcp",
        "FromPort": 8182,
        "ToPort": 8182,
    }
    for endpoint in resources(two_endpoints, RESOURCE_TYPE).values():
        assert ingress_id in endpoint["DependsOn"]


def test_the_handler_goes_out_only_to_https_and_the_cluster_port(two_endpoints: Template) -> None:
    _, security_group = only_resource(two_endpoints, "AWS::EC2::SecurityGroup")
    egress = [{key: rule[key] for key in rule if key != "Description"}
              for rule in security_group["Properties"]["SecurityGroupEgress"]]

    assert egress == [
        {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443},
        {"DestinationSecurityGroupId": CLUSTER_SECURITY_GROUP_ID, "IpProtocol": "tcp", "FromPort": 8182,
         "ToPort": 8182},
    ]


def test_token_port_and_address_come_from_the_cfn_cluster(cfn_cluster_endpoint: Template) -> None:
    cfn_cluster_endpoint.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": {"Fn::GetAtt": ["Cluster", "Port"]}, "ToPort": {"Fn::GetAtt": ["Cluster", "Port"]}},
    )
    _, endpoint = only_resource(cfn_cluster_endpoint, RESOURCE_TYPE)
    assert joined_text(endpoint["Properties"]["NeptuneEndpoint"]) == (
        "https://${Cluster.Endpoint}:${Cluster.Port}"
    )
    neptune_statement = statement_with(cfn_cluster_endpoint, NEPTUNE_ACTIONS)
    assert joined_text(neptune_statement["Resource"]).endswith(":${Cluster.ClusterResourceId}/*")


def test_handler_may_manage_ml_endpoints_of_its_cluster_only(two_endpoints: Template) -> None:
    statement = statement_with(two_endpoints, NEPTUNE_ACTIONS)
    assert statement["Effect"] == "Allow"
    assert joined_text(statement["Resource"]) == (
        "arn:${AWS::Partition}:neptune-db:${AWS::Region}:${AWS::AccountId}:" + CLUSTER_RESOURCE_ID + "/*"
    )


def test_polling_rules_are_scoped_to_each_endpoint_logical_id(two_endpoints: Template) -> None:
    statement = statement_with(two_endpoints, POLLING_ACTIONS)
    rule_arns = sorted(joined_text(resource) for resource in as_list(statement["Resource"]))
    expected = sorted(
        f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{logical_id}*"
        for logical_id in resources(two_endpoints, RESOURCE_TYPE)
    )
    assert rule_arns == expected


def test_lambda_permissions_are_scoped_to_the_handler_itself(two_endpoints: Template) -> None:
    function_id, _ = only_resource(two_endpoints, "AWS::Lambda::Function")
    statement = statement_with(two_endpoints, {"lambda:AddPermission", "lambda:RemovePermission"})
    assert statement["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_no_wildcard_actions_or_resources(two_endpoints: Template) -> None:
    """Only the network-interface actions Lambda checks without a resource have Resource "*", in a policy of
    their own that the function waits for; the logs are the handler's own log group's."""
    statements = policy_statements(two_endpoints)
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert actions == NEPTUNE_ACTIONS | POLLING_ACTIONS | set(NETWORK_INTERFACE_ACTIONS) | set(LOG_WRITE_ACTIONS) | {
        "lambda:AddPermission", "lambda:RemovePermission", "sqs:SendMessage"
    }
    assert all("*" not in action for action in actions)
    unscoped = [statement for statement in statements if "*" in as_list(statement["Resource"])]
    assert [sorted(as_list(statement["Action"])) for statement in unscoped] == [sorted(NETWORK_INTERFACE_ACTIONS)]
    [log_writes] = [statement for statement in statements if "logs:PutLogEvents" in as_list(statement["Action"])]
    log_group_id, _ = only_resource(two_endpoints, "AWS::Logs::LogGroup")
    assert log_writes["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    _, function = only_resource(two_endpoints, "AWS::Lambda::Function")
    [network_policy] = [lid for lid in resources(two_endpoints, "AWS::IAM::Policy") if "NetworkInterface" in lid]
    assert network_policy in function["DependsOn"]
    assert not [role for role in resources(two_endpoints, "AWS::IAM::Role").values()
                if role["Properties"].get("ManagedPolicyArns")]


def test_endpoints_wait_for_the_policy_that_names_the_handler(two_endpoints: Template) -> None:
    function_id, _ = only_resource(two_endpoints, "AWS::Lambda::Function")
    policies = resources(two_endpoints, "AWS::IAM::Policy")
    self_policy_ids = [
        policy_id
        for policy_id, policy in policies.items()
        if {"Fn::GetAtt": [function_id, "Arn"]}
        in [s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    ]
    assert len(self_policy_ids) == 1
    for endpoint in resources(two_endpoints, RESOURCE_TYPE).values():
        assert self_policy_ids[0] in endpoint["DependsOn"]


ISOLATED_WARNING = Match.string_like_regexp("the handler runs in isolated subnets: give their VPC interface endpoints.*")


def test_a_handler_in_isolated_subnets_gets_a_synth_warning_about_vpc_endpoints() -> None:
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", subnet_configuration=[
        ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address=CLUSTER_ADDRESS, cluster_resource_id=CLUSTER_RESOURCE_ID, vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "ClusterSg", vpc=vpc))
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="job-1")

    Annotations.from_stack(stack).has_warning("*", ISOLATED_WARNING)


def test_a_handler_in_private_subnets_gets_no_such_warning() -> None:
    stack = new_stack()
    NeptuneMlEndpoint(stack, "Endpoint", cluster=literal_cluster(stack), ml_model_training_job_id="job-1")

    Annotations.from_stack(stack).has_no_warning("*", ISOLATED_WARNING)
