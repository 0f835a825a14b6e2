"""Helpers for the player's tests: run the CLI in-process and read what it left behind."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from result_cache import cached_assembly, package_sources

from neptune_ml_endpoint.local.__main__ import main
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.cli.synth import synthesize
from neptune_ml_endpoint.schema import RESOURCE_TYPE

APPS = Path(__file__).resolve().parent / "apps"
STACK_NAME = "PlayerTest"
POLL_SECONDS = "0.3"


def synthesized(app_file: str) -> Path:
    """The cloud assembly of one of apps/, synthesized with the pinned CLI once while nothing it is made of
    changes (result_cache): the apps, the package outside local/, the CDK versions."""
    app = f"{sys.executable} {APPS / app_file}"
    return cached_assembly(Path(app_file).stem, [*sorted(APPS.glob("*.py")), *package_sources()], app,
                           lambda output: synthesize(output.parent, output, app=app))


@dataclass(frozen=True)
class Played:
    """One command's exit status and what it printed."""

    exit_code: int
    output: str

    def lines_with(self, text: str) -> list[str]:
        return [line for line in self.output.splitlines() if text in line]

    def timeline(self) -> list[tuple[str, str]]:
        """(logical id, status) of every event line, in order."""
        events = []
        for line in self.output.splitlines():
            columns = [column.strip() for column in line.split(" | ")]
            if len(columns) == 6:
                events.append((columns[5].split()[0], columns[3]))
        return events

    def counters(self) -> list[str]:
        """The progress column ("done/total") of every event line, in order."""
        return [line.split(" | ")[1] for line in self.output.splitlines() if len(line.split(" | ")) == 6]

    def events(self, logical_id: str) -> list[str]:
        """The statuses of a resource's (or the stack's) event lines, in order."""
        return [status for name, status in self.timeline() if name == logical_id]


class LocalDeployment:
    """deploy / update / destroy of the scenarios assembly against one local API and state folder."""

    def __init__(self, api: LocalNeptuneMlApi, assembly: Path, state_dir: Path,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.api = api
        self.assembly = assembly
        self.state_dir = state_dir
        self._capsys = capsys

    def run(self, command: str, *arguments: str, app: bool = True, api_url: bool = True) -> Played:
        """Run one CLI command in-process; returns its status and output."""
        argv = [command, *arguments, "--state-dir", str(self.state_dir), "--poll-seconds", POLL_SECONDS]
        if app:
            argv += ["--app", str(self.assembly)]
        if api_url:
            argv += ["--api-url", self.api.url]
        self._capsys.readouterr()
        exit_code = main(argv)
        return Played(exit_code, self._capsys.readouterr().out)

    def deploy(self, version: str, *arguments: str) -> Played:
        return self.run("deploy", version, *arguments)

    def update(self, version: str, *arguments: str) -> Played:
        return self.run("update", version, *arguments)

    def destroy(self, *arguments: str) -> Played:
        return self.run("destroy", *arguments, app=False)

    def state(self) -> dict[str, Any] | None:
        """The saved state of the PlayerTest stack, or None when nothing is remembered."""
        path = self.state_dir / "state.json"
        if not path.is_file():
            return None
        stacks: dict[str, Any] = json.loads(path.read_text())["deployment"]["stacks"]
        return stacks.get(STACK_NAME)

    def resource(self, logical_id: str) -> dict[str, Any]:
        state = self.state()
        assert state is not None, "nothing is deployed"
        resource: dict[str, Any] = state["resources"][logical_id]
        return resource

    def logical_id(self, construct_id: str, version: str = "Base") -> str:
        """The logical id CDK gave an endpoint construct ("Training", "Transform") in a version."""
        template = json.loads((self.assembly / f"{version}.template.json").read_text())
        found: list[str] = [lid for lid, resource in template["Resources"].items()
                 if resource["Type"] == RESOURCE_TYPE and lid.startswith(construct_id)]
        assert len(found) == 1, f"{construct_id} in {version}: {found}"
        return found[0]

    def creates_of(self, endpoint_id: str) -> int:
        """How many CreateMLEndpoint requests named this endpoint."""
        return sum(1 for r in self.api.requests()
                   if r.operation == "CreateMLEndpoint" and r.endpoint_id == endpoint_id and r.status_code == 200)

    def endpoint_requests(self) -> list[tuple[str | None, str | None]]:
        """(operation, endpoint id) of every request that concerned one endpoint."""
        return [(r.operation, r.endpoint_id) for r in self.api.requests() if r.endpoint_id is not None]

    def in_service(self) -> list[str]:
        return [i for i in self.api.endpoint_ids() if self.api.status(i) == "InService"]
