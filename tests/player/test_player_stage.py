"""An app whose stacks live in a Stage (a nested cloud assembly) deploys in dependency order and destroys."""

from __future__ import annotations

from pathlib import Path

import pytest
from player_support import LocalDeployment, synthesized

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.engine.assembly import read_assembly


@pytest.fixture(scope="module")
def staged_assembly() -> Path:
    return synthesized("staged_app.py")


def test_the_nested_assembly_is_read_with_dependencies_first(staged_assembly: Path) -> None:
    stacks = read_assembly(staged_assembly)

    assert [stack.stack_name for stack in stacks] == ["Prod-Shared", "Prod-Serving"]
    assert all(stack.assembly_dir != staged_assembly for stack in stacks)  # the Stage's own folder


def test_a_staged_app_deploys_and_destroys(api: LocalNeptuneMlApi, staged_assembly: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    deployment = LocalDeployment(api, staged_assembly, tmp_path / "state", capsys)

    deployed = deployment.run("deploy")
    destroyed = deployment.destroy()

    assert deployed.exit_code == 0, deployed.output
    timeline = [name for name, status in deployed.timeline() if status == "CREATE_COMPLETE"]
    assert timeline.index("Prod-Shared") < timeline.index("Prod-Serving")
    assert destroyed.exit_code == 0, destroyed.output
    assert api.endpoint_ids() == []
    assert sorted(r.endpoint_id for r in api.requests() if r.operation == "DeleteMLEndpoint") == [
        "staged-serving", "staged-shared"]


def test_a_staged_stack_is_picked_by_the_name_cdk_ls_prints_or_a_pattern(
        api: LocalNeptuneMlApi, staged_assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    deployment = LocalDeployment(api, staged_assembly, tmp_path / "state", capsys)

    unknown = deployment.run("deploy", "Prod/Nothing")
    by_pattern = deployment.run("deploy", "Prod/Serv*")

    assert unknown.exit_code == 1
    assert "No stack named Prod/Nothing in the app (stacks: Prod/Shared, Prod/Serving)" in unknown.output
    assert by_pattern.exit_code == 0, by_pattern.output
    assert api.endpoint_ids() == ["staged-serving"]
    destroyed = deployment.run("destroy", "Prod/Serving", app=False)
    assert destroyed.exit_code == 0 and "Prod-Serving: destroyed" in destroyed.output
    assert api.endpoint_ids() == []
