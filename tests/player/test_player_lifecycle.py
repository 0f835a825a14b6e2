"""Deploy, update (in place, replacement, removal) and destroy of a synthesized app, end to end."""

from __future__ import annotations

from player_support import STACK_NAME, LocalDeployment

TRAINING_ID = "player-training"


def test_deploy_creates_every_endpoint_and_prints_the_outputs(deployment: LocalDeployment) -> None:
    played = deployment.deploy("Base")

    assert played.exit_code == 0, played.output
    training = deployment.resource(deployment.logical_id("Training"))
    transform = deployment.resource(deployment.logical_id("Transform"))
    assert training["physical_id"] == TRAINING_ID
    assert sorted(deployment.in_service()) == sorted([TRAINING_ID, transform["physical_id"]])
    # Sent as CloudFormation sends them: strings only, the cluster address replaced by the local API.
    assert training["properties"]["NeptuneEndpoint"] == deployment.api.url
    assert training["properties"]["ServiceTimeout"] == "2400"
    assert all(isinstance(value, str) for value in training["properties"].values())
    assert training["data"]["Id"] == TRAINING_ID
    assert f"{STACK_NAME}.TrainingEndpointId = {TRAINING_ID}" in played.output
    assert f"{STACK_NAME}.TransformEndpointId = {transform['physical_id']}" in played.output
    assert "simulated by the local Neptune ML API" in played.output
    for logical_id in (deployment.logical_id("Training"), deployment.logical_id("Transform"), STACK_NAME):
        assert played.events(logical_id) == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]


def test_deploying_an_unchanged_app_again_sends_no_request(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    requests_before = deployment.endpoint_requests()

    played = deployment.deploy("Base")

    assert played.exit_code == 0
    assert f"{STACK_NAME} (no changes)" in played.output
    assert not played.lines_with("_IN_PROGRESS")
    assert deployment.endpoint_requests() == requests_before


def test_update_in_place_keeps_the_endpoint_and_leaves_the_unchanged_one_alone(
        deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    transform_before = deployment.resource(deployment.logical_id("Transform"))

    played = deployment.update("InPlace")

    assert played.exit_code == 0, played.output
    training = deployment.resource(deployment.logical_id("Training"))
    assert training["physical_id"] == TRAINING_ID
    assert training["properties"]["MlModelTrainingJobId"] == "training-job-2"
    assert deployment.creates_of(TRAINING_ID) == 2  # the create, then the update (same id)
    assert deployment.resource(deployment.logical_id("Transform")) == transform_before
    assert played.events(deployment.logical_id("Training")) == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert played.events(deployment.logical_id("Transform")) == []
    assert played.events(STACK_NAME) == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert played.counters()[-1] == "1/1"
    assert sorted(deployment.in_service()) == sorted([TRAINING_ID, transform_before["physical_id"]])


def test_a_new_endpoint_id_replaces_the_endpoint_and_cleanup_deletes_the_old_one(
        deployment: LocalDeployment) -> None:
    deployment.deploy("Base")

    played = deployment.update("Replaced")

    assert played.exit_code == 0, played.output
    training_id = deployment.logical_id("Training")
    assert deployment.resource(training_id)["physical_id"] == "player-training-b"
    assert TRAINING_ID not in deployment.api.endpoint_ids()
    assert "player-training-b" in deployment.in_service()
    assert played.events(training_id) == [
        "UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    # The replacement's creation marker went with the cleanup Delete, which the command let finish.
    assert not (deployment.state_dir / "eventbridge-rules.json").exists()
    timeline = played.timeline()
    # The old endpoint goes only in the cleanup phase, after every update succeeded.
    assert timeline.index((training_id, "UPDATE_COMPLETE")) \
        < timeline.index((STACK_NAME, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")) \
        < timeline.index((training_id, "DELETE_IN_PROGRESS")) \
        < timeline.index((STACK_NAME, "UPDATE_COMPLETE"))
    assert "requires the creation of a new physical resource" in played.output
    deleted = [r.endpoint_id for r in deployment.api.requests() if r.operation == "DeleteMLEndpoint"]
    assert deleted == [TRAINING_ID]


def test_a_resource_removed_from_the_app_is_deleted(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    transform_id = deployment.resource(deployment.logical_id("Transform"))["physical_id"]

    played = deployment.update("TrainingOnly")

    assert played.exit_code == 0, played.output
    assert transform_id not in deployment.api.endpoint_ids()
    assert deployment.in_service() == [TRAINING_ID]
    state = deployment.state()
    assert state is not None and list(state["resources"]) == [deployment.logical_id("Training")]
    assert played.events(deployment.logical_id("Transform")) == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert played.events(STACK_NAME) == [
        "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    # The counter counts what the update touches: the deleted endpoint, not the unchanged one.
    assert played.counters() == ["0/1", "0/1", "0/1", "1/1", "1/1"]


def test_destroy_deletes_every_endpoint_and_forgets_the_state(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")

    played = deployment.destroy()

    assert played.exit_code == 0, played.output
    assert deployment.api.endpoint_ids() == []
    assert deployment.state() is None
    assert not (deployment.state_dir / "state.json").exists()
    assert f"Endpoints in the local Neptune ML API at {deployment.api.url}: none" in played.output
    assert played.events(STACK_NAME) == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]


def test_destroy_keeps_an_endpoint_whose_deletion_policy_is_retain(deployment: LocalDeployment) -> None:
    deployment.deploy("RetainedTransform")
    transform_id = deployment.resource(deployment.logical_id("Transform", "RetainedTransform"))["physical_id"]

    played = deployment.destroy()

    assert played.exit_code == 0, played.output
    assert played.events(deployment.logical_id("Transform", "RetainedTransform")) == ["DELETE_SKIPPED"]
    skipped = played.lines_with("DELETE_SKIPPED")
    assert "Retain" in skipped[0] and transform_id in skipped[0]
    assert deployment.in_service() == [transform_id]
    assert deployment.state() is None
