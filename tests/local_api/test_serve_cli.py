"""`python -m neptune_ml_endpoint.local serve`: answers boto3, applies its options, stops on signals."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO

import pytest
from local_api_support import PROCESSING, TRAINING, TRANSFORM, make_client

from neptune_ml_endpoint.local.__main__ import main

STARTUP_SECONDS = 30.0


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    """The stream's lines, read in a background thread so waiting for one can time out; None at its end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str | None], words: str, timeout: float = STARTUP_SECONDS) -> str:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        assert line is not None, f"the process ended before it logged {words!r}: {''.join(seen)}"
        if words in line:
            return line
        seen.append(line)


@contextlib.contextmanager
def _serving(*options: str) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str | None], str, str]]:
    """`serve` on a port the system picks, with these options: (process, its log lines, its URL, its listening
    line)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "neptune_ml_endpoint.local", "serve", "--port", "0", *options],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines = _lines(process.stderr)
    try:
        listening = _wait_for(lines, "listening on http://127.0.0.1:")
        url = re.search(r"http://127\.0\.0\.1:\d+", listening)
        assert url is not None, listening
        yield process, lines, url.group(0), listening
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str | None], str]]:
    with _serving("--creating-seconds", "0.05", "--fault", "throttle,operation=ListMLEndpoints") as running:
        yield running[:3]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_boto3_and_stops_cleanly_on_a_signal(
    served: tuple[subprocess.Popen[str], queue.Queue[str | None], str], stop_signal: signal.Signals
) -> None:
    process, lines, url = served
    client = make_client(url)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.list_ml_endpoints()  # the --fault option is in force
    client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")
    assert "POST /ml/endpoints CreateMLEndpoint id=ep-1 -> 200" in _wait_for(lines, "CreateMLEndpoint")
    deadline = time.monotonic() + 10
    while client.get_ml_endpoint(id="ep-1")["status"] != "InService":  # --creating-seconds 0.05
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(stop_signal)
    assert process.wait(timeout=10) == 0
    assert "Stopped after" in _wait_for(lines, "Stopped", timeout=5)


def test_serve_runs_jobs_for_the_job_options_and_faults_target_job_operations() -> None:
    options = ("--processing-seconds", "0.05", "--training-seconds", "0.06", "--transform-seconds", "0.07",
               "--stopping-seconds", "0.08", "--fault", "throttle,operation=GetMLModelTrainingJob")
    with _serving(*options) as (process, lines, url, _):
        client = make_client(url)
        client.start_ml_data_processing_job(id="processing-1", **PROCESSING)
        assert "StartMLDataProcessingJob id=processing-1 -> 200" in _wait_for(lines, "StartMLDataProcessingJob")
        _wait_until_completed(lambda: client.get_ml_data_processing_job(id="processing-1")["status"])
        client.start_ml_model_training_job(id="training-1", dataProcessingJobId="processing-1", **TRAINING)
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.get_ml_model_training_job(id="training-1")
        assert "[fault: throttle]" in _wait_for(lines, "GetMLModelTrainingJob")
        _wait_until_completed(lambda: client.get_ml_model_training_job(id="training-1")["status"])
        client.start_ml_model_transform_job(id="transform-1", dataProcessingJobId="processing-1",
                                            mlModelTrainingJobId="training-1", **TRANSFORM)
        _wait_until_completed(lambda: client.get_ml_model_transform_job(id="transform-1")["status"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_the_listening_line_and_the_help_name_the_job_durations(capsys: pytest.CaptureFixture[str]) -> None:
    with _serving("--processing-seconds", "4.5", "--stopping-seconds", "0.25") as (process, _, _url, listening):
        assert "processing 4.5s, training 5.0s, transform 3.0s, stopping 0.25s" in listening
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    usage = capsys.readouterr().out
    assert all(option in usage for option in ("--processing-seconds", "--training-seconds", "--transform-seconds",
                                              "--stopping-seconds", "GetMLDataProcessingJob"))


def _wait_until_completed(status: Callable[[], str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (current := status()) != "Completed":
        assert current == "InProgress" and time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("argv", [[], ["serve", "--fault", "explode"], ["serve", "--creating-seconds", "-1"],
                                  ["serve", "--throttle-rps", "0"], ["serve", "--training-seconds", "-1"],
                                  ["serve", "--processing-seconds", "soon"],
                                  ["serve", "--fault", "throttle,operation=StartMLJob"]])
def test_bad_command_lines_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err
