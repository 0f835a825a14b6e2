"""`python -m neptune_ml_endpoint.local serve`: answers boto3, applies its options, stops on signals."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

import pytest
from local_api_support import make_client

from neptune_ml_endpoint.local.__main__ import main

STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines, read in a background thread so waiting for one can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], words: str, timeout: float = STARTUP_SECONDS) -> str:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        if words in line:
            return line


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str], str]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "neptune_ml_endpoint.local", "serve", "--port", str(port),
         "--creating-seconds", "0.05", "--fault", "throttle,operation=ListMLEndpoints"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines = _lines(process.stderr)
    try:
        _wait_for(lines, f"listening on http://127.0.0.1:{port}")
        yield process, lines, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_boto3_and_stops_cleanly_on_a_signal(
    served: tuple[subprocess.Popen[str], queue.Queue[str], str], stop_signal: signal.Signals
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


@pytest.mark.parametrize("argv", [[], ["serve", "--fault", "explode"], ["serve", "--creating-seconds", "-1"],
                                  ["serve", "--throttle-rps", "0"]])
def test_bad_command_lines_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err
