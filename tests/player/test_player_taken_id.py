"""A deploy whose explicit endpoint id is already taken fails, and nothing the stack did not create is touched."""

from __future__ import annotations

import boto3
from player_support import STACK_NAME, LocalDeployment

TRAINING_ID = "player-training"


def test_a_taken_id_fails_the_deploy_and_the_hand_made_endpoint_survives_rollback_and_destroy(
        deployment: LocalDeployment) -> None:
    neptune = boto3.client("neptunedata", endpoint_url=deployment.api.url, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
    neptune.create_ml_endpoint(id=TRAINING_ID, mlModelTrainingJobId="nb-job")  # made by hand, in a notebook

    played = deployment.deploy("Base")
    destroyed = deployment.destroy()

    training = deployment.logical_id("Training")
    assert played.exit_code == 1, played.output
    assert played.events(training)[:2] == ["CREATE_IN_PROGRESS", "CREATE_FAILED"]
    assert "AlreadyExists" in played.lines_with("CREATE_FAILED")[0]
    assert played.events(STACK_NAME)[-1] == "ROLLBACK_COMPLETE"
    assert destroyed.exit_code == 0, destroyed.output
    assert TRAINING_ID in deployment.api.endpoint_ids()
    deletes = [r for r in deployment.api.requests() if r.operation == "DeleteMLEndpoint"]
    assert all(r.endpoint_id != TRAINING_ID for r in deletes)
    updates = [r for r in deployment.api.requests() if r.operation == "CreateMLEndpoint"]
    assert len([r for r in updates if r.endpoint_id == TRAINING_ID]) == 1  # the hand-made create only
