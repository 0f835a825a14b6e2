"""Declaring one of the package's custom resources: checked properties, the shared provider, limits."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from neptune_ml_endpoint.constructs.cluster import NeptuneCluster
from neptune_ml_endpoint.constructs.provider import NeptuneMlEndpointProvider
from neptune_ml_endpoint.contract.properties import ResourceContract
from neptune_ml_endpoint.contract.values import PropertyError, shown

# crhelper names its polling rule LogicalResourceId + 8 characters, and rule names stop at 64.
MAX_LOGICAL_ID_LENGTH = 64 - 8
_LOGICAL_ID_HASH_LENGTH = 8

SERVICE_TIMEOUT_MIN_SECONDS = 1
SERVICE_TIMEOUT_MAX_SECONDS = 3600

_EXPLICIT_IDS: weakref.WeakKeyDictionary[IConstruct, dict[tuple[str, str, str], tuple[str, str, str]]] = (
    weakref.WeakKeyDictionary())
"""Per app: (resource type, explicit Id, account/region) -> (stack name, stack path, construct path)."""


def checked_properties(contract: ResourceContract, candidates: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's properties without the unset ones, each checked wherever it is not a token.

    Raises PropertyError naming the construct's keyword argument and the property.
    """
    properties = {name: value for name, value in candidates.items() if value is not None}
    resolved: dict[str, Any] = {}
    for name, value in properties.items():
        spec = contract.spec(name)
        assert spec is not None, f"{name} is not a property of {contract.resource_type}"
        resolved[name] = value
        if _is_resolved(value):
            try:
                resolved[name] = spec.api_value(value)
            except PropertyError as error:
                raise contract.in_construct_terms(error) from None
    try:
        contract.cross_check(resolved)
    except PropertyError as error:
        raise contract.in_construct_terms(error) from None
    return properties


def _is_resolved(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_resolved(item) for item in value)
    if isinstance(value, Mapping):
        return all(_is_resolved(item) for item in value.values())
    return not cdk.Token.is_unresolved(value)


_KIND_BY_SUFFIX = {
    "_role": ("role_arn", "an iam.IRole, such as iam.Role.from_role_arn(self, 'Role', arn)"),
    "_key": ("key_arn", "a kms.IKey, such as kms.Key.from_key_arn(self, 'Key', arn)"),
    "security_groups": ("security_group_id", ("ec2.ISecurityGroup objects, such as "
                                              "ec2.SecurityGroup.from_security_group_id(self, 'Sg', 'sg-...')")),
    "timeout": ("to_seconds", "a Duration, such as Duration.minutes(40)"),
    "max_wait_time": ("to_seconds", "a Duration, such as Duration.hours(2)"),
}
"""What a prop, by the end of its name, must be: the attribute its value has, and how to make one."""


def check_kinds(**props: object) -> None:
    """Refuse a prop of the wrong kind (a role's ARN where an iam.IRole goes), naming it and how to make one."""
    for prop, value in props.items():
        attribute, wanted = next(kind for suffix, kind in _KIND_BY_SUFFIX.items() if prop.endswith(suffix))
        items = value if prop.endswith("security_groups") and isinstance(value, (list, tuple)) else [value]
        if value is not None and not all(hasattr(item, attribute) for item in items):
            raise TypeError(f"{prop}: give {wanted}, not {shown(value)}")


def whole_seconds(prop: str, duration: cdk.Duration | None) -> int | None:
    """A Duration's seconds, refusing a fraction of a second (Duration.millis(500)) naming the prop."""
    check_kinds(**{prop: duration})
    if duration is None:
        return None
    if not duration.is_unresolved() and duration.to_milliseconds() % 1000:
        raise ValueError(f"{prop}: {duration.to_human_string()} is not a whole number of seconds. Give a Duration "
                         "such as Duration.minutes(40)")
    return int(duration.to_seconds())


def check_timeout(prop: str, timeout: cdk.Duration, example: str = "Duration.minutes(40)") -> int | None:
    """CloudFormation accepts a custom resource ServiceTimeout of 1 s to 1 h; the seconds, or None for a token."""
    if timeout.is_unresolved():
        return None
    seconds = whole_seconds(prop, timeout) or 0
    if not SERVICE_TIMEOUT_MIN_SECONDS <= seconds <= SERVICE_TIMEOUT_MAX_SECONDS:
        raise ValueError(
            f"{prop}: {timeout.to_human_string()} is outside {SERVICE_TIMEOUT_MIN_SECONDS} s to "
            f"{SERVICE_TIMEOUT_MAX_SECONDS} s. Give a Duration such as {example}"
        )
    return seconds


def declare(
    scope: Construct,
    *,
    contract: ResourceContract,
    cluster: NeptuneCluster,
    properties: Mapping[str, Any],
    removal_policy: cdk.RemovalPolicy,
    service_timeout: cdk.Duration,
    handler_encryption_key: kms.IKey | None,
) -> tuple[NeptuneMlEndpointProvider, cdk.CustomResource]:
    """The custom resource ``Resource`` under scope, served by the cluster's shared provider."""
    provider = NeptuneMlEndpointProvider.for_cluster(scope, cluster, encryption_key=handler_encryption_key)
    resource = cdk.CustomResource(
        scope,
        "Resource",
        resource_type=contract.resource_type,
        service_token=provider.service_token,
        properties=dict(properties),
        removal_policy=removal_policy,
        service_timeout=service_timeout,
    )
    cluster.wait_for_instances(resource)
    explicit = properties.get("Id")
    if isinstance(explicit, str) and not cdk.Token.is_unresolved(explicit):
        _claim_explicit_id(scope, contract, explicit)
    cfn_resource = resource.node.default_child
    assert isinstance(cfn_resource, cdk.CfnResource)
    keep_logical_id_short(cfn_resource)
    provider.serve(cfn_resource)
    return provider, resource


def _claim_explicit_id(scope: Construct, contract: ResourceContract, explicit: str) -> None:
    """Refuse an explicit Id another resource of the app already has in the same account and region (SageMaker
    names are unique there): the second would fail at deploy as one its stack did not create. Another version
    of the same stack (the same stack name, another artifact) may reuse it."""
    stack = cdk.Stack.of(scope)
    key = (contract.resource_type, explicit, f"{stack.account}/{stack.region}")
    claimed = _EXPLICIT_IDS.setdefault(scope.node.root, {})
    stack_name, stack_path, path = claimed.setdefault(key, (stack.stack_name, stack.node.path, scope.node.path))
    if path != scope.node.path and (stack_name != stack.stack_name or stack_path == stack.node.path):
        raise contract.in_construct_terms(PropertyError(
            "Id", f"{explicit!r} is also the id of {path}, in the same account and region",
            "Give each its own id, or leave it out for one derived from the stack and construct"))


def keep_logical_id_short(resource: cdk.CfnResource) -> None:
    """Shorten resource's logical id to MAX_LOGICAL_ID_LENGTH with a stable hash, if longer."""
    logical_id = cdk.Stack.of(resource).get_logical_id(resource)
    if len(logical_id) <= MAX_LOGICAL_ID_LENGTH:
        return
    digest = hashlib.sha256(logical_id.encode()).hexdigest()[:_LOGICAL_ID_HASH_LENGTH].upper()
    resource.override_logical_id(logical_id[: MAX_LOGICAL_ID_LENGTH - _LOGICAL_ID_HASH_LENGTH] + digest)
