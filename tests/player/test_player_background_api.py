"""The background API is recognised by the instance token it answers, not by /proc: stop it, or leave others alone."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neptune_ml_endpoint.local.cloudformation.cli import local_api


def test_the_api_it_started_answers_its_token_and_is_stopped(tmp_path: Path) -> None:
    api = local_api.start_background_api(tmp_path / "api.log")
    try:
        assert api.token and local_api.is_our_server(api)

        assert local_api.stop_background_api(api) == local_api.STOPPED
        assert not local_api.answers(api.url)
        assert local_api.stop_background_api(api) == local_api.ALREADY_GONE
    finally:
        if local_api.answers(api.url):
            subprocess.run(["kill", str(api.pid)], check=False)


def test_the_api_deploy_starts_stops_by_itself_once_its_state_folder_is_deleted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    api = local_api.start_background_api(tmp_path / "api.log", "--exit-when-missing", str(state))
    try:
        assert local_api.answers(api.url)

        state.rmdir()

        deadline = time.monotonic() + 10
        while local_api.answers(api.url) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not local_api.answers(api.url)
        assert f"{state} is gone, stopping" in (tmp_path / "api.log").read_text()
    finally:
        if local_api.answers(api.url):
            subprocess.run(["kill", str(api.pid)], check=False)


def test_a_token_that_does_not_match_leaves_the_api_running(tmp_path: Path) -> None:
    api = local_api.start_background_api(tmp_path / "api.log")
    try:
        stranger = dataclasses.replace(api, token="another-state")

        assert local_api.stop_background_api(stranger) == local_api.NOT_RECOGNISED
        assert local_api.answers(api.url)
    finally:
        assert local_api.stop_background_api(api) == local_api.STOPPED


def test_another_program_holding_the_pid_is_left_alone(tmp_path: Path) -> None:
    api = local_api.start_background_api(tmp_path / "api.log")
    assert local_api.stop_background_api(api) == local_api.STOPPED
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        reused = dataclasses.replace(api, pid=other.pid)  # the pid now names another program

        assert local_api.stop_background_api(reused) == local_api.NOT_RECOGNISED
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_start_interrupted_before_it_completes_leaves_no_api_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answering: list[str] = []
    real_answers = local_api.answers

    def interrupted_once_up(url: str) -> bool:  # Ctrl-C arrives just as the new API first answers
        if real_answers(url):
            answering.append(url)
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(local_api, "answers", interrupted_once_up)

    with pytest.raises(KeyboardInterrupt):
        local_api.start_background_api(tmp_path / "api.log")

    assert answering, "the API never answered, so the interruption proves nothing"
    assert not real_answers(answering[0]), "the API whose start was interrupted still runs, recorded nowhere"
