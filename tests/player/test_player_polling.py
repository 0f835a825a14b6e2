"""crhelper's polling path: a short function timeout hands each request over to an EventBridge rule."""

from __future__ import annotations

from player_support import STACK_NAME, LocalDeployment


def test_a_short_function_timeout_hands_over_to_polling_until_the_endpoints_are_ready(
        deployment: LocalDeployment) -> None:
    played = deployment.deploy("Base", "--function-timeout", "6")

    assert played.exit_code == 0, played.output
    handed_over = played.lines_with("handed over to polling")
    assert len(handed_over) == 2 and all("rate(1 minute)" in line for line in handed_over)
    # Named by the resource's logical id (the rule's event carries it), not by crhelper's rule name.
    named = sorted(line.split(":")[0].strip() for line in handed_over)
    assert named == sorted([deployment.logical_id("Training"), deployment.logical_id("Transform")])
    assert played.events(STACK_NAME) == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert len(deployment.in_service()) == 2
    # Each request: the first invocation, then at least one poll that answered.
    invocations = list((deployment.state_dir / "logs").glob("*/*.log"))
    assert len(invocations) >= 4
    training = deployment.resource(deployment.logical_id("Training"))
    assert set(training["data"]) == {"Arn", "Id", "CreationTimeInMillis", "SageMakerEndpointName",
                                     "SageMakerEndpointArn"}


def test_deletes_poll_too_and_leave_nothing_behind(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")

    played = deployment.destroy("--function-timeout", "6")

    assert played.exit_code == 0, played.output
    assert len(played.lines_with("handed over to polling")) == 2
    assert deployment.api.endpoint_ids() == []
