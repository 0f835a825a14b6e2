"""Ctrl-C during deploy: every endpoint stays recorded, so deploy carries on and destroy deletes everything.

The deploys run as subprocesses that get SIGINT the way a terminal sends it. Where a test needs the
background local Neptune ML API that deploy starts and destroy stops, the state names one started the
same way beforehand, with short timings (test_player_background_api shows deploy starting it).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from player_support import STACK_NAME, LocalDeployment

from neptune_ml_endpoint.local.api import Timings
from neptune_ml_endpoint.local.cloudformation.cli import local_api
from neptune_ml_endpoint.local.cloudformation.cli.commands import Interruption
from neptune_ml_endpoint.local.cloudformation.engine.state import DeploymentState, StateStore

INTERRUPTED = 130
TRAINING_ID = "player-training"
WAIT_SECONDS = 120.0


class RunningCommand:
    """A CLI command in a subprocess whose output is read line by line as it comes."""

    def __init__(self, deployment: LocalDeployment, *arguments: str) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neptune_ml_endpoint.local", *arguments, "--state-dir", str(deployment.state_dir),
             "--app", str(deployment.assembly), "--poll-seconds", "0.3"],
            cwd=deployment.state_dir.parent, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,  # its own process group, as in a terminal
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, wanted: Callable[[str], bool]) -> str:
        """The first new line for which wanted() is True; fails when the output ends or time runs out."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail("the command ended first:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if wanted(line):
                return line
        pytest.fail("no such line in time:\n" + "\n".join(self.lines))

    def finish(self) -> tuple[int, str]:
        """The exit status and the whole output."""
        exit_code = self.process.wait(timeout=WAIT_SECONDS)
        while (line := self._queue.get(timeout=WAIT_SECONDS)) is not None:
            self.lines.append(line)
        return exit_code, "\n".join(self.lines)


def event_line(logical_id: str, status: str) -> Callable[[str], bool]:
    """Matches the progress line of one resource event."""
    return lambda line: f"| {status} " in line and line.rstrip().endswith(")") and f"| {logical_id}" in line


def invocations_left_in(code_root: Path, within: float = 10.0) -> list[int]:
    """The processes still working in a deploy's copies of function code after `within` seconds (found
    through /proc where there is one; elsewhere none are found)."""
    deadline = time.monotonic() + within
    while True:
        working = []
        for process in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
            with contextlib.suppress(OSError):
                if process.name.isdigit() and Path(os.readlink(process / "cwd")).is_relative_to(code_root):
                    working.append(int(process.name))
        if not working or time.monotonic() > deadline:
            return working
        time.sleep(0.1)


def recorded_endpoints(store: StateStore) -> set[str]:
    """Every physical id the state remembers, leftovers included."""
    stack = store.load().stacks.get(STACK_NAME)
    if stack is None:
        return set()
    return {r.physical_id for r in [*stack.resources.values(), *stack.leftovers] if r.physical_id}


@pytest.fixture
def store(deployment: LocalDeployment) -> Iterator[StateStore]:
    """The deployment's state; any background API it still names is stopped after the test."""
    state_store = StateStore(deployment.state_dir)
    yield state_store
    api_process = state_store.load().api_process if state_store.path.is_file() else None
    if api_process is not None and local_api.answers(api_process.url):
        os.kill(api_process.pid, signal.SIGTERM)


@pytest.fixture
def background_api(store: StateStore) -> None:
    """The state names a background API, started as deploy starts one, whose endpoints take half a second."""
    store.save(DeploymentState(api_process=local_api.start_background_api(
        store.state_dir / "local-api.log", "--creating-seconds", "0.5", "--updating-seconds", "0.5",
        "--deleting-seconds", "0.2")))


@pytest.mark.usefixtures("background_api")
def test_an_interrupted_deploy_keeps_every_endpoint_recorded_and_destroy_deletes_them_and_stops_the_api(
        deployment: LocalDeployment, store: StateStore) -> None:
    training = deployment.logical_id("Training", "Chained")
    command = RunningCommand(deployment, "deploy", "Chained")
    command.wait_for_line(event_line(training, "CREATE_COMPLETE"))

    os.killpg(command.process.pid, signal.SIGINT)  # Ctrl-C in a terminal: the command and all it started
    exit_code, output = command.finish()

    assert exit_code == INTERRUPTED, output
    assert "Interrupted" in output and "Traceback" not in output and "Exception ignored" not in output
    api_process = store.load().api_process
    assert api_process is not None and local_api.answers(api_process.url)
    stack = store.load().stacks[STACK_NAME]
    assert stack.resources[training].physical_id == TRAINING_ID
    # Transform's create, if it had started, was awaited: its endpoint is recorded too (or, on a machine
    # too slow for the wait, its create is recorded as unanswered, to be sent again).
    unrecorded = set(local_api.endpoint_ids(api_process.url)) - recorded_endpoints(store)
    assert not unrecorded or any(r.pending_request for r in stack.resources.values()), output

    destroyed = deployment.run("destroy", app=False, api_url=False)

    assert destroyed.exit_code == 0, destroyed.output
    assert f"Stopped the local Neptune ML API (pid {api_process.pid})" in destroyed.output
    assert not local_api.answers(api_process.url)
    assert not store.path.exists()


