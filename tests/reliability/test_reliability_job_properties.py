"""Random CloudFormation requests for the three job resource types: each answered once; one job per
configuration; no job left running that CloudFormation does not know of; a taken job never cancelled.

Each example plays one job resource (data processing, model training or model transform) through the
player's engine: a Create (valid, failing, invalid, under an explicit Id, under an Id a job made by
hand has taken) or a resource known only by a random PhysicalResourceId, then up to three updates
(a changed configuration, a new RunKey, Clean alone, a failing configuration, invalid properties, a
new or taken Id, a changed configuration under the same Id) or a delete, with CloudFormation's
rollbacks and cleanups, and at the end the stack's deletion. Its pace is one of:

    quick      jobs end within the first invocation
    polled     the first invocation hands over to crhelper's polling, which answers
    watched    CompletionSignalUrl: the resource answers once its job started; jobs run past the example,
               so every Delete and cleanup meets a running job
    overrun    ServiceTimeout 1 and a job running longer: the Create cancels it and fails, and is rolled back

After every answer: at most one job started (none by a Delete); a configuration whose job completed
is never started again (a rollback returns to its job); a job this request started that the answer
does not name is not running; a Delete answered SUCCESS leaves its job not running; a FAILED Reason
names a property, the job's failure, a taken id, an API call or a limit. After the example: no job of
the resource running, no job made by hand cancelled, no polling or watcher rule left, and every
request answered exactly once.

The number of examples is the hypothesis profile of test_reliability_properties.py (RELIABILITY_PROFILE).
"""

from __future__ import annotations

import string
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from handler_driver import CloudFormation
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reliability_events import odd_values, physical_ids
from reliability_figures import FiguresFile
from reliability_jobs import (
    HANDOVER_SECONDS,
    KINDS,
    PROCESSING,
    RUNNING,
    TRAINING,
    TRANSFORM,
    CheckedJobPlayer,
    JobKind,
    JobLedger,
    base_properties,
    cancel_by_hand,
    completed_prerequisites,
    deliver_polls_until_done,
    is_job_id,
    job_timings,
    polling_rules,
    reason_kind,
    start_by_hand,
    wait_until,
    watcher_rules,
)
from reliability_support import Answered, fast_api, lambda_function
from test_reliability_properties import EXAMPLES, PROFILE

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.contract.jobs import JOB_CONTRACTS
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState

PACES = ("quick", "quick", "quick", "polled", "polled", "watched", "watched", "overrun")
OVERRUN_JOB_SECONDS = 1.5
"""Longer than ServiceTimeout 1 less the handler's margin (a quarter of it): the Create gives up first."""
WATCHED_TIMEOUT = "43200"
CONFIG_FIELD = {PROCESSING: "ProcessingInstanceType", TRAINING: "TrainingInstanceType",
                TRANSFORM: "BaseProcessingInstanceType"}
INSTANCE_TYPES = ("ml.r5.large", "ml.r5.xlarge", "ml.m5.2xlarge")
FIRST_KINDS = ("valid", "valid", "valid", "failing", "invalid", "explicit id", "taken id", "known")
CHANGES = ("config", "config", "run key", "clean", "failing", "invalid", "new id", "drop id", "taken id",
           "same id changed", "delete")


@dataclass(frozen=True)
class Change:
    """One change of the properties (or a delete), with the values it needs."""

    name: str
    value: Any = None
    target: str = ""


@dataclass(frozen=True)
class JobHistory:
    kind: JobKind
    pace: str
    logical_id: str
    first: Change
    extras: tuple[tuple[str, str], ...] = ()
    """Optional properties of the first request (Clean, RunKey, an instance type)."""
    steps: tuple[Change, ...] = ()
    known_physical_id: str = ""


def _change(name: str) -> st.SearchStrategy[Change]:
    if name == "config":
        return st.builds(lambda v: Change(name, v), st.sampled_from(INSTANCE_TYPES))
    if name == "run key":
        return st.builds(lambda v: Change(name, v), st.one_of(st.text(string.ascii_letters + "-.:", min_size=1,
                                                                       max_size=20), st.text(max_size=12)))
    if name == "clean":
        return st.builds(lambda v: Change(name, v), st.sampled_from(["true", "false", "TRUE", "yes"]))
    if name == "invalid":
        return st.one_of(
            st.builds(lambda target, value: Change(name, value, target),
                      st.sampled_from(sorted({p for c in JOB_CONTRACTS.values() for p in c.property_names})),
                      odd_values),
            st.builds(lambda key, value: Change(name, value, key), st.text(min_size=1, max_size=30), odd_values),
        )
    return st.just(Change(name))


