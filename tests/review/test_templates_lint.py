"""cfn-lint finds no errors in templates that use every prop of the construct."""

from __future__ import annotations

import json

import aws_cdk as cdk
from cfnlint.api import ManualArgs, lint
from review_support import every_prop_stack


def test_every_prop_template_has_no_cfn_lint_errors() -> None:
    stack = every_prop_stack()
    template = cdk.Stage.of(stack).synth().get_stack_by_name(stack.stack_name).template  # type: ignore[union-attr]
    assert any(r["Type"] == "Custom::NeptuneMlEndpoint" for r in template["Resources"].values())
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    errors = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches
              if m.rule.severity == "error"]
    assert errors == []
