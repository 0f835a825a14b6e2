"""Benchmark 9: synth time and template size for 1, 5 and 20 NeptuneMlWorkflows in one stack.

In-process `app.synth()` of workflow_app.py with the CLI's context (as synth_scaling.py, whose
reasons hold here: the CLI's start-up would hide the scaling); a synth of the smallest and one of the
largest app warm jsii up and are not counted; then rounds go through every size in turn. Each
template must hold one handler function and one ServiceToken for its 3 x N Neptune ML resources.

The handler's role also carries crhelper's polling permissions on `rule/<logical id>*` for each of
those resources, so its inline policies grow with N; IAM allows a role 10,240 characters of inline
policies (whitespace not counted). Their size is given as IAM would count it, with intrinsics
rendered for us-east-1 and the function's and queue's ARNs standing in with 64-character names.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.stats import Summary, ratio_of_medians
from benchmarks.synth_scaling import CDK_JSON, CLI_CONTEXT
from benchmarks.table import Row, verdict
from benchmarks.workflow_app import build_app
from neptune_ml_endpoint.constructs.bundling import HANDLER_ENTRY

ROLE_INLINE_POLICY_LIMIT = 10_240
"""IAM: the aggregate size of a role's inline policies, in characters without whitespace."""
_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
           "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "NeptuneMlWorkflowBenchmark"}


@dataclass(frozen=True)
class Synthesized:
    seconds: float
    template_bytes: int
    handler_functions: int
    service_tokens: int
    neptune_ml_resources: int
    role_policy_chars: int


def run(sizes: Sequence[int], rounds: int) -> list[Row]:
    context = {**json.loads(CDK_JSON.read_text())["context"], **CLI_CONTEXT}
    for size in (sizes[0], sizes[-1]):  # warm-up, not counted
        _synth(size, context)
    results: dict[int, list[Synthesized]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            results[size].append(_synth(size, context))
    return _rows(sizes, results)


def _synth(workflows: int, context: dict[str, Any]) -> Synthesized:
    with tempfile.TemporaryDirectory(prefix="bench-workflow-synth-") as outdir:
        started = time.perf_counter()
        assembly = build_app(workflows, outdir, context).synth()
        seconds = time.perf_counter() - started
        template_file = Path(outdir) / assembly.stacks[0].template_file
        template = json.loads(template_file.read_text())
        return Synthesized(seconds, template_file.stat().st_size, *_shared_handler(template),
                           _role_policy_chars(template))


def _shared_handler(template: dict[str, Any]) -> tuple[int, int, int]:
    """(handler functions, distinct ServiceTokens, Custom::NeptuneMl* resources)."""
    resources = template["Resources"].values()
    functions = [r for r in resources
                 if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == HANDLER_ENTRY]
    custom = [r for r in resources if r["Type"].startswith("Custom::NeptuneMl")]
    tokens = {json.dumps(r["Properties"]["ServiceToken"], sort_keys=True) for r in custom}
    return len(functions), len(tokens), len(custom)


def _role_policy_chars(template: dict[str, Any]) -> int:
    """The largest total, over the template's roles, of the inline policies attached to one role."""
    per_role: dict[str, int] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        rendered = json.dumps(_render(resource["Properties"]["PolicyDocument"]), separators=(",", ":"))
        for role in resource["Properties"].get("Roles", []):
            key = json.dumps(role, sort_keys=True)
            per_role[key] = per_role.get(key, 0) + len(rendered)
    return max(per_role.values(), default=0)


def _render(value: Any) -> Any:
    """Intrinsics as CloudFormation would resolve them, near enough for a size."""
    if isinstance(value, list):
        return [_render(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and len(value) == 1:
        return _PSEUDO.get(value["Ref"], "x" * 64)
    if "Fn::GetAtt" in value and len(value) == 1:
        return "arn:aws:service:us-east-1:123456789012:" + "x" * 64
    if "Fn::Join" in value and len(value) == 1:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_render(part)) for part in parts)
    return {key: _render(item) for key, item in value.items()}


def _rows(sizes: Sequence[int], results: dict[int, list[Synthesized]]) -> list[Row]:
    name = "9 synth scaling, workflows in one stack (in-process app.synth())"
    smallest, largest = sizes[0], sizes[-1]
    rows = []
    for size in sizes:
        runs = results[size]
        size_kib = Summary.of([r.template_bytes / 1024 for r in runs]).median
        rows.append(Row(name, f"{size} workflow(s): synth time; template size",
                        f"{Summary.of([r.seconds for r in runs]).describe('s')}; {size_kib:.1f} KiB"))
    seconds = {size: [r.seconds for r in results[size]] for size in sizes}
    sizes_bytes = {size: [float(r.template_bytes) for r in results[size]] for size in sizes}
    for size in sizes[1:]:
        rows.append(Row(name, f"ratio {size}/{smallest} (medians)",
                        f"time {ratio_of_medians(seconds[size], seconds[smallest]):.2f}x; "
                        f"template {ratio_of_medians(sizes_bytes[size], sizes_bytes[smallest]):.2f}x"))
    per_workflow = (Summary.of(sizes_bytes[largest]).median - Summary.of(sizes_bytes[smallest]).median) / (
        largest - smallest)
    rows.append(Row(name, "template bytes per added workflow", f"{per_workflow:.0f} B"))
    shared = all(r.handler_functions == 1 and r.service_tokens == 1 and r.neptune_ml_resources == 3 * size
                 for size in sizes for r in results[size])
    counts = ", ".join(f"{size}: {results[size][0].handler_functions} for {results[size][0].neptune_ml_resources}"
                       for size in sizes)
    rows.append(Row(name, "handler functions for the Neptune ML resources (workflows: functions for resources)",
                    counts, "1 for every size, one ServiceToken", verdict(shared)))
    policy = {size: results[size][0].role_policy_chars for size in sizes}
    per_added = (policy[largest] - policy[smallest]) / (largest - smallest)
    ceiling = int(smallest + (ROLE_INLINE_POLICY_LIMIT - policy[smallest]) // per_added) if per_added > 0 else 0
    rows.append(Row(name, "handler role's inline policies as IAM counts them (workflows: characters)",
                    ", ".join(f"{size}: {policy[size]}" for size in sizes)
                    + f"; {per_added:.0f} per added workflow, so IAM's {ROLE_INLINE_POLICY_LIMIT} per role is "
                      f"reached at about {ceiling} workflows with these logical ids",
                    f"{largest} workflows under {ROLE_INLINE_POLICY_LIMIT}",
                    verdict(policy[largest] < ROLE_INLINE_POLICY_LIMIT)))
    return rows
