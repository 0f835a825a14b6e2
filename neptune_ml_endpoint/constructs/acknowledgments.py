"""Policy-validation acknowledgments for the handler's deliberate wildcards and managed policies.

Validation plugins such as cdk-nag's AwsSolutions pack name each finding after the resource
ARN as the template spells it, with references written ``<LogicalId>``, ``<LogicalId.Attr>``
or ``<AWS::Region>``. An acknowledgment must use the same spelling, so the ARN is resolved in
its stack and written that way.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

AWS_SOLUTIONS_PACK = "AwsSolutions"
MANAGED_POLICY_RULE = "AwsSolutions-IAM4"
WILDCARD_RULE = "AwsSolutions-IAM5"


def acknowledge_wildcard_resource(scope: IConstruct, resource_arn: str, reason: str) -> None:
    """Acknowledge, for scope and below, a wildcard in a policy statement's Resource."""
    _acknowledge(scope, WILDCARD_RULE, "Resource", resource_arn, reason)


def acknowledge_managed_policy(scope: IConstruct, managed_policy_arn: str, reason: str) -> None:
    """Acknowledge, for scope and below, a role's use of an AWS managed policy."""
    _acknowledge(scope, MANAGED_POLICY_RULE, "Policy", managed_policy_arn, reason)


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
