"""crhelper's polling path: a short function timeout hands each request over to an EventBridge rule."""

from __future__ import annotations

import re

from player_support import STACK_NAME, LocalDeployment

from neptune_ml_endpoint.local.api import Timings
from neptune_ml_endpoint.local.cloudformation.aws.polling import POLLS_LOG

POLL_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d [0-9a-f-]{36} poll of (Create|Update|Delete) \S+ "
                       r"\(RequestId [0-9a-f-]{36}\): (no answer yet|answered (SUCCESS|FAILED))")


def poll_lines(deployment: LocalDeployment) -> list[str]:
    """The poll lines of every function's polls.log (not the handler's own lines indented under them)."""
    return [line for log in (deployment.state_dir / "logs").glob(f"*/{POLLS_LOG}")
            for line in log.read_text().splitlines() if not line.startswith(" ")]


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
    # Each request: the first invocation's log, then a line in polls.log for the poll that answered.
    answered = [line for line in poll_lines(deployment) if "answered SUCCESS" in line]
    assert sorted(line.split(" poll of Create ")[1].split()[0] for line in answered) == named
    training = deployment.resource(deployment.logical_id("Training"))
    assert set(training["data"]) == {"Arn", "Id", "CreationTimeInMillis", "SageMakerEndpointName",
                                     "SageMakerEndpointArn"}


def test_each_poll_is_a_line_of_polls_log_and_only_requests_get_a_log_file_of_their_own(
        deployment: LocalDeployment) -> None:
    deployment.api.timings = Timings(creating=3.0)  # several polls find the endpoints still Creating

    played = deployment.deploy("Base", "--function-timeout", "6")

    assert played.exit_code == 0, played.output
    logs = deployment.state_dir / "logs"
    own_files = [log for log in logs.glob("*/*.log") if log.name != POLLS_LOG]
    assert len(own_files) == 2  # the two Creates' first invocations
    assert all(log.stat().st_size > 0 for log in logs.glob("*/*.log"))
    lines = poll_lines(deployment)
    assert all(POLL_LINE.match(line) for line in lines), lines
    waiting = [line for line in lines if "no answer yet" in line]
    assert waiting and all("the rule polls again" in line for line in waiting)
    for endpoint in ("Training", "Transform"):
        logical_id = deployment.logical_id(endpoint)
        assert sum(f"poll of Create {logical_id} " in line and "answered SUCCESS" in line for line in lines) == 1


def test_deletes_poll_too_and_leave_nothing_behind(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")

    played = deployment.destroy("--function-timeout", "6")

    assert played.exit_code == 0, played.output
    assert len(played.lines_with("handed over to polling")) == 2
    assert deployment.api.endpoint_ids() == []
