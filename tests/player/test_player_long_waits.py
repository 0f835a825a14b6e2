"""Waits past the custom resource's hour through the player: a training job several times longer than its
resource's ServiceTimeout holds the stack at its WaitCondition until the watcher signals it."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import pytest
from player_support import LocalDeployment

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings

STACK_NAME = "PlayerJobs"
TRAINING_SECONDS = 3.0
"""Longer than the job resource's ServiceTimeout in the long-wait versions (2 s)."""
OUTLASTING_SECONDS = 120.0
"""A training that outlasts every wait of a test: it must be cancelled."""


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    timings = Timings(creating=0.3, updating=0.3, deleting=0.2, processing=0.3, training=TRAINING_SECONDS,
                      transform=0.3, stopping=0.2)
    with LocalNeptuneMlApi(timings=timings) as started:
        yield started


def resources(deployment: LocalDeployment) -> dict[str, dict[str, object]]:
    path = deployment.state_dir / "state.json"
    found: dict[str, dict[str, object]] = json.loads(path.read_text())["deployment"]["stacks"][STACK_NAME]["resources"]
    return found


def physical_id(deployment: LocalDeployment, construct: str) -> str:
    """The physical id of the job or endpoint resource of a construct ("Training", "Endpoint")."""
    [value] = [str(state["physical_id"]) for lid, state in resources(deployment).items()
               if lid.startswith(construct) and state["resource_type"].startswith("Custom::")]
    return value


def running(api: LocalNeptuneMlApi) -> list[str]:
    return [job for kind in ("dataprocessing", "modeltraining") for job in api.job_ids(kind)
            if api.job_status(kind, job) in ("InProgress", "Stopping")]


def test_the_stack_waits_at_the_wait_condition_until_the_long_training_completed(jobs: LocalDeployment) -> None:
    played = jobs.deploy("LongWait")

    assert played.exit_code == 0, played.output
    training = physical_id(jobs, "Training")
    assert jobs.api.job_status("modeltraining", training) == "Completed"
    assert jobs.api.status(physical_id(jobs, "Endpoint")) == "InService"
    by_type = {str(state["resource_type"]): lid for lid, state in resources(jobs).items()}
    order = [by_type[kind] for kind in ("AWS::CloudFormation::WaitConditionHandle", "Custom::NeptuneMlModelTrainingJob",
                                        "AWS::CloudFormation::WaitCondition", "Custom::NeptuneMlEndpoint")]
    done = [lid for lid, status in played.timeline() if status == "CREATE_COMPLETE"]
    assert [done.index(lid) for lid in order] == sorted(done.index(lid) for lid in order), played.timeline()
    assert len(set(order)) == 4
    assert "Custom::NeptuneMlModelTrainingJob" in played.output
    assert f": a watcher looks at job {training} (rate(1 minute)" in played.output


def test_a_long_training_failing_midway_rolls_back_with_its_reason_and_leaves_nothing_running(
        jobs: LocalDeployment) -> None:
    jobs.deploy("LongWait")
    endpoint = physical_id(jobs, "Endpoint")

    played = jobs.update("LongFailing")

    assert played.exit_code != 0
    assert "WaitCondition received failed message" in played.output and "AlgorithmError" in played.output
    assert physical_id(jobs, "Endpoint") == endpoint
    assert jobs.creates_of(endpoint) == 1
    assert running(jobs.api) == []


def test_a_wait_condition_timeout_cancels_the_job(jobs: LocalDeployment, api: LocalNeptuneMlApi) -> None:
    api.timings = Timings(creating=0.3, updating=0.3, deleting=0.2, processing=0.3, training=OUTLASTING_SECONDS,
                          stopping=0.2)  # longer than LongTimesOut's 4 s WaitCondition
    played = jobs.deploy("LongTimesOut")

    assert played.exit_code != 0
    assert "nearly up, so it was cancelled" in played.output or "WaitCondition timed out" in played.output
    assert running(jobs.api) == []
    assert any(jobs.api.job_status("modeltraining", job) == "Stopped" for job in jobs.api.job_ids("modeltraining"))


def test_a_retrain_waits_on_the_new_jobs_new_handle_and_updates_the_endpoint_in_place(jobs: LocalDeployment) -> None:
    jobs.deploy("LongWait")
    before = {name: physical_id(jobs, name) for name in ("Training", "Endpoint")}
    old_condition = [lid for lid in resources(jobs) if lid.startswith("TrainingCompletion")]

    played = jobs.update("LongRetrain")

    assert played.exit_code == 0, played.output
    new_condition = [lid for lid in resources(jobs) if lid.startswith("TrainingCompletion")]
    assert new_condition != old_condition and len(new_condition) == 1
    assert physical_id(jobs, "Training") != before["Training"]
    assert physical_id(jobs, "Endpoint") == before["Endpoint"]
    assert jobs.creates_of(before["Endpoint"]) == 2
    assert played.events(old_condition[0]) == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]


def test_destroy_during_the_long_wait_cancels_the_job(jobs: LocalDeployment, api: LocalNeptuneMlApi) -> None:
    from test_player_interrupt import RunningCommand

    api.timings = Timings(creating=0.3, updating=0.3, deleting=0.2, processing=0.3, training=OUTLASTING_SECONDS,
                          stopping=0.2)
    command = RunningCommand(jobs, "deploy", "LongWait", "--api-url", api.url)
    command.wait_for_line(lambda line: "AWS::CloudFormation::WaitCondition " in line and "CREATE_IN_PROGRESS" in line)
    [training] = api.job_ids("modeltraining")
    assert api.job_status("modeltraining", training) == "InProgress"
    command.process.send_signal(signal.SIGINT)
    command.wait_for_line(lambda line: "waiting up to" in line)
    command.process.send_signal(signal.SIGINT)  # stop waiting for the WaitCondition, which outlasts any wait
    exit_code, output = command.finish()
    assert exit_code == 130, output

    destroyed = jobs.destroy()

    assert destroyed.exit_code == 0, destroyed.output
    assert api.job_status("modeltraining", training) in ("Stopping", "Stopped")
    assert running(api) in ([], [training])  # Stopping on its way to Stopped
    assert api.endpoint_ids() == []