@st.composite
def job_histories(draw: st.DrawFn) -> JobHistory:
    kind = draw(st.sampled_from(KINDS))
    pace = draw(st.sampled_from(PACES))
    short = st.text(string.ascii_letters + string.digits, min_size=1, max_size=16)
    long = st.text(string.ascii_letters + string.digits, min_size=40, max_size=80)
    # A watched job's logical id stays short: past 56 characters its watcher cannot be set up
    # (test_a_long_logical_id_with_a_completion_handle_fails_before_starting_a_job, a known bug).
    logical_id = draw(short if pace == "watched" else st.one_of(short, long))
    first_name = draw(st.sampled_from(FIRST_KINDS))
    first = draw(_change(first_name)) if first_name != "known" else Change("known")
    known = draw(st.one_of(physical_ids, st.just("Job-0123456789ab"))) if first_name == "known" else ""
    extras = []
    for name, values in (("Clean", ["true", "false"]), ("RunKey", ["2026-12-01", "v2"]),
                         (CONFIG_FIELD[kind], list(INSTANCE_TYPES))):
        if draw(st.booleans()):
            extras.append((name, draw(st.sampled_from(values))))
    steps = [] if pace == "overrun" else draw(st.lists(st.sampled_from(CHANGES).flatmap(_change), max_size=3))
    if "delete" in [step.name for step in steps]:
        steps = steps[: [step.name for step in steps].index("delete") + 1]
    return JobHistory(kind, pace, logical_id, first, tuple(extras), tuple(steps), known)


# The cases the invariants are about, always run: a rollback to a completed job, a running job deleted by
# the cleanup of its replacement, a taken running job, an overrun create rolled back.
ALWAYS = (
    JobHistory(TRAINING, "quick", "Retrain", Change("valid"), steps=(Change("failing"), Change("config", "ml.r5.xlarge"))),
    JobHistory(PROCESSING, "watched", "Nightly", Change("valid"), steps=(Change("run key", "v2"), Change("clean", "true"))),
    JobHistory(TRANSFORM, "watched", "Taken", Change("taken id"), steps=()),
    JobHistory(PROCESSING, "overrun", "Overrun", Change("valid")),
    JobHistory(TRANSFORM, "polled", "Polled", Change("explicit id"), steps=(Change("same id changed"), Change("new id"))),
)


@dataclass
class JobTally:
    """What the examples saw, for the report."""

    examples: int = 0
    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    jobs_started: int = 0
    most_starts_per_request: int = 0
    rollbacks_to_a_completed_job: int = 0
    deletes_of_running_jobs: int = 0
    running_jobs_left: int = 0
    taken_jobs_cancelled: int = 0
    invariant_checks: int = 0
    largest_answer_bytes: int = 0
    paces: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def job_function(handler_module: ModuleType, receiver: ResponseReceiver,
                 stubs: LocalCloudStubs) -> Iterator[tuple[CloudFormation, dict[str, str]]]:
    """One local API and function environment for every example (two attempts per call), and the completed
    processing and training jobs the training and transform resources name."""
    with fast_api() as api, pytest.MonkeyPatch.context() as patch:
        api.timings = job_timings()
        function = lambda_function(patch, handler_module, receiver, stubs, api, **{schema.ENV_MAX_ATTEMPTS: "2"})
        yield function, completed_prerequisites(api)


@pytest.fixture(scope="module")
def tally(figures: FiguresFile) -> Iterator[JobTally]:
    counted = JobTally()
    yield counted
    figures.record("job_properties", profile=PROFILE, max_examples=EXAMPLES, examples_run=counted.examples,
                   requests=counted.requests, succeeded=counted.succeeded, failed=counted.failed,
                   jobs_started=counted.jobs_started, most_starts_per_request=counted.most_starts_per_request,
                   rollbacks_to_a_completed_job=counted.rollbacks_to_a_completed_job,
                   deletes_of_running_jobs=counted.deletes_of_running_jobs,
                   running_jobs_left=counted.running_jobs_left, taken_jobs_cancelled=counted.taken_jobs_cancelled,
                   invariant_checks=counted.invariant_checks, largest_answer_bytes=counted.largest_answer_bytes,
                   paces=dict(sorted(counted.paces.items())), kinds=dict(sorted(counted.kinds.items())),
                   reasons=dict(sorted(counted.reasons.items())))


