"""Benchmarks 6 and the measured half of 7: how long after a job is Completed CloudFormation hears of
it, and how many status checks the waiting costs.

Every job is a data processing job (Custom::NeptuneMlDataProcessingJob; the three job types share
the waiting code), started by a Create through the handler in LocalCloud's warm environments.
A job is Completed at its StartMLDataProcessingJob's arrival at the local API plus the processing
time the API was set to (steps that set it run one at a time, as in lifecycle.py).

(a) Completed within one invocation: Lambda's full 15 minutes, the handler's default pauses
    (1 s growing 1.5x to 4 s); processing times spread so every phase of that schedule is hit.
(b) Handed over to crhelper's polling: the first invocation has 5 s left (under the safety
    margin), so it starts the job and hands over at once; the rule fires every `period` seconds
    (ScaledRateSchedule), standing for EventBridge's rate(1 minute).
(c) Watched (a timeout over an hour): the resource has a CompletionSignalUrl, answers once the
    job has started, and the watcher rule, fired as in (b), signals the handle (here a receiver
    URL) when the job has ended; the delay is to the signal's arrival. (b) and (c) run together,
    under one schedule.
Status checks: GetMLDataProcessingJob calls for the job after its Start, up to its answer (or
signal); each job of (a) is compared with the count job_checks.py computes for its length, and
long jobs beside (a) give the rate within one invocation.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from benchmarks import job_checks
from benchmarks.eventbridge_schedule import ScaledRateSchedule
from benchmarks.lifecycle import START_TIMEOUT, BenchmarkError
from benchmarks.report_delay import (
    HAND_OVER_INVOCATION_SECONDS,
    IN_INVOCATION_TARGET_SECONDS,
    REAL_POLLING_PERIOD_SECONDS,
)
from benchmarks.stats import Summary, spread
from benchmarks.table import Row, verdict
from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import RecordedRequest
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceRequest,
    custom_resource_event,
)
from neptune_ml_endpoint.local.cloudformation.testing import SERVICE_TOKEN, STACK_ID, LocalCloud

START, STATUS = "StartMLDataProcessingJob", "GetMLDataProcessingJob"
WATCH_TIMEOUT_SECONDS = 7200
"""The CompletionTimeoutSeconds of watched jobs: a two-hour WaitCondition."""


@dataclass(frozen=True)
class JobDelayPlan:
    """How many jobs each part runs and for how long."""

    jobs: int
    in_invocation_seconds: tuple[float, float]
    polling_period: float
    long_job_seconds: float
    long_jobs: int


@dataclass(frozen=True)
class JobTiming:
    """One job: when it started and completed, when CloudFormation (or the handle) heard, and the checks."""

    job_id: str
    seconds: float
    started_at: float
    completed_at: float
    answered_at: float
    status_checks: int
    checks_after_completion: int

    @property
    def delay(self) -> float:
        return self.answered_at - self.completed_at

    @property
    def waited(self) -> float:
        return self.answered_at - self.started_at


class JobRunner:
    """Creates processing jobs through the handler and times their answers against the API's clock.

    Every runner shares one lock around setting the processing time and the job's Start, so runners
    used at once (6b and 6c) each get their jobs' own times."""

    _timings_lock = threading.Lock()

    def __init__(self, cloud: LocalCloud, first_invocation_seconds: float = LocalCloud.LAMBDA_TIMEOUT_SECONDS,
                 answer_timeout: float = 180.0, watched: bool = False) -> None:
        self.cloud = cloud
        self.first_invocation_seconds = first_invocation_seconds
        self.answer_timeout = answer_timeout
        self.watched = watched

    def run_all(self, prefix: str, seconds: Sequence[float]) -> list[JobTiming]:
        with ThreadPoolExecutor(max_workers=max(1, len(seconds))) as threads:
            futures = [threads.submit(self.run, f"{prefix}{number}", value)
                       for number, value in enumerate(seconds, start=1)]
            return [future.result() for future in futures]

    def run(self, name: str, seconds: float) -> JobTiming:
        cloud = self.cloud
        logical_id = f"Processing{name}"
        signal_key = f"signal|{name}|{uuid.uuid4()}"
        properties = {"ServiceToken": SERVICE_TOKEN, "NeptuneEndpoint": cloud.api.url,
                      "InputDataS3Location": "s3://bench/export/",
                      "ProcessedDataS3Location": f"s3://bench/{name}/processed/"}
        if self.watched:
            properties |= {"CompletionSignalUrl": cloud.receiver.url_for(signal_key),
                           "CompletionTimeoutSeconds": str(WATCH_TIMEOUT_SECONDS)}
        request_id = str(uuid.uuid4())
        request = CustomResourceRequest("Create", logical_id, schema.DATA_PROCESSING_TYPE, SERVICE_TOKEN,
                                        properties, None, None, request_id)
        event = custom_resource_event(request, STACK_ID, request_id,
                                      cloud.receiver.url_for(cloud.cloudformation.key(logical_id, request_id)))
        with JobRunner._timings_lock:
            cloud.api.timings.processing = seconds
            cloud.invoke(event, self.first_invocation_seconds)
            start = _wait_for_start(cloud, logical_id)
        answer = cloud.answer(event, seconds + self.answer_timeout)
        if answer.body.get("Status") != "SUCCESS":
            raise BenchmarkError(f"Create of {logical_id} answered {answer.body}")
        answered_at = answer.received_at
        if self.watched:
            cloud.receiver.wait_for(signal_key, seconds + self.answer_timeout)
            signal = cloud.receiver.records(signal_key)[0]
            if signal.body.get("Status") != "SUCCESS":
                raise BenchmarkError(f"the watcher of {logical_id} signalled {signal.body}")
            answered_at = signal.received_at
        job_id = str(start.endpoint_id)
        completed_at = start.at + seconds
        checks = [call.at for call in cloud.api_calls(job_id, STATUS) if start.at < call.at <= answered_at]
        return JobTiming(job_id, seconds, start.at, completed_at, answered_at, len(checks),
                         sum(1 for at in checks if at > completed_at))


