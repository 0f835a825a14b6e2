"""cfn-lint finds no errors in templates that use every prop of the endpoint construct, or chain the job constructs."""

from __future__ import annotations

import json

import aws_cdk as cdk
from review_support import every_prop_stack, jobs_stack


def cfn_lint_errors(stack: cdk.Stack) -> list[str]:
    from cfnlint.api import ManualArgs, lint  # over a second to import: only in the worker that lints

    template = cdk.Stage.of(stack).synth().get_stack_by_name(stack.stack_name).template  # type: ignore[union-attr]
    assert any(r["Type"] == "Custom::NeptuneMlEndpoint" for r in template["Resources"].values())
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches
            if m.rule.severity == "error"]


def test_every_prop_template_has_no_cfn_lint_errors() -> None:
    assert cfn_lint_errors(every_prop_stack()) == []


def test_jobs_template_has_no_cfn_lint_errors() -> None:
    assert cfn_lint_errors(jobs_stack()) == []