class Example:
    """One example's resource: its properties as they change, and the invariants checked on every answer."""

    counter = 0

    def __init__(self, function: CloudFormation, prerequisites: dict[str, str], history: JobHistory,
                 tally: JobTally) -> None:
        Example.counter += 1
        self.n = Example.counter
        self.function, self.api, self.history, self.kind, self.tally = (function, function.api, history,
                                                                        history.kind, tally)
        self.prerequisites = prerequisites
        self.logical_id = f"J{self.n}{history.logical_id}"[:255]
        self.ledger = JobLedger(self.api, self.kind, since=len(self.api.requests()))
        self.taken: dict[str, str] = {}
        """Ids of jobs made by hand that a request named as its Id, and their status then."""
        self.completed: dict[str, str] = {}
        """Configuration key -> the job that completed it."""
        self.player = CheckedJobPlayer(function, self.logical_id, resource_type=self.kind.resource_type,
                                       after_each_answer=self.check, first_invocation=self.first_invocation,
                                       ledger=self.ledger)

    # --- properties -------------------------------------------------------------------------------------

    def first_properties(self) -> dict[str, Any]:
        properties = base_properties(self.kind, self.api.url, self.prerequisites) | dict(self.history.extras)
        if self.history.pace == "watched":
            properties |= {"CompletionSignalUrl": self.function.receiver.url_for(f"handle-{self.n}"),
                           "CompletionTimeoutSeconds": WATCHED_TIMEOUT}
        if self.history.pace == "overrun":
            properties["ServiceTimeout"] = "1"
        return self.changed(properties, self.history.first)

    def changed(self, properties: dict[str, Any], change: Change) -> dict[str, Any]:
        new = dict(properties)
        name = change.name
        if name == "config":
            new[CONFIG_FIELD[self.kind]] = change.value
        elif name == "run key":
            new["RunKey"] = change.value
        elif name == "clean":
            new["Clean"] = change.value
        elif name == "failing":
            new[self.kind.output_property] = f"s3://bucket/failing-{self.n}/"
        elif name == "invalid":
            new[change.target] = change.value
        elif name == "explicit id" or name == "new id":
            new["Id"] = f"job-{self.n}-{len(self.player.answers)}"
        elif name == "drop id":
            new.pop("Id", None)
        elif name == "taken id":
            taken = f"hand-{self.n}-{len(self.taken)}"
            start_by_hand(self.api, self.kind, taken, self.prerequisites, completed=self.history.pace != "watched")
            self.ledger.by_hand.add(taken)
            self.taken[taken] = str(self.api.job_status(self.kind.api_kind, taken))
            new["Id"] = taken
        elif name == "same id changed":
            new.setdefault("Id", f"job-{self.n}-same")
            new[self.kind.output_property] = f"s3://bucket/changed-{self.n}/"
        return new

    def first_invocation(self, event: dict[str, Any]) -> float | None:
        return HANDOVER_SECONDS if self.history.pace == "polled" else None

    # --- the invariants of every answer -------------------------------------------------------------------

    def check(self, answered: Answered, started: list[str]) -> None:
        event, answer, tally = answered.event, answered.answer, self.tally
        request_type, physical_id = event["RequestType"], answered.physical_id
        checks = 0
        assert len(started) <= 1, f"{request_type} started {started}"
        checks += 1
        if request_type == "Delete":
            assert started == [], f"a Delete started {started}"
            checks += 1
        configuration = self.kind.configuration(event["ResourceProperties"])
        if request_type != "Delete" and configuration in self.completed:
            # One job per configuration: a configuration whose job completed is never started again.
            assert started == [], f"configuration of completed {self.completed[configuration]} started again"
            if answered.succeeded:
                assert physical_id == self.completed[configuration]
                tally.rollbacks_to_a_completed_job += request_type == "Update"
            checks += 1
        for job_id in started:  # a job CloudFormation is not told of must not run on
            if job_id != physical_id:
                assert self.ledger.status(job_id) != "InProgress", f"{job_id} runs, and the answer names {physical_id}"
                checks += 1
        if request_type == "Delete" and answered.succeeded and is_job_id(physical_id):
            status = self.ledger.status(physical_id)
            if physical_id not in self.ledger.by_hand:
                assert status not in RUNNING, f"Delete answered SUCCESS with {physical_id} {status}"
                checks += 1
        if not answered.succeeded:
            kind = reason_kind(self.kind, answer["Reason"])
            assert kind is not None, f"a Reason naming nothing known: {answer['Reason']!r}"
            tally.reasons[kind] += 1
            checks += 1
        elif request_type != "Delete" and configuration is not None and self.ledger.status(physical_id) == "Completed":
            self.completed[configuration] = physical_id
        tally.invariant_checks += checks

    def count_running_deletes(self) -> None:
        """How many Deletes met a running job (the API answered its Cancel)."""
        self.tally.deletes_of_running_jobs += sum(
            1 for r in self.api.requests()[self.ledger.since:]
            if r.operation == self.kind.cancel and r.status_code == 200 and r.endpoint_id not in self.ledger.by_hand)