@pytest.mark.usefixtures("background_api")
def test_each_answer_is_saved_at_once_so_even_a_killed_deploy_leaves_nothing_unrecorded(
        deployment: LocalDeployment, store: StateStore) -> None:
    training, transform = deployment.logical_id("Training", "Chained"), deployment.logical_id("Transform", "Chained")
    command = RunningCommand(deployment, "deploy", "Chained")
    command.wait_for_line(event_line(training, "CREATE_COMPLETE"))
    command.wait_for_line(event_line(transform, "CREATE_IN_PROGRESS"))

    command.process.kill()  # no handler runs: only what was saved along the way is left
    command.finish()

    stack = store.load().stacks[STACK_NAME]
    assert stack.resources[training].physical_id == TRAINING_ID and not stack.resources[training].pending_request
    assert stack.resources[transform].pending_request  # recorded before its Create was sent
    api_process = store.load().api_process
    assert api_process is not None
    # The killed command's Lambda environments went with it (its fork server stops them when it ends).
    assert invocations_left_in(deployment.state_dir / "functions") == []

    destroyed = deployment.run("destroy", app=False, api_url=False)

    assert destroyed.exit_code == 0, destroyed.output
    assert "Endpoints in the local Neptune ML API at" in destroyed.output and ": none" in destroyed.output
    assert not local_api.answers(api_process.url)


def test_a_killed_deploy_leaves_its_creation_markers_so_the_next_deploy_takes_its_explicit_id_over(
        deployment: LocalDeployment, store: StateStore) -> None:
    deployment.api.timings = Timings(creating=6.0)  # the create is surely still waiting when the command is killed
    training = deployment.logical_id("Training")
    command = RunningCommand(deployment, "deploy", "Base", "--api-url", deployment.api.url)
    command.wait_for_line(event_line(training, "CREATE_IN_PROGRESS"))
    deadline = time.monotonic() + WAIT_SECONDS
    while not any('"phase":"created"' in rule.get("Description", "") for rule in saved_rules(store)):
        assert time.monotonic() < deadline, "the handler's creation marker never reached the state folder"
        time.sleep(0.05)

    command.process.kill()  # no handler runs: what is on disk is what EventBridge would have kept
    command.finish()
    resumed = deployment.deploy("Base")

    assert resumed.exit_code == 0, resumed.output
    assert deployment.resource(training)["physical_id"] == TRAINING_ID
    assert deployment.creates_of(TRAINING_ID) == 1  # taken over as the stack's own, not created again
    destroyed = deployment.destroy()
    assert destroyed.exit_code == 0, destroyed.output
    assert deployment.api.endpoint_ids() == []


def saved_rules(store: StateStore) -> list[dict[str, str]]:
    """The EventBridge rules the state folder keeps (the handler's creation markers)."""
    try:
        rules: list[dict[str, str]] = json.loads(store.rules_file.read_text())
    except FileNotFoundError:
        return []
    return rules


def test_unanswered_creates_are_recorded_then_sent_again_by_the_next_deploy_without_duplicates(
        deployment: LocalDeployment, store: StateStore) -> None:
    deployment.api.timings = Timings(creating=6.0)  # the creates are surely still waiting at the interrupt
    training, transform = deployment.logical_id("Training"), deployment.logical_id("Transform")
    command = RunningCommand(deployment, "deploy", "Base", "--api-url", deployment.api.url)
    command.wait_for_line(event_line(training, "CREATE_IN_PROGRESS"))
    command.wait_for_line(event_line(transform, "CREATE_IN_PROGRESS"))

    command.process.send_signal(signal.SIGINT)
    command.wait_for_line(lambda line: "waiting up to" in line)
    command.process.send_signal(signal.SIGINT)  # stop waiting for the answers
    exit_code, output = command.finish()

    assert exit_code == INTERRUPTED, output
    stack = store.load().stacks[STACK_NAME]
    assert {lid for lid, r in stack.resources.items() if r.pending_request} == {training, transform}, output
    assert "its Create got no answer yet" in output
    assert f"destroy --state-dir {deployment.state_dir} --api-url {deployment.api.url}`" in output

    resumed = deployment.deploy("Base")

    assert resumed.exit_code == 0, resumed.output
    assert resumed.events(training) == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert resumed.events(STACK_NAME) == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]  # the stack was never created
    assert resumed.counters()[-1] == "2/2"
    assert "Sending again the Create whose answer never came" in resumed.lines_with(training)[0]
    in_api = set(deployment.api.endpoint_ids())
    assert len(in_api) == 2 and recorded_endpoints(store) == in_api
    # Sent again with the same RequestId, each create made (or adopted) the one endpoint of its request.
    assert all(deployment.creates_of(endpoint_id) == 1 for endpoint_id in in_api)
    assert not any(r.pending_request for r in store.load().stacks[STACK_NAME].resources.values())

    destroyed = deployment.destroy()

    assert destroyed.exit_code == 0, destroyed.output
    assert deployment.api.endpoint_ids() == []


