"""The command an interrupted deploy suggests to carry on repeats the context and stacks it was given:
without them the app synthesizes differently (another stack name, another data version). An interrupted
destroy suggests destroy: a deploy would create again what it had begun to delete."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

from neptune_ml_endpoint.local.cloudformation.cli.commands import Player, PlayerOptions
from neptune_ml_endpoint.local.cloudformation.engine.state import DeploymentState


def test_the_carry_on_command_repeats_the_context_and_the_stacks(tmp_path: Path) -> None:
    out = io.StringIO()
    options = PlayerOptions(project_dir=tmp_path, context={"stackName": "Long Workflow", "dataVersion": "v6"},
                            stacks=("Long Workflow",))
    player = Player(options, out=out, is_tty=False)

    player._interrupted(DeploymentState())

    [hint] = [line for line in out.getvalue().splitlines() if "to carry on" in line]
    deploy = hint.split("`")[1]
    assert shlex.split(deploy)[1:] == ["deploy", "-c", "stackName=Long Workflow", "-c", "dataVersion=v6",
                                       "Long Workflow"]


def test_an_interrupted_destroy_suggests_destroy_to_carry_on_not_deploy(tmp_path: Path) -> None:
    out = io.StringIO()
    player = Player(PlayerOptions(project_dir=tmp_path, context={"dataVersion": "v6"}, stacks=("Workflow",),
                                  state_dir=Path("elsewhere")), out=out, is_tty=False)

    player._interrupted(DeploymentState(), destroying=True)

    [hint] = [line for line in out.getvalue().splitlines() if "to carry on" in line]
    assert [shlex.split(command)[1:] for command in hint.split("`")[1::2]] == [
        ["destroy", "Workflow", "--state-dir", "elsewhere"]]