@settings(settings.get_profile(PROFILE))
@given(history=job_histories())
@example(history=ALWAYS[0])
@example(history=ALWAYS[1])
@example(history=ALWAYS[2])
@example(history=ALWAYS[3])
@example(history=ALWAYS[4])
def test_job_requests_are_answered_once_start_one_job_per_configuration_and_leave_none_running(
        job_function: tuple[CloudFormation, dict[str, str]], tally: JobTally, history: JobHistory) -> None:
    function, prerequisites = job_function
    api = function.api
    api.timings = job_timings(OVERRUN_JOB_SECONDS if history.pace == "overrun"
                              else 30.0 if history.pace == "watched" else 0.02)
    run = Example(function, prerequisites, history, tally)
    player = run.player
    running_left: list[str] = []
    try:
        properties = run.first_properties()
        state: ResourceState | None
        if history.first.name == "known":
            state = player.resource(history.known_physical_id, properties)
        else:
            state = player.create(properties)
        for step in history.steps:
            if state is None:
                break
            if step.name == "delete":
                player.delete(state)
                state = None
                break
            properties = run.changed(properties, step)
            state = player.update(state, properties)
        if state is not None:
            player.delete(state)  # the stack's deletion
        deliver_polls_until_done(function)

        # Nothing of the resource runs on: Deletes answer once their job stopped, so Stopping is gone soon.
        assert [job for job in run.ledger.running() if api.job_status(history.kind.api_kind, job) == "InProgress"] == []
        wait_until(lambda: run.ledger.running() == [], limit=2.0, what="every job of the resource stopped")
        running_left = run.ledger.running()
        for taken, status in run.taken.items():  # a job the stack did not make is never cancelled
            assert taken not in run.ledger.cancels(), f"{taken} was cancelled"
            if status == "InProgress":
                assert api.job_status(history.kind.api_kind, taken) == "InProgress"
        assert [rule.name for rule in watcher_rules(function) if rule.name.startswith(run.logical_id)] == []
        assert polling_rules(function) == []
        tally.invariant_checks += 4 + len(run.taken)
    finally:
        tally.examples += 1
        tally.paces[history.pace] += 1
        tally.kinds[history.kind.api_kind] += 1
        tally.requests += len(player.answers)
        tally.succeeded += sum(answered.succeeded for answered in player.answers)
        tally.failed += sum(not answered.succeeded for answered in player.answers)
        tally.jobs_started += sum(len(started) for started in player.started)
        tally.most_starts_per_request = max([tally.most_starts_per_request, *map(len, player.started)])
        tally.largest_answer_bytes = max([tally.largest_answer_bytes, *(a.size for a in player.answers)])
        tally.running_jobs_left += len(running_left)
        tally.taken_jobs_cancelled += len(set(run.taken) & set(run.ledger.cancels()))
        run.count_running_deletes()
        _stop_leftovers(function, run)
    time.sleep(0.05)  # a late second answer would have arrived by now
    for answered in player.answers:  # nothing answered late, or twice
        assert len(function.receiver.records(function.key_of(answered.event))) == 1
    tally.invariant_checks += len(player.answers)


def _stop_leftovers(function: CloudFormation, run: Example) -> None:
    """After a failed example: cancel what it left running and remove its rules, so later examples start clean."""
    for job_id in run.ledger.running():
        if function.api.job_status(run.kind.api_kind, job_id) == "InProgress":
            cancel_by_hand(function.api, run.kind, job_id)
    if any(rule.name.startswith(run.logical_id) for rule in [*watcher_rules(function), *polling_rules(function)]):
        function.stubs.reset()


LONG_LOGICAL_ID = "NightlyProcessing" + "X" * 43
"""60 characters: CloudFormation allows 255; the watcher's EventBridge rule name (logical id + 8) allows 56."""


def test_a_long_logical_id_with_a_completion_handle_is_watched_or_refused_before_a_job_starts(
        job_function: tuple[CloudFormation, dict[str, str]]) -> None:
    function, _ = job_function
    api = function.api
    api.timings = job_timings(30.0)
    ledger = JobLedger(api, PROCESSING, since=len(api.requests()))
    player = CheckedJobPlayer(function, LONG_LOGICAL_ID, resource_type=PROCESSING.resource_type, ledger=ledger)
    properties = base_properties(PROCESSING, api.url, {}) | {
        "CompletionSignalUrl": function.receiver.url_for("handle-long-logical-id"),
        "CompletionTimeoutSeconds": WATCHED_TIMEOUT}
    try:
        state = player.create(properties)
        if state is not None:
            player.delete(state)
    finally:
        for job_id in ledger.running():
            if api.job_status(PROCESSING.api_kind, job_id) == "InProgress":
                cancel_by_hand(api, PROCESSING, job_id)
        api.timings = job_timings()

    [created] = player.answers[:1]
    if created.succeeded:
        assert len(ledger.starts()) == 1
    else:  # refused for the logical id's length, before anything started
        assert ledger.starts() == [], f"started {ledger.starts()} before failing: {created.answer['Reason']}"
        assert "logical id" in created.answer["Reason"]
