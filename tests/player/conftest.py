"""Fixtures that run the player's commands on a synthesized test app against a local Neptune ML API.

The scenarios app (apps/scenarios_app.py) is synthesized once for every worker and run (player_support.synthesized); every
command then gets that cloud assembly through --app, as `cdk deploy --app cdk.out` would.
Each test has its own local API (short timings) and its own state folder. The handler functions the
commands run check their endpoints' and jobs' status every 0.05 to 0.2 s (the player's own
pauses, 0.2 to 1 s, are for a person's deploy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from player_support import LocalDeployment, synthesized

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws import cloud_session

FAST = Timings(creating=0.5, updating=0.5, deleting=0.2)
HANDLER_WAITS = {schema.ENV_WAIT_FIRST_SECONDS: "0.05", schema.ENV_WAIT_MAX_SECONDS: "0.2"}


@pytest.fixture(autouse=True)
def short_handler_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions of the commands, in this process or in a subprocess, pause 0.05 to 0.2 s between status
    checks (the player's environment overrides its functions' settings)."""
    for name, value in HANDLER_WAITS.items():
        assert name in cloud_session.LOCAL_HANDLER_SETTINGS
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def scenarios_assembly() -> Path:
    """The scenarios app's cloud assembly: one stack artifact per version of the PlayerTest stack."""
    return synthesized("scenarios_app.py")


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    with LocalNeptuneMlApi(timings=FAST) as started:
        yield started


@pytest.fixture
def deployment(api: LocalNeptuneMlApi, scenarios_assembly: Path, tmp_path: Path,
               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> LocalDeployment:
    """Runs deploy, update and destroy on the scenarios assembly, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return LocalDeployment(api, scenarios_assembly, tmp_path / "state", capsys)


@pytest.fixture(scope="session")
def jobs_assembly() -> Path:
    """The jobs app's cloud assembly: versions of a processing -> training -> endpoint stack."""
    return synthesized("jobs_app.py")


@pytest.fixture
def jobs(api: LocalNeptuneMlApi, jobs_assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> LocalDeployment:
    """Runs deploy, update and destroy on the jobs assembly, in tmp_path (each test file sets the API's timings)."""
    monkeypatch.chdir(tmp_path)
    return LocalDeployment(api, jobs_assembly, tmp_path / "state", capsys)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
