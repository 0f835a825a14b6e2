"""Failures roll back as CloudFormation does: a failed create deletes what it made, a failed update goes back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from player_support import STACK_NAME, LocalDeployment

TRAINING_ID = "player-training"


def test_a_failed_create_deletes_every_endpoint_of_the_deploy(deployment: LocalDeployment) -> None:
    played = deployment.deploy("FailingCreate")

    assert played.exit_code == 1
    training = deployment.logical_id("Training", "FailingCreate")
    transform = deployment.logical_id("Transform", "FailingCreate")
    assert played.events(transform) == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_IN_PROGRESS",
                                        "DELETE_COMPLETE"]
    assert played.events(training)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert played.events(STACK_NAME) == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    failed = played.lines_with("CREATE_FAILED")[0]
    assert "ended Failed" in failed and "failing-transform-job" in failed
    assert "failed and was rolled back: ROLLBACK_COMPLETE" in played.output
    assert deployment.api.endpoint_ids() == []
    assert deployment.state() is None
    assert "Traceback" not in played.output


def test_a_failed_update_goes_back_to_the_old_properties(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    training = deployment.logical_id("Training")
    before = deployment.resource(training)

    played = deployment.update("FailingUpdate")

    assert played.exit_code == 1
    assert played.events(training) == ["UPDATE_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_IN_PROGRESS",
                                       "UPDATE_COMPLETE"]
    assert played.events(STACK_NAME) == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                         "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    assert "failing-training-job" in played.lines_with("UPDATE_FAILED")[0]
    [logs] = played.lines_with("The handler's log of each request")
    assert str(deployment.state_dir / "logs") in logs
    after = deployment.resource(training)
    assert after["properties"] == before["properties"]
    assert after["physical_id"] == TRAINING_ID
    # Created, updated to the failing job, updated back: the endpoint serves again.
    assert deployment.creates_of(TRAINING_ID) == 3
    assert deployment.api.status(TRAINING_ID) == "InService"
    # What is remembered is the old app, so deploying it again changes nothing.
    assert f"{STACK_NAME} (no changes)" in deployment.deploy("Base").output


def test_a_rolled_back_replacement_keeps_the_old_endpoint_and_deletes_the_new_one(
        deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    before = deployment.state()

    played = deployment.update("ReplacedAndFailing")

    assert played.exit_code == 1
    training = deployment.logical_id("Training")
    # Replaced by player-training-b, then (another resource failed) updated back, and the
    # replacement deleted in the rollback's cleanup; the old endpoint was never deleted.
    assert played.events(training) == [
        "UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE",
        "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert played.events(STACK_NAME)[-1] == "UPDATE_ROLLBACK_COMPLETE"
    after = deployment.state()
    assert after is not None and before is not None
    assert {lid: r["properties"] for lid, r in after["resources"].items()} == {
        lid: r["properties"] for lid, r in before["resources"].items()}
    assert after["resources"][training]["physical_id"] == TRAINING_ID
    deleted = [r.endpoint_id for r in deployment.api.requests() if r.operation == "DeleteMLEndpoint"]
    assert deleted == ["player-training-b"]
    assert sorted(deployment.in_service()) == sorted(r["physical_id"] for r in after["resources"].values())


def test_a_property_only_the_handler_can_check_fails_with_its_reason_and_rolls_back(
        deployment: LocalDeployment) -> None:
    played = deployment.deploy("IdParameter")

    assert played.exit_code == 1
    training = deployment.logical_id("Training", "IdParameter")
    failed = played.lines_with("CREATE_FAILED")
    assert len(failed) == 1 and training in failed[0]
    assert "Id: 'Not_A_Valid_Id!' is not a valid endpoint id" in failed[0]
    assert played.events(STACK_NAME)[-1] == "ROLLBACK_COMPLETE"
    assert deployment.api.endpoint_ids() == []
    assert deployment.state() is None


def test_parameters_give_the_template_its_values(deployment: LocalDeployment) -> None:
    played = deployment.deploy("IdParameter", "--parameters", "TrainingIdParameter=from-a-parameter")

    assert played.exit_code == 0, played.output
    assert deployment.resource(deployment.logical_id("Training", "IdParameter"))["physical_id"] == "from-a-parameter"
    assert "from-a-parameter" in deployment.in_service()


def test_a_failure_no_function_ran_for_points_at_no_log_folder(deployment: LocalDeployment, tmp_path: Path) -> None:
    assembly = tmp_path / "assembly"
    shutil.copytree(deployment.assembly, assembly)
    template_file = assembly / "Base.template.json"
    template = json.loads(template_file.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::NeptuneMlEndpoint":  # a reference the player cannot resolve
            resource["Properties"]["MlModelTrainingJobId"] = {"Fn::Select": [5, ["training-job"]]}
    template_file.write_text(json.dumps(template))
    unresolvable = LocalDeployment(deployment.api, assembly, deployment.state_dir, deployment._capsys)

    played = unresolvable.deploy("Base")

    assert played.exit_code == 1
    assert "Fn::Select: index 5 is outside" in played.output
    assert "The handler's log" not in played.output
    assert deployment.endpoint_requests() == []
