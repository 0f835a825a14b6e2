"""Run every benchmark, print the markdown table and optionally write it with its context to a file.

    python -m benchmarks --output benchmarks/results.md     # the full run (make bench)
    python -m benchmarks --quick                            # few repetitions, for development
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from benchmarks import (
    cold_start,
    job_checks,
    job_delay,
    report_delay,
    synth_scaling,
    throttling,
    workflow_overhead,
    workflow_synth,
)
from benchmarks.table import MISSED, Row, render
from neptune_ml_endpoint.constructs.bundling import HANDLER_RUNTIME
from neptune_ml_endpoint.local.cloudformation.testing import LocalCloud

SYNTH_SIZES = (1, 10, 50)
WORKFLOW_SYNTH_SIZES = (1, 5, 20)


@dataclass(frozen=True)
class Plan:
    """How many repetitions each benchmark makes."""

    cold_start_runs: int
    synth_rounds: int
    cli_synth_rounds: int
    delay: report_delay.DelayPlan
    throttle: throttling.ThrottlePlan
    jobs: job_delay.JobDelayPlan
    workflow: workflow_overhead.WorkflowPlan

    @property
    def workers(self) -> int:
        """Lambda environments needed: every endpoint or job that waits at once, plus two for polls."""
        waiting = max(self.delay.endpoints + self.delay.long_create_endpoints, self.throttle.endpoints,
                      self.jobs.jobs + self.jobs.long_jobs)
        return waiting + 2


FULL = Plan(
    cold_start_runs=10,
    synth_rounds=5,
    cli_synth_rounds=2,
    delay=report_delay.DelayPlan(endpoints=10, in_invocation_seconds=(1.0, 21.0), polling_period=6.0,
                                 long_create_seconds=60.0, long_create_endpoints=2),
    throttle=throttling.ThrottlePlan(endpoints=8, creating_seconds=5.0, requests_per_second=2.0, repetitions=2),
    jobs=job_delay.JobDelayPlan(jobs=10, in_invocation_seconds=(1.0, 21.0), polling_period=6.0,
                                long_job_seconds=30.0, long_jobs=2),
    workflow=workflow_overhead.WorkflowPlan(runs=5),
)
QUICK = Plan(
    cold_start_runs=3,
    synth_rounds=1,
    cli_synth_rounds=1,
    delay=report_delay.DelayPlan(endpoints=3, in_invocation_seconds=(1.0, 8.0), polling_period=2.0,
                                 long_create_seconds=15.0, long_create_endpoints=1),
    throttle=throttling.ThrottlePlan(endpoints=4, creating_seconds=2.0, requests_per_second=2.0, repetitions=1),
    jobs=job_delay.JobDelayPlan(jobs=3, in_invocation_seconds=(1.0, 8.0), polling_period=2.0,
                                long_job_seconds=10.0, long_jobs=1),
    workflow=workflow_overhead.WorkflowPlan(runs=2),
)


def run(plan: Plan, worker_log: Path | None) -> list[Row]:
    """Every benchmark in turn; the CPU-heavy ones first, before the Lambda workers start."""
    rows = cold_start.run(plan.cold_start_runs)
    rows += synth_scaling.run(SYNTH_SIZES, plan.synth_rounds)
    rows += synth_scaling.run_cli(SYNTH_SIZES, plan.cli_synth_rounds)
    rows += workflow_synth.run(WORKFLOW_SYNTH_SIZES, plan.synth_rounds)
    rows += job_checks.run()
    with LocalCloud(workers=plan.workers, log_file=worker_log) as cloud:
        rows += report_delay.run(cloud, plan.delay) + throttling.run(cloud, plan.throttle)
        rows += job_delay.run(cloud, plan.jobs)
    rows += workflow_overhead.run(plan.workflow)  # the player, with its own Lambda environments
    return sorted(rows, key=lambda row: row.benchmark.split()[0])  # stable: 1a, 1b, 2, ..., 6a, 6b, 6c, 7, 8, 9


def describe_machine() -> tuple[str, str]:
    """CPU, memory, load and versions, for the results file."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kib = next((int(line.split()[1]) for line in _read_lines("/proc/meminfo")
                       if line.startswith("MemTotal:")), 0)
    memory = f"{memory_kib / 1024 ** 2:.0f} GiB" if memory_kib else "unknown"
    packages = ", ".join(f"{name} {version(name)}" for name in ("boto3", "botocore", "crhelper", "aws-cdk-lib"))
    return (f"{os.cpu_count()} x {cpu}, {memory} memory, {platform.system()} {platform.release()}",
            f"Python {platform.python_version()}; {packages}")


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def results_file(rows: Sequence[Row], plan: Plan, command: str, started: str, load_before: str,
                 load_after: str, seconds: float) -> str:
    """The results table with what it ran on and how many times each figure was measured."""
    machine, software = describe_machine()
    delay, throttle, jobs = plan.delay, plan.throttle, plan.jobs
    low, high = delay.in_invocation_seconds
    period = delay.polling_period
    notes = [
        (f"Machine: {machine}; shared with other work: load average {load_before} at the start, "
         f"{load_after} at the end."),
        f"Software: {software}. The Lambda runtime is {HANDLER_RUNTIME.name}; these runs use the Python above.",
        (f"Repetitions: cold start {plan.cold_start_runs} runs of each interpreter; synth "
         f"{plan.synth_rounds} rounds of {', '.join(map(str, SYNTH_SIZES))} endpoints after two warm-up synths "
         f"in-process, and {plan.cli_synth_rounds} rounds with the cdk CLI."),
        (f"Report delay: {delay.endpoints} endpoints per part, each created, updated (and in 1a deleted), "
         f"transition times spread over {low:g}-{high:g} s in 1a and {0.2 * period:g}-{2.2 * period:g} s "
         f"in 1b; {delay.long_create_endpoints} creates of {delay.long_create_seconds:g} s for the "
         "status-check rate."),
        (f"Polling in 1b: the rule fires every {period:g} s, standing for EventBridge's rate(1 minute); "
         "delays are given in polling periods."),
        (f"Throttling: {throttle.repetitions} waves of {throttle.endpoints} creates without a limit, "
         f"then {throttle.repetitions} with it."),
        (f"Jobs: {jobs.jobs} data processing jobs per part, processing times spread over "
         f"{jobs.in_invocation_seconds[0]:g}-{jobs.in_invocation_seconds[1]:g} s in 6a and "
         f"{0.2 * jobs.polling_period:g}-{2.2 * jobs.polling_period:g} s in 6b and 6c (polled every "
         f"{jobs.polling_period:g} s, standing for 60 s); {jobs.long_jobs} jobs of {jobs.long_job_seconds:g} s "
         "for the status-check rate."),
        (f"Workflow: {plan.workflow.runs} local deploys after one warm-up, processing "
         f"{'-'.join(map('{:g}'.format, workflow_overhead.PROCESSING_SECONDS))} s, training "
         f"{'-'.join(map('{:g}'.format, workflow_overhead.TRAINING_SECONDS))} s, creating "
         f"{'-'.join(map('{:g}'.format, workflow_overhead.CREATING_SECONDS))} s (spread over the runs); "
         f"synth {plan.synth_rounds} rounds of {', '.join(map(str, WORKFLOW_SYNTH_SIZES))} workflows after two "
         "warm-up synths."),
        "Results read: median (p90, min-max, n = number of samples).",
    ]
    header = f"`{command}` on {started}, {seconds / 60:.1f} minutes. How to read it: benchmarks/README.md."
    return "\n".join(["# Benchmark results", "", header, "", *[f"- {note}" for note in notes], "",
                      render(rows), ""])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions and short waits (development)")
    parser.add_argument("--output", type=Path, help="write the results (table and context) to this file")
    parser.add_argument("--worker-log", type=Path, help="file for the handler's logs (default: a temporary file)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started, load_before, clock = time.strftime("%Y-%m-%d %H:%M %Z"), load_average(), time.monotonic()
    rows = run(plan, args.worker_log)
    command = "python -m benchmarks --quick" if args.quick else "make bench"
    text = results_file(rows, plan, command, started, load_before, load_average(), time.monotonic() - clock)
    print(text)
    if args.output:
        args.output.write_text(text)
    missed = [f"{row.benchmark}: {row.measure}" for row in rows if row.verdict == MISSED]
    if missed:
        print("Targets missed:\n  " + "\n  ".join(missed))
    return 0
