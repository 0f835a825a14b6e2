"""Benchmark 5: synth time and template size for 1, 10 and 50 endpoints on one cluster.

Synthesis runs in-process (synth_app.build_app(n).synth(), construct tree included) rather
than through the CDK CLI, which would add the same start-up of Node.js, jsii and Python
(about 10-20 s on a small machine) to every size and hide the scaling. The app gets the
context the CLI would give it: cdk.json's feature flags plus path and asset metadata and
version reporting, so the template matches `cdk synth`'s. A synth of the smallest and one of
the largest app warm jsii up and are not counted; then rounds go through every size in turn.
`run_cli` times the whole `cdk synth` with the pinned CLI as well, start-up included, over fewer
rounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.stats import Summary, ratio_of_medians
from benchmarks.synth_app import build_app
from benchmarks.table import Row, verdict
from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs.bundling import HANDLER_ENTRY

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "cdk.json"
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}
"""What the CDK CLI adds to the context by default."""


@dataclass(frozen=True)
class Synthesized:
    seconds: float
    template_bytes: int
    handler_functions: int
    service_tokens: int
    endpoints: int


def run(sizes: Sequence[int], rounds: int) -> list[Row]:
    context = {**json.loads(CDK_JSON.read_text())["context"], **CLI_CONTEXT}
    for size in (sizes[0], sizes[-1]):  # warm-up, not counted: jsii loads modules on first use
        _synth(size, context)
    results: dict[int, list[Synthesized]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            results[size].append(_synth(size, context))
    return _rows(sizes, results)


def run_cli(sizes: Sequence[int], rounds: int) -> list[Row]:
    """`cdk synth` of the benchmark app with the pinned CLI: wall time per size and the ratios."""
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            seconds[size].append(_cli_synth(size))
    name = "5 synth scaling (cdk synth, pinned CLI)"
    rows = [Row(name, f"{size} endpoint(s): cdk synth time", Summary.of(seconds[size]).describe("s"))
            for size in sizes]
    rows += [Row(name, f"ratio {size}/{sizes[0]} (medians)",
                 f"time {ratio_of_medians(seconds[size], seconds[sizes[0]]):.2f}x") for size in sizes[1:]]
    return rows


def _cli_synth(endpoints: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-cdk-synth-") as outdir:
        command = [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", outdir,
                   "--app", f"{sys.executable} -m benchmarks.synth_app",
                   "-c", f"bench:endpoints={endpoints}"]
        started = time.perf_counter()
        synth = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if synth.returncode != 0:
            raise RuntimeError(f"cdk synth of {endpoints} endpoint(s) failed:\n{synth.stderr}")
        return elapsed


def _synth(endpoints: int, context: dict[str, Any]) -> Synthesized:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        started = time.perf_counter()
        assembly = build_app(endpoints, outdir, context).synth()
        seconds = time.perf_counter() - started
        stack = assembly.stacks[0]
        template_file = Path(outdir) / stack.template_file
        template = json.loads(template_file.read_text())
        return Synthesized(seconds, template_file.stat().st_size, *_handlers(template))


def _handlers(template: dict[str, Any]) -> tuple[int, int, int]:
    """(handler functions, distinct ServiceTokens, Custom::NeptuneMlEndpoint resources) in a template."""
    resources = template["Resources"].values()
    functions = [r for r in resources
                 if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == HANDLER_ENTRY]
    endpoints = [r for r in resources if r["Type"] == schema.RESOURCE_TYPE]
    tokens = {json.dumps(r["Properties"]["ServiceToken"], sort_keys=True) for r in endpoints}
    return len(functions), len(tokens), len(endpoints)


def _rows(sizes: Sequence[int], results: dict[int, list[Synthesized]]) -> list[Row]:
    name = "5 synth scaling (in-process app.synth())"
    rows = []
    smallest = sizes[0]
    for size in sizes:
        runs = results[size]
        size_kib = Summary.of([r.template_bytes / 1024 for r in runs]).median
        rows.append(Row(name, f"{size} endpoint(s): synth time; template size",
                        f"{Summary.of([r.seconds for r in runs]).describe('s')}; {size_kib:.1f} KiB"))
    seconds = {size: [r.seconds for r in results[size]] for size in sizes}
    sizes_bytes = {size: [float(r.template_bytes) for r in results[size]] for size in sizes}
    for size in sizes[1:]:
        rows.append(Row(name, f"ratio {size}/{smallest} (medians)",
                        f"time {ratio_of_medians(seconds[size], seconds[smallest]):.2f}x; "
                        f"template {ratio_of_medians(sizes_bytes[size], sizes_bytes[smallest]):.2f}x"))
    largest = sizes[-1]
    per_endpoint = (Summary.of(sizes_bytes[largest]).median - Summary.of(sizes_bytes[smallest]).median) / (
        largest - smallest)
    rows.append(Row(name, "template bytes per added endpoint", f"{per_endpoint:.0f} B"))
    shared = all(r.handler_functions == 1 and r.service_tokens == 1 and r.endpoints == size
                 for size in sizes for r in results[size])
    counts = ", ".join(f"{size}: {results[size][0].handler_functions}" for size in sizes)
    rows.append(Row(name, "handler functions per template (endpoints: functions)", counts,
                    "1 for every size, one ServiceToken", verdict(shared)))
    return rows
