"""Progress output: event lines like cdk deploy, a spinner on a terminal, plain heartbeats elsewhere."""

from __future__ import annotations

import io
import re
import time

from neptune_ml_endpoint.local.cloudformation.cli.progress import SPINNER, STACK_TYPE, ProgressPrinter

RESOURCE = "Custom::NeptuneMlEndpoint"


def wait_for(predicate: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():  # type: ignore[operator]
        time.sleep(0.02)


def test_event_lines_carry_stack_counter_clock_status_type_id_and_elapsed_time() -> None:
    stream = io.StringIO()
    with ProgressPrinter(stream, is_tty=False) as progress:
        progress.begin_stack("Demo", 2)
        progress.event("Demo", "CREATE_IN_PROGRESS", STACK_TYPE, "Demo", "User Initiated")
        progress.event("Demo", "CREATE_IN_PROGRESS", RESOURCE, "First")
        progress.event("Demo", "CREATE_FAILED", RESOURCE, "First", "it broke")
        progress.event("Demo", "DELETE_COMPLETE", RESOURCE, "First")

    lines = stream.getvalue().splitlines()
    assert re.fullmatch(
        r"Demo \| 0/2 \| \d\d:\d\d:\d\d [AP]M \| CREATE_IN_PROGRESS +\| AWS::CloudFormation::Stack +\| "
        r"Demo User Initiated \(\d+\.\ds\)", lines[0])
    assert "| 1/2 |" in lines[2] and "CREATE_FAILED" in lines[2] and lines[2].split("| ")[-1].startswith(
        "First it broke (")
    # A resource counts once, whatever happens to it afterwards (here: the rollback's delete).
    assert "| 1/2 |" in lines[3]
    assert "\x1b[" not in stream.getvalue()


def test_a_terminal_gets_a_spinner_line_while_a_resource_is_in_progress() -> None:
    stream = io.StringIO()
    with ProgressPrinter(stream, is_tty=True, spinner_seconds=0.01) as progress:
        progress.event("Demo", "CREATE_IN_PROGRESS", RESOURCE, "First")
        wait_for(lambda: stream.getvalue().count("waiting for First") >= 3)
        progress.event("Demo", "CREATE_COMPLETE", RESOURCE, "First")

    shown = stream.getvalue()
    assert shown.count("waiting for First CREATE_IN_PROGRESS") >= 3
    assert len({frame for frame in SPINNER if frame in shown}) >= 2
    assert "\r\x1b[K" in shown
    assert shown.endswith("\n")  # the spinner line is cleared once nothing is waiting
    # Every event line starts on a fresh line: after a newline or after the spinner line is cleared.
    starts = [match.start() for match in re.finditer(r"Demo \| ", shown)]
    assert len(starts) == 2
    assert all(start == 0 or shown[:start].endswith(("\n", "\r\x1b[K")) for start in starts)


def test_elsewhere_plain_lines_name_what_is_still_in_progress() -> None:
    stream = io.StringIO()
    with ProgressPrinter(stream, is_tty=False, heartbeat_seconds=0.05) as progress:
        progress.event("Demo", "UPDATE_IN_PROGRESS", RESOURCE, "First")
        wait_for(lambda: "still waiting for First UPDATE_IN_PROGRESS" in stream.getvalue())
        progress.event("Demo", "UPDATE_COMPLETE", RESOURCE, "First")
        heartbeats = stream.getvalue().count("still waiting")
        time.sleep(0.2)

    assert heartbeats >= 1
    assert stream.getvalue().count("still waiting") == heartbeats  # none once nothing is in progress
    assert "\r" not in stream.getvalue() and not any(frame in stream.getvalue() for frame in SPINNER)


def test_a_resource_the_total_left_out_counts_from_when_it_starts() -> None:
    stream = io.StringIO()
    with ProgressPrinter(stream, is_tty=False) as progress:
        progress.begin_stack("Demo", 1)  # the retrained job; the endpoint's change shows once the job's id is new
        progress.event("Demo", "UPDATE_IN_PROGRESS", RESOURCE, "Training")
        progress.event("Demo", "UPDATE_COMPLETE", RESOURCE, "Training")
        progress.event("Demo", "UPDATE_IN_PROGRESS", RESOURCE, "Endpoint")
        progress.event("Demo", "UPDATE_COMPLETE", RESOURCE, "Endpoint")
        progress.event("Demo", "DELETE_COMPLETE", RESOURCE, "Training")

    assert [line.split(" | ")[1] for line in stream.getvalue().splitlines()] == ["0/1", "1/1", "1/2", "2/2", "2/2"]