@pytest.mark.usefixtures("background_api")
def test_a_destroy_with_nothing_to_destroy_stops_the_api_that_kept_retained_endpoints(
        deployment: LocalDeployment, store: StateStore) -> None:
    assert deployment.run("deploy", "RetainedTransform", api_url=False).exit_code == 0
    api_process = store.load().api_process
    assert api_process is not None

    first = deployment.run("destroy", app=False, api_url=False)

    assert first.exit_code == 0, first.output
    assert "keeps running" in first.output and local_api.answers(api_process.url)
    assert store.load() == DeploymentState(api_process=api_process)

    second = deployment.run("destroy", app=False, api_url=False)

    assert second.exit_code == 0, second.output
    assert "Nothing to destroy" in second.output
    assert f"Stopped the local Neptune ML API (pid {api_process.pid})" in second.output
    assert not local_api.answers(api_process.url)
    assert not store.path.exists()


def interrupt_when(when: Callable[[], bool], times: int = 1) -> None:
    """Send this process SIGINT `times` times once when() is True, while the player's handler has it."""

    def watch() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and not when():
            time.sleep(0.05)
        for _ in range(times):
            if isinstance(getattr(signal.getsignal(signal.SIGINT), "__self__", None), Interruption):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()


def test_an_update_interrupted_before_its_cleanup_keeps_the_replaced_endpoint_for_the_next_deploy(
        deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    interrupt_when(lambda: "player-training-b" in deployment.api.endpoint_ids())

    interrupted = deployment.update("Replaced")

    assert interrupted.exit_code == INTERRUPTED, interrupted.output
    training = deployment.logical_id("Training")
    assert deployment.resource(training)["physical_id"] == "player-training-b"
    state = deployment.state()
    assert state is not None and [left["physical_id"] for left in state["leftovers"]] == ["player-training"]
    assert {"player-training", "player-training-b"} <= set(deployment.api.endpoint_ids())

    carried_on = deployment.update("Replaced")

    assert carried_on.exit_code == 0, carried_on.output
    assert "player-training" not in deployment.api.endpoint_ids()
    assert "player-training-b" in deployment.in_service()
    state = deployment.state()
    assert state is not None and state["leftovers"] == []
    assert carried_on.events(STACK_NAME) == [
        "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_an_update_given_up_in_flight_is_sent_again_and_adopts_the_endpoint_it_had_begun(
        deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    deployment.api.timings = Timings(creating=3.0)  # the new endpoint is surely still creating at the interrupts
    training = deployment.logical_id("Training")
    interrupt_when(lambda: "player-training-b" in deployment.api.endpoint_ids(), times=2)

    interrupted = deployment.update("Replaced")

    assert interrupted.exit_code == INTERRUPTED, interrupted.output
    pending = deployment.resource(training)
    assert pending["physical_id"] == TRAINING_ID and pending["pending_request"]
    assert pending["pending_properties"]["Id"] == "player-training-b"

    carried_on = deployment.update("Replaced")

    assert carried_on.exit_code == 0, carried_on.output
    assert f"Sending again the Update whose answer never came (RequestId {pending['pending_request']})" \
        in carried_on.output
    assert deployment.resource(training)["physical_id"] == "player-training-b"
    assert deployment.creates_of("player-training-b") == 1  # adopted, not created twice
    assert deployment.api.endpoint_ids() == sorted(["player-training-b", deployment.resource(
        deployment.logical_id("Transform"))["physical_id"]])


def test_an_interrupted_destroy_is_carried_on_by_destroy(deployment: LocalDeployment) -> None:
    deployment.deploy("Base")
    deployment.api.timings = Timings(deleting=3.0)  # the deletes are surely still waiting at the interrupt
    interrupt_when(lambda: any(deployment.api.status(i) == "Deleting" for i in deployment.api.endpoint_ids()))

    interrupted = deployment.destroy()

    assert interrupted.exit_code == INTERRUPTED, interrupted.output
    [hint] = interrupted.lines_with("to carry on")
    assert f"Run `neptune-ml-local destroy --state-dir {deployment.state_dir}" in hint and " deploy" not in hint

    carried_on = deployment.destroy()

    assert carried_on.exit_code == 0, carried_on.output
    assert deployment.api.endpoint_ids() == []