def _wait_for_start(cloud: LocalCloud, logical_id: str) -> RecordedRequest:
    """The job's successful Start call (derived job ids begin with the logical id)."""
    end = time.monotonic() + START_TIMEOUT
    while True:
        for call in cloud.api_calls(operation=START):
            if call.status_code == 200 and str(call.endpoint_id).startswith(f"{logical_id}-"):
                return call
        if time.monotonic() > end:
            raise TimeoutError(f"{START} for {logical_id} did not happen within {START_TIMEOUT} s")
        time.sleep(0.01)


def run(cloud: LocalCloud, plan: JobDelayPlan) -> list[Row]:
    """(a) with the long jobs beside it, then (b) and (c) together under one schedule; the table rows."""
    in_invocation = JobRunner(cloud)
    with ThreadPoolExecutor(max_workers=1) as threads:
        beside = threads.submit(in_invocation.run_all, "Long", [plan.long_job_seconds] * plan.long_jobs)
        part_a = in_invocation.run_all("Ready", spread(plan.jobs, *plan.in_invocation_seconds))
        long_jobs = beside.result()
    period = plan.polling_period
    times = spread(plan.jobs, 0.2 * period, 2.2 * period)
    timeout = period * 3 + 60
    polled = JobRunner(cloud, HAND_OVER_INVOCATION_SECONDS, timeout)
    watched = JobRunner(cloud, answer_timeout=timeout, watched=True)
    with ScaledRateSchedule(cloud, period), ThreadPoolExecutor(max_workers=1) as threads:
        beside = threads.submit(watched.run_all, "Watched", times[::-1])
        part_b = polled.run_all("Polled", times)
        part_c = beside.result()
    return (_in_invocation_rows(part_a) + _period_rows("6b job answer delay, polled", part_b, period, "answer")
            + _period_rows("6c job completion signal delay, watcher", part_c, period,
                           "the handle's signal")
            + _check_rows(part_a, long_jobs, part_b, part_c, period))


def _in_invocation_rows(jobs: Sequence[JobTiming]) -> list[Row]:
    delays = Summary.of([job.delay for job in jobs])
    longest = job_checks.default_settings().max_pause
    return [Row("6a job answer delay, completed within one invocation", "Create: Completed to answer",
                f"{delays.describe('s')}; median {delays.median / longest:.2f}, worst {delays.high / longest:.2f} "
                f"of the {longest:g} s longest pause", f"< {IN_INVOCATION_TARGET_SECONDS:g} s (max)",
                verdict(delays.high < IN_INVOCATION_TARGET_SECONDS))]


def _period_rows(name: str, jobs: Sequence[JobTiming], period: float, heard: str) -> list[Row]:
    in_periods = Summary.of([job.delay for job in jobs]).scaled(1 / period)
    first = sum(1 for job in jobs if job.checks_after_completion == 1)
    return [Row(f"{name} every {period:g} s (standing for 60 s)", f"Completed to {heard}, in polling periods",
                f"{in_periods.describe('periods')}; by the first check after Completed: {first} of {len(jobs)}",
                "< 1 period: the first check after Completed answers", verdict(first == len(jobs)))]


def _check_rows(ready: Sequence[JobTiming], long_jobs: Sequence[JobTiming], polled: Sequence[JobTiming],
                watched: Sequence[JobTiming], period: float) -> list[Row]:
    name = "7 job status checks while waiting (measured)"
    differences = [job.status_checks - job_checks.count(job.seconds / 60).in_invocation for job in ready]
    matched = sum(1 for difference in differences if difference == 0)
    per_minute = Summary.of([job.status_checks / (job.waited / 60) for job in long_jobs])
    real = REAL_POLLING_PERIOD_SECONDS
    rows = [
        Row(name, "in one invocation (6a): checks against the schedule's count for the job's length",
            f"equal in {matched} of {len(ready)} jobs; measured less computed: {min(differences)} to "
            f"{max(differences)}"),
        Row(name, f"in one invocation (jobs of {long_jobs[0].seconds:g} s), per job-minute",
            per_minute.describe("", 1) + f" = {per_minute.median * 60:.0f} per job-hour"),
    ]
    for label, jobs in (("handed over to polling (6b)", polled), ("watcher (6c)", watched)):
        per_period = Summary.of([job.status_checks / (job.waited / period) for job in jobs])
        rows.append(Row(name, f"{label}, per polling period",
                        per_period.describe("", 2)
                        + f" = {per_period.median * 3600 / real:.0f} per job-hour at EventBridge's {real:g} s"))
    return rows
