"""The job resources' decisions, in milliseconds, against a fake client through the resource's seams.

The wire (crhelper, boto3 over HTTP, the local API) is covered by test_handler_jobs.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from neptune_ml_endpoint import schema

PROCESSING = {"NeptuneEndpoint": "https://cluster:8182", "InputDataS3Location": "s3://bucket/in/",
              "ProcessedDataS3Location": "s3://bucket/out/"}


@dataclass
class FakeJobs:
    """Start, Get and Cancel over a dict of job id -> status."""

    jobs: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    refuse_start: Any = None
    refuse_cancel: Any = None

    def get_job(self, kind: Any, job_id: str) -> Any:
        import neptune_data_client

        self.calls.append(("get", job_id))
        status = self.jobs.get(job_id)
        if status is None:
            return None
        stage = neptune_data_client.Stage(kind.main_stage, name=job_id, status=status, arn=f"arn:{job_id}",
                                          failure_reason="AlgorithmError: See job logs" if status == "Failed" else "",
                                          log_url=f"https://logs/{job_id}")
        return neptune_data_client.JobStatus(job_id, status, (stage,), kind.main_stage)

    def start_job(self, kind: Any, request: dict[str, Any]) -> Any:
        import neptune_data_client

        self.calls.append(("start", request["id"]))
        if self.refuse_start is not None:
            self.jobs.setdefault(request["id"], "InProgress")
            raise self.refuse_start
        self.jobs[request["id"]] = "InProgress"
        return neptune_data_client.Started(request["id"], f"arn:{request['id']}", 7)

    def cancel_job(self, kind: Any, job_id: str, clean: bool) -> bool:
        self.calls.append(("cancel-clean" if clean else "cancel", job_id))
        if self.refuse_cancel is not None:
            raise self.refuse_cancel
        if job_id not in self.jobs:
            return False
        self.jobs[job_id] = "Stopping"
        return True

    def started(self) -> list[str]:
        return [job_id for call, job_id in self.calls if call == "start"]


@dataclass
class FakeMarkers:
    markers: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.markers.get(name)

    def put(self, name: str, marker: Any) -> None:
        self.markers[name] = marker

    def remove(self, name: str) -> None:
        self.markers.pop(name, None)


@dataclass
class World:
    neptune: FakeJobs
    markers: FakeMarkers
    now: list[float]

    def resource(self, request_type: str = "Create", properties: dict[str, Any] | None = None, **event: Any) -> Any:
        import custom_resource
        import ml_job_resource

        request = custom_resource.Request(request_type, "stack-1", "Processing", event.pop("request_id", "request-1"),
                                          properties if properties is not None else PROCESSING,
                                          resource_type=schema.DATA_PROCESSING_TYPE, **event)
        return ml_job_resource.MlJobResource(request, lambda address, role: self.neptune,  # type: ignore[arg-type,return-value]
                                             self.markers, clock=lambda: self.now[0])

    def derived(self, properties: dict[str, Any] = PROCESSING, run: int = 1) -> str:
        import ml_job_resource

        spec = schema.parse_job_properties(schema.DATA_PROCESSING, properties)
        return str(ml_job_resource.derive_job_id("stack-1", "Processing", spec.configuration_key(), run))


@pytest.fixture
def world(handler_module: object) -> World:
    return World(FakeJobs(), FakeMarkers(), [1000.0])


def test_the_derived_id_depends_on_the_configuration_and_run_key_but_not_on_clean(world: World) -> None:
    base = world.derived()

    assert world.derived({**PROCESSING, "Clean": "true"}) == base
    assert world.derived({**PROCESSING, "RunKey": "v2"}) != base
    assert world.derived({**PROCESSING, "ProcessingInstanceType": "ml.r5.large"}) != base
    assert world.derived(run=2) != base


@pytest.mark.parametrize("status", ["InProgress", "Completed"])
def test_a_job_of_this_configuration_that_runs_or_completed_is_adopted(world: World, status: str) -> None:
    world.neptune.jobs[world.derived()] = status

    outcome = world.resource().start()

    assert outcome.resource_id == world.derived()
    assert world.neptune.started() == []


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_a_configuration_whose_run_ended_unsuccessfully_starts_its_next_run(world: World, status: str) -> None:
    world.neptune.jobs[world.derived()] = status

    outcome = world.resource().start()

    assert world.neptune.started() == [world.derived(run=2)] == [outcome.resource_id]


def test_a_start_refused_after_a_lost_answer_adopts_the_job_it_made(world: World) -> None:
    import neptune_data_client

    world.neptune.refuse_start = neptune_data_client.NeptuneApiError("StartMLDataProcessingJob", "BadRequestException",
                                                                     "exists", retried=True)
    outcome = world.resource().start()

    assert outcome.resource_id == world.derived()
    assert world.neptune.started() == [world.derived()]


def test_an_update_that_only_changes_clean_reads_the_job_once_and_starts_nothing(world: World) -> None:
    job_id = world.derived()
    world.neptune.jobs[job_id] = "Completed"

    outcome = world.resource("Update", {**PROCESSING, "Clean": "true"}, physical_id=job_id,
                             old_properties=PROCESSING).start()

    assert outcome.physical_id == job_id
    assert world.neptune.calls == [("get", job_id)]


def test_the_rollback_of_an_update_refused_for_its_properties_keeps_the_job(world: World) -> None:
    job_id = world.derived()
    world.neptune.jobs[job_id] = "Completed"

    outcome = world.resource("Update", PROCESSING, physical_id=job_id,
                             old_properties={**PROCESSING, "ProcessingInstanceType": "huge"}).start()

    assert outcome.physical_id == job_id
    assert world.neptune.started() == []


def test_a_rollback_after_a_replacement_returns_to_the_completed_job(world: World) -> None:
    old_id = world.derived()
    world.neptune.jobs[old_id] = "Completed"
    new = {**PROCESSING, "RunKey": "v2"}
    world.neptune.jobs[world.derived(new)] = "Failed"

    outcome = world.resource("Update", PROCESSING, physical_id=world.derived(new), old_properties=new).start()

    assert outcome.resource_id == old_id
    assert world.neptune.started() == []


def test_an_explicit_id_with_a_new_configuration_is_refused_without_a_call(world: World) -> None:
    import custom_resource

    named = {**PROCESSING, "Id": "nightly"}
    with pytest.raises(custom_resource.RequestFailed, match="jobs cannot be changed") as failed:
        world.resource("Update", {**named, "RunKey": "v2"}, physical_id="nightly", old_properties=named).start()

    assert failed.value.physical_id == "nightly"
    assert world.neptune.calls == []


def test_the_rollback_of_a_refused_change_under_an_explicit_id_keeps_the_job_its_marker_records(world: World) -> None:
    named = {**PROCESSING, "Id": "nightly"}
    world.resource("Create", named).start()
    world.neptune.jobs["nightly"] = "Completed"

    forward = world.resource("Update", {**named, "RunKey": "v2"}, physical_id="nightly", old_properties=named)
    import custom_resource

    with pytest.raises(custom_resource.RequestFailed, match="jobs cannot be changed"):
        forward.start()
    rollback = world.resource("Update", named, physical_id="nightly", old_properties={**named, "RunKey": "v2"})

    assert rollback.start().physical_id == "nightly"
    assert world.neptune.started() == ["nightly"]


def test_the_rollback_of_a_move_to_another_explicit_id_keeps_the_current_job(world: World) -> None:
    world.neptune.jobs["nightly"] = "Completed"
    named = {**PROCESSING, "Id": "nightly"}

    outcome = world.resource("Update", named, physical_id="nightly",
                             old_properties={**named, "Id": "taken", "RunKey": "v2"}).start()

    assert outcome.physical_id == "nightly"
    assert world.neptune.started() == []


def test_a_running_job_is_cancelled_when_the_service_timeout_is_nearly_up(world: World) -> None:
    import custom_resource

    resource = world.resource(properties={**PROCESSING, "ServiceTimeout": "600"})
    wait = resource.start()
    assert wait.give_up_at == 1000.0 + 600 - 120

    world.now[0] = wait.give_up_at - 1
    assert resource.check(wait) == wait
    world.now[0] = wait.give_up_at
    with pytest.raises(custom_resource.RequestFailed, match="ServiceTimeout was nearly up") as failed:
        resource.check(wait)

    assert failed.value.physical_id == wait.resource_id
    assert ("cancel", wait.resource_id) in world.neptune.calls


def test_a_short_service_timeout_keeps_back_a_quarter_of_it(world: World) -> None:
    wait = world.resource(properties={**PROCESSING, "ServiceTimeout": "40"}).start()

    assert wait.give_up_at == 1000.0 + 40 - 10


def test_a_failed_job_fails_the_request_with_the_nested_reason_and_log_url(world: World) -> None:
    import custom_resource

    resource = world.resource()
    wait = resource.start()
    world.neptune.jobs[wait.resource_id] = "Failed"

    with pytest.raises(custom_resource.RequestFailed) as failed:
        resource.check(wait)

    assert failed.value.reason == ("Create: data processing job ended Failed: processingJob: AlgorithmError: See "
                                   f"job logs (log: https://logs/{wait.resource_id})")


def test_a_failure_reason_keeps_a_whole_log_url_when_it_fits_and_drops_a_url_it_would_cut(world: World) -> None:
    import custom_resource
    import neptune_data_client

    limit = custom_resource.REASON_LIMIT - 50
    console = "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logStream:group=/aws/sagemaker/"

    def reason(failure: str, url: str) -> str:
        stage = neptune_data_client.Stage("hpoJob", "job-1", "Failed", failure_reason=failure, log_url=url)
        return neptune_data_client.JobStatus("job-1", "Failed", (stage,), "hpoJob").failure_reason(limit)

    url, giant_url = console + "x" * 40, console + "x" * 150
    short = reason("AlgorithmError: See job logs", url)
    long = reason("ResourceLimitExceeded: " + "y" * 300, url)
    no_room = reason("ResourceLimitExceeded: " + "y" * 300, giant_url)

    assert short == f"hpoJob: AlgorithmError: See job logs (log: {url})"
    assert long.startswith("hpoJob: ResourceLimitExceeded: yyy") and long.endswith(f"... (log: {url})")
    assert len(long) <= limit and len(long.split(" (log: ")[0]) >= 60
    assert "(log:" not in no_room and len(no_room) == limit


@pytest.mark.parametrize(("status", "calls"), [
    ("InProgress", ["get", "cancel-clean"]), ("Stopping", ["get"]), ("Completed", ["get"]), ("Failed", ["get"]),
    (None, ["get"]),
])
def test_delete_cancels_only_a_running_job(world: World, status: str | None, calls: list[str]) -> None:
    if status is not None:
        world.neptune.jobs["job-1"] = status

    outcome = world.resource("Delete", {**PROCESSING, "Clean": "true"}, physical_id="job-1").start()

    assert [call for call, _ in world.neptune.calls] == calls
    assert type(outcome).__name__ == ("Wait" if status in ("InProgress", "Stopping") else "Finished")


def test_a_cancel_refused_because_the_job_just_finished_looks_again(world: World) -> None:
    import neptune_data_client

    world.neptune.jobs["job-1"] = "InProgress"
    world.neptune.refuse_cancel = neptune_data_client.NeptuneApiError("CancelMLDataProcessingJob",
                                                                      "PreconditionsFailedException", "Completed")
    resource = world.resource("Delete", PROCESSING, physical_id="job-1")
    wait = resource.start()
    world.neptune.jobs["job-1"] = "Completed"

    assert type(resource.check(wait)).__name__ == "Finished"


def test_delete_with_properties_that_never_started_a_job_calls_nothing(world: World) -> None:
    outcome = world.resource("Delete", {"InputDataS3Location": "s3://bucket/in/"}, physical_id="job-1").start()

    assert outcome.physical_id == "job-1"
    assert world.neptune.calls == []


# --- waits past the hour: the watcher's decisions -------------------------------------------

LONG = {**PROCESSING, "CompletionSignalUrl": "https://bucket.s3.amazonaws.com/handle?sig=x",
        "CompletionTimeoutSeconds": "43200"}


@dataclass
class FakeScheduler:
    put_watches: list[Any] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def put(self, watch: Any, function_arn: str) -> None:
        self.put_watches.append(watch)

    def remove(self, rule_name: str, function_arn: str) -> None:
        self.removed.append(rule_name)


def _long_resource(world: World, scheduler: FakeScheduler, request_type: str = "Create",
                   properties: dict[str, Any] = LONG, **event: Any) -> Any:
    resource = world.resource(request_type, properties, **event)
    resource._scheduler = scheduler
    return resource


def test_with_a_completion_handle_create_answers_at_once_and_sets_up_the_watcher(world: World) -> None:
    scheduler = FakeScheduler()

    outcome = _long_resource(world, scheduler).start()

    assert type(outcome).__name__ == "Finished"
    [watch] = scheduler.put_watches
    assert (watch.job_id, watch.signal_url) == (outcome.physical_id, LONG["CompletionSignalUrl"])
    assert watch.give_up_at == 1000.0 + 43200 - 120
    assert watch.rule_name.startswith("Processingw") and len(watch.rule_name) == len("Processing") + 8
    assert outcome.attributes["OutputS3Location"] == "s3://bucket/out/"


def test_deleting_a_long_waited_job_removes_its_watcher_and_cancels_the_job(world: World) -> None:
    import job_watcher

    scheduler = FakeScheduler()
    world.neptune.jobs["job-1"] = "InProgress"

    _long_resource(world, scheduler, "Delete", physical_id="job-1").start()

    assert scheduler.removed == [job_watcher.watcher_rule_name("Processing", "job-1")]
    assert ("cancel", "job-1") in world.neptune.calls


def test_the_watcher_rule_name_never_matches_crhelpers_or_the_creation_markers() -> None:
    import creation_marker
    import job_watcher

    name = job_watcher.watcher_rule_name("Training", "job-1")
    assert name != creation_marker.marker_name("stack-1", "Training")
    assert name[len("Training")] == "w" and name[len("Training") + 1:].islower()


@pytest.mark.parametrize(("status", "signal", "cancelled"), [
    ("Completed", "SUCCESS", False), ("Failed", "FAILURE", False), ("Stopped", "FAILURE", False),
    ("Stopping", "FAILURE", False), (None, "FAILURE", False), ("InProgress", None, False),
])
def test_a_tick_signals_once_the_job_has_ended(world: World, status: str | None, signal: str | None,
                                               cancelled: bool) -> None:
    import job_watcher

    sent: list[tuple[str, ...]] = []
    cancels: list[str] = []
    watch = job_watcher.Watch(schema.DATA_PROCESSING_TYPE, "Processing", "job-1", "https://c:8182", "", "https://h",
                              give_up_at=2000.0)
    if status is not None:
        world.neptune.jobs["job-1"] = status
    import ml_job_resource

    result = job_watcher.tick(watch, lambda: world.neptune.get_job(ml_job_resource.DATA_PROCESSING, "job-1"),
                              lambda: cancels.append("job-1"), lambda *args: sent.append(args), clock=lambda: 1999.0)

    assert result.signal == signal
    assert [args[1] for args in sent] == ([signal] if signal else [])
    assert all(args[3] == args[4] == "job-1" for args in sent)
    assert cancels == []


def test_a_tick_after_the_give_up_time_cancels_the_job_and_signals_failure(world: World) -> None:
    import job_watcher
    import ml_job_resource

    world.neptune.jobs["job-1"] = "InProgress"
    sent: list[tuple[str, ...]] = []
    cancels: list[str] = []
    watch = job_watcher.Watch(schema.DATA_PROCESSING_TYPE, "Processing", "job-1", "https://c:8182", "", "https://h",
                              give_up_at=2000.0)

    result = job_watcher.tick(watch, lambda: world.neptune.get_job(ml_job_resource.DATA_PROCESSING, "job-1"),
                              lambda: cancels.append("job-1"), lambda *args: sent.append(args), clock=lambda: 2000.0)

    assert (result.signal, cancels) == ("FAILURE", ["job-1"])
    assert "nearly up, so it was cancelled" in sent[0][2]


def test_a_completion_handle_without_its_timeout_is_refused_before_any_call(world: World) -> None:
    import custom_resource

    properties = {k: v for k, v in LONG.items() if k != "CompletionTimeoutSeconds"}
    with pytest.raises(custom_resource.RequestFailed, match="CompletionTimeoutSeconds: must be given together"):
        _long_resource(world, FakeScheduler(), properties=properties).start()
    assert world.neptune.calls == []


def test_a_long_wait_on_a_job_already_completed_signals_at_once_without_a_watcher(world: World) -> None:
    scheduler, sent = FakeScheduler(), []
    world.neptune.jobs[world.derived()] = "Completed"
    resource = _long_resource(world, scheduler)
    resource._signal = lambda *args: sent.append(args)

    outcome = resource.start()

    assert outcome.physical_id == world.derived()
    assert scheduler.put_watches == []
    assert [(args[1], args[3]) for args in sent] == [("SUCCESS", world.derived())]
