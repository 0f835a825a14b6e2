"""Stacks, clusters and template readers shared by the construct tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from neptune_ml_endpoint import NeptuneCluster

CLUSTER_ADDRESS = "db.cluster-abc.us-east-1.neptune.amazonaws.com"
CLUSTER_RESOURCE_ID = "cluster-ABCDEFGHIJKL"
CLUSTER_SECURITY_GROUP_ID = "sg-0123456789abcdef0"
PRIVATE_SUBNET_IDS = ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]


def new_stack(stack_id: str = "Stack") -> cdk.Stack:
    """An environment-agnostic stack in a new app."""
    return cdk.Stack(cdk.App(), stack_id)


def imported_network(stack: cdk.Stack, prefix: str = "") -> tuple[ec2.IVpc, ec2.ISecurityGroup]:
    """A VPC with two private subnets and a cluster security group, known by their ids."""
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        f"{prefix}Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=PRIVATE_SUBNET_IDS,
    )
    security_group = ec2.SecurityGroup.from_security_group_id(
        stack, f"{prefix}ClusterSecurityGroup", CLUSTER_SECURITY_GROUP_ID
    )
    return vpc, security_group


def literal_cluster(
    stack: cdk.Stack,
    *,
    address: str = CLUSTER_ADDRESS,
    resource_id: str = CLUSTER_RESOURCE_ID,
    port: int | str = 8182,
    prefix: str = "",
) -> NeptuneCluster:
    """An existing cluster given by literal attributes."""
    vpc, security_group = imported_network(stack, prefix)
    return NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address=address,
        port=port,
        cluster_resource_id=resource_id,
        vpc=vpc,
        security_group=security_group,
    )


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {
        logical_id: dict(resource) for logical_id, resource in template.find_resources(resource_type).items()
    }


def only_resource(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The one resource of a type, as (logical id, resource)."""
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def policy_statements(template: Template) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy in the template."""
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    """A policy's Action or Resource, which may be a single value, as a list."""
    return value if isinstance(value, list) else [value]


def joined_text(value: Any) -> str:
    """A Fn::Join of literals and references, with each reference written as ${...}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(joined_text(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected value {value!r}")


def run_command(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its text output; the caller checks the result."""
    return subprocess.run(
        args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
