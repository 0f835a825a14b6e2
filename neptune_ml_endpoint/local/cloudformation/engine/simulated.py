"""Stable stand-in values for the resources the player does not deploy (VPCs, roles, clusters).

Only custom resources run for real; every other resource of the template is taken as
deployed, and these functions say what its Ref and Fn::GetAtt return.
"""

from __future__ import annotations

import hashlib

from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import StackIdentity

NEPTUNE_CLUSTER_TYPE = "AWS::Neptune::DBCluster"
LAMBDA_FUNCTION_TYPE = "AWS::Lambda::Function"
_GLOBAL_SERVICES = frozenset({"iam"})


def function_name(identity: StackIdentity, logical_id: str) -> str:
    """The name a Lambda function without a FunctionName gets (CloudFormation adds a suffix)."""
    return f"{identity.stack_name}-{logical_id}"[:64]


def simulated_ref(identity: StackIdentity, logical_id: str, resource_type: str) -> str:
    """What Ref returns for a simulated resource: its name, or its ARN where Ref gives one."""
    if resource_type == LAMBDA_FUNCTION_TYPE:
        return function_name(identity, logical_id)
    if resource_type in ("AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"):
        return simulated_attribute(identity, logical_id, resource_type, "Arn")
    return logical_id


def simulated_attribute(identity: StackIdentity, logical_id: str, resource_type: str, attribute: str) -> str:
    """What Fn::GetAtt returns for a simulated resource."""
    if resource_type == NEPTUNE_CLUSTER_TYPE:
        return _neptune_cluster_attribute(identity, logical_id, attribute)
    if attribute == "Arn":
        return _arn(identity, logical_id, resource_type)
    return f"{logical_id}.{attribute}"


def _arn(identity: StackIdentity, logical_id: str, resource_type: str) -> str:
    parts = resource_type.split("::")
    service = parts[1].lower() if len(parts) > 1 else "resource"
    kind = parts[2].lower() if len(parts) > 2 else "resource"
    region = "" if service in _GLOBAL_SERVICES else identity.region
    if resource_type == LAMBDA_FUNCTION_TYPE:
        resource = f"function:{function_name(identity, logical_id)}"
    else:
        resource = f"{kind}/{logical_id}"
    return f"arn:{identity.partition}:{service}:{region}:{identity.account}:{resource}"


def _neptune_cluster_attribute(identity: StackIdentity, logical_id: str, attribute: str) -> str:
    digest = hashlib.sha256(f"{identity.stack_name}/{logical_id}".encode()).hexdigest()
    host = f"{logical_id.lower()}.cluster-{digest[:12]}.{identity.region}.neptune.amazonaws.com"
    values = {
        "Endpoint": host,
        "ReadEndpoint": host.replace(".cluster-", ".cluster-ro-", 1),
        "Port": "8182",
        "ClusterResourceId": f"cluster-{digest[:26].upper()}",
    }
    return values.get(attribute, f"{logical_id}.{attribute}")
