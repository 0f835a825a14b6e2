"""Acknowledgments of deliberate findings, for cdk-nag and for checkov, each with its reason.

Validation plugins such as cdk-nag's AwsSolutions pack name each finding after the resource
ARN as the template spells it, with references written ``<LogicalId>``, ``<LogicalId.Attr>``
or ``<AWS::Region>``. An acknowledgment must use the same spelling, so the ARN is resolved in
its stack and written that way.

checkov reads its acknowledgments from the template: a resource's ``Metadata`` entry
``{"checkov": {"skip": [{"id": <check id>, "comment": <reason>}]}}``, which it reports as a
skipped check with that comment.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

AWS_SOLUTIONS_PACK = "AwsSolutions"
WILDCARD_RULE = "AwsSolutions-IAM5"
CHECKOV_METADATA_KEY = "checkov"


def acknowledge_wildcard_resource(scope: IConstruct, resource_arn: str, reason: str) -> None:
    """Acknowledge, for scope and below, a wildcard in a policy statement's Resource."""
    _acknowledge(scope, WILDCARD_RULE, "Resource", resource_arn, reason)


def acknowledge_checkov_check(scope: IConstruct, check_id: str, reason: str) -> None:
    """Acknowledge a checkov check on scope's CloudFormation resource (scope or its default child)."""
    resource = scope if isinstance(scope, cdk.CfnResource) else scope.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{scope.node.path} is not and has no CloudFormation resource")
    metadata = resource.get_metadata(CHECKOV_METADATA_KEY) or {}
    skips = [skip for skip in metadata.get("skip", []) if skip.get("id") != check_id]
    resource.add_metadata(
        CHECKOV_METADATA_KEY, {**metadata, "skip": [*skips, {"id": check_id, "comment": reason}]}
    )


def _acknowledge(scope: IConstruct, rule: str, kind: str, arn: str, reason: str) -> None:
    spelled = _as_template_text(cdk.Stack.of(scope).resolve(arn))
    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=f"{AWS_SOLUTIONS_PACK}::{rule}[{kind}::{spelled}]", reason=reason)
    )


def _as_template_text(value: Any) -> str:
    """A resolved string value with its references spelled the way findings name them."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<" + ".".join(str(part) for part in value["Fn::GetAtt"]) + ">"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_as_template_text(part) for part in parts)
    return str(value)
