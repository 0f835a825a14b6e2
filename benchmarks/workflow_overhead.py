"""Benchmark 8: what a NeptuneMlWorkflow's local deploy costs beyond the jobs' and the endpoint's own time.

workflow_app.py (one workflow on an imported cluster) is synthesized once, in-process with the CLI's
context (asset metadata included, which the player needs); each run then
deploys that cloud assembly with the player (`neptune-ml-local deploy --app <assembly>`, called
in-process, output discarded) against a fresh local Neptune ML API whose processing, training and
creating times are set for the run (spread over the runs, so the handler's pauses are hit in every
phase), and a fresh state folder. Nothing is destroyed: the next run has its own API.

The overhead is the deploy's wall time less processing + training + creating. The API's records
split it: from the deploy's start to the processing job's Start (the player's start-up: reading the
assembly, starting the handler's Lambda environment, the first invocation), from each step's end
(its Start or CreateMLEndpoint plus its time) to the next step's Start (the answer's wait for the
handler's next status check, the player's turn, the next invocation), and from the endpoint's
InService to the deploy's return (the last answer, saving the state, the summary).
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.lifecycle import BenchmarkError
from benchmarks.stats import Summary, spread
from benchmarks.synth_scaling import CDK_JSON, CLI_CONTEXT
from benchmarks.table import Row
from benchmarks.workflow_app import build_app
from neptune_ml_endpoint.local.__main__ import main as local_cli
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, RecordedRequest, Timings
from neptune_ml_endpoint.local.cloudformation.aws.cloud_session import LOCAL_HANDLER_SETTINGS
from neptune_ml_endpoint.schema import ENV_WAIT_FIRST_SECONDS, ENV_WAIT_MAX_SECONDS

STEPS = (("processing", "StartMLDataProcessingJob"), ("training", "StartMLModelTrainingJob"),
         ("creating", "CreateMLEndpoint"))
PROCESSING_SECONDS, TRAINING_SECONDS, CREATING_SECONDS = (1.0, 4.0), (2.0, 6.0), (1.5, 4.0)


@dataclass(frozen=True)
class WorkflowPlan:
    runs: int


@dataclass(frozen=True)
class DeployRun:
    """One deploy: its wall time, the simulated steps' times, and the overhead's parts."""

    seconds: float
    steps: tuple[float, float, float]
    start_up: float
    after_processing: float
    after_training: float
    after_endpoint: float

    @property
    def overhead(self) -> float:
        return self.seconds - sum(self.steps)


def run(plan: WorkflowPlan) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-workflow-") as folder:
        assembly = Path(folder, "cdk.out")
        build_app(1, str(assembly), {**json.loads(CDK_JSON.read_text())["context"], **CLI_CONTEXT}).synth()
        _deploy(assembly, Path(folder, "warm-up"), (0.2, 0.2, 0.2))  # imports and first-use costs, not counted
        count = plan.runs
        processing = spread(count, *PROCESSING_SECONDS)
        training = spread(count, *TRAINING_SECONDS)
        creating = spread(count, *CREATING_SECONDS)
        runs = [_deploy(assembly, Path(folder, f"run-{n}"),
                        (processing[n], training[(n + 1) % count], creating[(n + 2) % count]))
                for n in range(count)]
    return _rows(runs)


def _deploy(assembly: Path, state_dir: Path, steps: tuple[float, float, float]) -> DeployRun:
    processing, training, creating = steps
    timings = Timings(creating=creating, processing=processing, training=training)
    with LocalNeptuneMlApi(timings=timings, clock=time.time) as api:
        argv = ["deploy", "--app", str(assembly), "--api-url", api.url, "--state-dir", str(state_dir)]
        output = io.StringIO()
        started = time.time()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exit_code = local_cli(argv)
        ended = time.time()
        if exit_code != 0:
            raise BenchmarkError(f"the workflow's deploy exited {exit_code}:\n{output.getvalue()[-2000:]}")
        calls = [_first_success(api.requests(), operation) for _, operation in STEPS]
    ends = [call.at + seconds for call, seconds in zip(calls, steps, strict=True)]
    return DeployRun(ended - started, steps, calls[0].at - started, calls[1].at - ends[0], calls[2].at - ends[1],
                     ended - ends[2])


def _first_success(requests: Sequence[RecordedRequest], operation: str) -> RecordedRequest:
    for request in requests:
        if request.operation == operation and request.status_code == 200:
            return request
    raise BenchmarkError(f"the deploy made no successful {operation}")


def _rows(runs: Sequence[DeployRun]) -> list[Row]:
    name = "8 NeptuneMlWorkflow local deploy (processing, training, endpoint)"
    overhead = Summary.of([r.overhead for r in runs])
    share = Summary.of([r.overhead / r.seconds for r in runs]).scaled(100)
    pauses = (f"{LOCAL_HANDLER_SETTINGS[ENV_WAIT_FIRST_SECONDS]}-{LOCAL_HANDLER_SETTINGS[ENV_WAIT_MAX_SECONDS]} s")
    return [
        Row(name, "deploy wall time", Summary.of([r.seconds for r in runs]).describe("s")),
        Row(name, "simulated time: processing + training + creating",
            Summary.of([sum(r.steps) for r in runs]).describe("s")),
        Row(name, "overhead: wall time less simulated time", overhead.describe("s")
            + f"; {overhead.median / 3:.2f} s per resource; {share.median:.0f}% of the deploy (median)"),
        Row(name, "overhead part: start of deploy to processing Start", Summary.of([r.start_up for r in runs]).describe("s")),
        Row(name, f"overhead part: processing Completed to training Start (handler pauses {pauses})",
            Summary.of([r.after_processing for r in runs]).describe("s")),
        Row(name, "overhead part: training Completed to CreateMLEndpoint",
            Summary.of([r.after_training for r in runs]).describe("s")),
        Row(name, "overhead part: endpoint InService to the deploy's return",
            Summary.of([r.after_endpoint for r in runs]).describe("s")),
    ]
