"""The job resources through the player: deploy a processing -> training -> endpoint chain, retrain
with a stack update, roll back a failing retrain, destroy."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from player_support import LocalDeployment

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings

STACK_NAME = "PlayerJobs"
JOB_TIMINGS = Timings(creating=0.3, updating=0.3, deleting=0.2, processing=0.3, training=0.5, transform=0.3,
                      stopping=0.2)


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    with LocalNeptuneMlApi(timings=JOB_TIMINGS) as started:
        yield started


def physical_ids(deployment: LocalDeployment) -> dict[str, str]:
    """Physical id of the Processing, Training and Endpoint resources, by construct id."""
    path = deployment.state_dir / "state.json"
    resources = json.loads(path.read_text())["deployment"]["stacks"][STACK_NAME]["resources"]
    return {name: next(state["physical_id"] for lid, state in resources.items() if lid.startswith(name))
            for name in ("Processing", "Training", "Endpoint")}


def test_deploy_runs_processing_then_training_then_the_endpoint(jobs: LocalDeployment) -> None:
    played = jobs.deploy("Base")

    assert played.exit_code == 0, played.output
    ids = physical_ids(jobs)
    assert jobs.api.job_status("dataprocessing", ids["Processing"]) == "Completed"
    assert jobs.api.job_status("modeltraining", ids["Training"]) == "Completed"
    assert jobs.api.status(ids["Endpoint"]) == "InService"
    completes = [name for name, status in played.timeline() if status == "CREATE_COMPLETE"]
    order = [next(n for n in completes if n.startswith(name)) for name in ("Processing", "Training", "Endpoint")]
    assert [completes.index(n) for n in order] == sorted(completes.index(n) for n in order)
    assert f"{STACK_NAME}.TrainingJobId = {ids['Training']}" in played.output
    assert "NeptuneMlDataProcessingJob, NeptuneMlModelTrainingJob, NeptuneMlEndpoint" in played.output


def test_a_retrain_is_an_update_new_jobs_and_the_endpoint_updated_in_place(jobs: LocalDeployment) -> None:
    jobs.deploy("Base")
    before = physical_ids(jobs)

    played = jobs.update("Retrain")

    assert played.exit_code == 0, played.output
    after = physical_ids(jobs)
    assert after["Processing"] != before["Processing"] and after["Training"] != before["Training"]
    assert after["Endpoint"] == before["Endpoint"]
    assert jobs.creates_of(before["Endpoint"]) == 2  # the create, then the update in place
    assert jobs.api.status(after["Endpoint"]) == "InService"
    assert len(jobs.api.job_ids("dataprocessing")) == 2 and len(jobs.api.job_ids("modeltraining")) == 2


def test_a_failing_retrain_rolls_back_to_the_jobs_and_endpoint_that_served(jobs: LocalDeployment) -> None:
    jobs.deploy("Base")
    before = physical_ids(jobs)

    played = jobs.update("FailingRetrain")

    assert played.exit_code != 0
    assert "AlgorithmError" in played.output and "log: https://" in played.output
    assert physical_ids(jobs) == before
    assert jobs.creates_of(before["Endpoint"]) == 1  # never sent the failed model
    assert all(jobs.api.job_status("modeltraining", job) != "InProgress" for job in jobs.api.job_ids("modeltraining"))


def test_destroy_deletes_the_endpoint_and_leaves_no_job_running(jobs: LocalDeployment) -> None:
    jobs.deploy("Base")

    played = jobs.destroy()

    assert played.exit_code == 0, played.output
    assert jobs.api.endpoint_ids() == []
    for kind in ("dataprocessing", "modeltraining"):
        assert all(jobs.api.job_status(kind, job) == "Completed" for job in jobs.api.job_ids(kind))
