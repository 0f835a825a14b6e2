"""cfn-lint finds no errors in templates that use every prop of the construct."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cfnlint.api import ManualArgs, lint

from neptune_ml_endpoint import ModelName, NeptuneCluster, NeptuneMlEndpoint


def _every_prop_stack() -> cdk.Stack:
    """Two clusters (one imported, one by token port), endpoints with every prop, an import and a grant."""
    stack = cdk.Stack(cdk.App(), "EveryProp")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
    )
    security_group = ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789abcdef0")
    cluster = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="db.cluster-abc.us-east-1.neptune.amazonaws.com", port=8182,
        cluster_resource_id="cluster-ABCDEFGHIJKL", vpc=vpc, security_group=security_group,
    )
    port = cdk.CfnParameter(stack, "ClusterPort", type="Number", default=8182)
    other = NeptuneCluster.from_cluster_attributes(
        cluster_endpoint_address="db2.cluster-abc.us-east-1.neptune.amazonaws.com",
        port=port.value_as_string, cluster_resource_id="cluster-MNOPQRSTUVWX", vpc=vpc,
        security_group=security_group,
    )
    role = iam.Role(stack, "NeptuneMlRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
    full = NeptuneMlEndpoint(
        stack, "Full", cluster=cluster, ml_model_training_job_id="training-1", model_name=ModelName.RGCN,
        instance_type="ml.c5.xlarge", instance_count=2, neptune_iam_role=role, volume_encryption_key=key,
        endpoint_id="full-endpoint", removal_policy=cdk.RemovalPolicy.RETAIN,
        service_timeout=cdk.Duration.minutes(20),
    )
    NeptuneMlEndpoint(stack, "OnOtherCluster", cluster=other, ml_model_transform_job_id="transform-1")
    imported = NeptuneMlEndpoint.from_endpoint_attributes(stack, "Imported", endpoint_id="existing-endpoint")
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    full.grant_invoke(reader)
    imported.grant_invoke(reader)
    cdk.CfnOutput(stack, "FullArn", value=full.endpoint_arn)
    return stack


def test_every_prop_template_has_no_cfn_lint_errors() -> None:
    stack = _every_prop_stack()
    template = cdk.Stage.of(stack).synth().get_stack_by_name(stack.stack_name).template  # type: ignore[union-attr]
    assert any(r["Type"] == "Custom::NeptuneMlEndpoint" for r in template["Resources"].values())
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    errors = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches
              if m.rule.severity == "error"]
    assert errors == []
