"""--parameters in an app of several stacks: NAME=VALUE for every stack that declares it, STACK:NAME=VALUE
for one stack, as the CDK CLI takes them; a name nothing declares is refused before any change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from player_support import LocalDeployment, synthesized

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.cli.parameters import (
    ParameterError,
    check_parameters,
    constraint_broken,
)
from neptune_ml_endpoint.local.cloudformation.engine.assembly import StackTemplate

DEFAULT_JOB = "default-training-job"


@pytest.fixture(scope="module")
def two_stacks_assembly() -> Path:
    return synthesized("two_stacks_app.py")


@pytest.fixture
def two_stacks(api: LocalNeptuneMlApi, two_stacks_assembly: Path, tmp_path: Path,
               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> LocalDeployment:
    """Commands on the two-stack app, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return LocalDeployment(api, two_stacks_assembly, tmp_path / "state", capsys)


def deployed(deployment: LocalDeployment, property_name: str = "MlModelTrainingJobId") -> dict[str, Any]:
    """Stack name -> the value of a property its endpoint was deployed with (None when it has none)."""
    stacks = json.loads((deployment.state_dir / "state.json").read_text())["deployment"]["stacks"]
    return {name: [r["properties"].get(property_name) for r in stack["resources"].values()]
            for name, stack in stacks.items()}


def test_a_bare_name_goes_to_every_stack_that_declares_it(two_stacks: LocalDeployment) -> None:
    played = two_stacks.run("deploy", "--parameters", "TrainingJob=shared-job",
                            "--parameters", "InstanceType=ml.c5.xlarge")

    assert played.exit_code == 0, played.output
    assert deployed(two_stacks) == {"InferenceA": ["shared-job"], "InferenceB": ["shared-job"]}
    assert deployed(two_stacks, "InstanceType") == {"InferenceA": [None], "InferenceB": ["ml.c5.xlarge"]}


def test_a_stack_prefixed_name_goes_to_that_stack_only_and_wins_over_a_bare_one(
        two_stacks: LocalDeployment) -> None:
    played = two_stacks.run("deploy", "--parameters", "InferenceB:TrainingJob=b-job")

    assert played.exit_code == 0, played.output
    assert deployed(two_stacks) == {"InferenceA": [DEFAULT_JOB], "InferenceB": ["b-job"]}

    updated = two_stacks.run("deploy", "--parameters", "TrainingJob=shared-job",
                             "--parameters", "InferenceA:TrainingJob=a-job")

    assert updated.exit_code == 0, updated.output
    assert deployed(two_stacks) == {"InferenceA": ["a-job"], "InferenceB": ["shared-job"]}


def test_values_given_before_are_kept_until_given_again(two_stacks: LocalDeployment) -> None:
    assert two_stacks.run("deploy", "--parameters", "InferenceB:TrainingJob=b-job").exit_code == 0

    again = two_stacks.run("deploy")
    changed = two_stacks.run("deploy", "--parameters", "InferenceB:TrainingJob=b-job-2")

    assert again.exit_code == 0, again.output
    assert "InferenceB (no changes)" in again.output
    assert changed.exit_code == 0, changed.output
    assert deployed(two_stacks) == {"InferenceA": [DEFAULT_JOB], "InferenceB": ["b-job-2"]}


@pytest.mark.parametrize(("given", "message"), [
    ("Foo=1", ("Parameters: [Foo] do not exist in the template of any stack: InferenceA declares "
               "TrainingJob, BootstrapVersion; InferenceB declares TrainingJob, InstanceType, "
               "InstanceCount, BootstrapVersion")),
    ("InferenceB:Foo=1", ("Parameters: [Foo] do not exist in the template of InferenceB; "
                          "its parameters: TrainingJob, InstanceType, InstanceCount, BootstrapVersion")),
    ("InstanceCount=abc", "InferenceB: Parameter 'InstanceCount' must be a number."),
    ("InstanceCount=5", "InferenceB: Parameter 'InstanceCount' must be a number not greater than 4"),
    ("InferenceB:InstanceType=m5.large", r"InferenceB: Parameter 'InstanceType' must match pattern ml\.[a-z0-9]+"),
    ("InferenceC:TrainingJob=x", "--parameters: no stack named InferenceC in the app (stacks: InferenceA, InferenceB)"),
])
def test_a_value_no_stack_can_take_is_refused_before_any_change(
        two_stacks: LocalDeployment, given: str, message: str) -> None:
    played = two_stacks.run("deploy", "--parameters", given)

    assert played.exit_code == 1
    assert message in played.output
    assert two_stacks.endpoint_requests() == []
    assert not (two_stacks.state_dir / "state.json").exists()


@pytest.mark.parametrize(("value", "declaration", "broken"), [
    ("2", {"Type": "Number", "MinValue": 1}, ""),
    ("0.5", {"Type": "Number", "MinValue": "1"}, "Parameter 'P' must be a number not less than 1"),
    ("1,x", {"Type": "List<Number>"}, "Parameter 'P' must be a number."),
    ("b", {"AllowedValues": ["a", "c"]}, "Parameter 'P' must be one of AllowedValues"),
    ("ab", {"MinLength": "3"}, "Parameter 'P' must contain at least 3 characters"),
    ("abcd", {"MaxLength": 3}, "Parameter 'P' must contain at most 3 characters"),
    ("a,bb", {"Type": "CommaDelimitedList", "AllowedPattern": "[a-z]"}, "Parameter 'P' must match pattern [a-z]"),
    ("x", {"Type": "String"}, ""),
    ("nan", {"Type": "Number"}, "Parameter 'P' must be a number."),
    (" 2", {"Type": "Number"}, "Parameter 'P' must be a number."),
    ("1, 2", {"Type": "List<Number>"}, ""),
    ("1e3", {"Type": "Number", "MaxValue": 999}, "Parameter 'P' must be a number not greater than 999"),
    ("Job_1", {"AllowedPattern": "[a-z0-9-]+", "ConstraintDescription": "lower-case job id"},
     "Parameter 'P' failed to satisfy constraint: lower-case job id"),
    ("abc", {"Type": "Number", "ConstraintDescription": "a count"}, "Parameter 'P' must be a number."),
])
def test_a_value_is_checked_against_its_type_and_constraints(value: str, declaration: dict[str, Any],
                                                               broken: str) -> None:
    assert constraint_broken("P", value, declaration) == broken


@pytest.mark.parametrize(("kept", "given", "missing"), [
    ({}, {}, ["JobId"]),
    ({}, {"JobId": "job-1"}, []),
    ({"Needy": {"JobId": "job-1"}}, {}, []),  # the value of the stack's last deploy
])
def test_a_parameter_without_default_must_get_a_value(kept: dict[str, dict[str, str]], given: dict[str, str],
                                                      missing: list[str]) -> None:
    template = {"Parameters": {"JobId": {"Type": "String"}, "Size": {"Type": "Number", "Default": 1}}}
    stack = StackTemplate("Needy", "Needy", template, Path("."), None, None)

    if missing:
        with pytest.raises(ParameterError, match=r"^Needy: Parameters: \[JobId\] must have values\. Give each with "
                                                  r"--parameters NAME=VALUE"):
            check_parameters(given, [stack], [stack], kept)
    else:
        check_parameters(given, [stack], [stack], kept)


def test_a_deploy_without_a_value_for_a_parameter_without_default_is_refused_before_any_change(
        two_stacks: LocalDeployment, tmp_path: Path) -> None:
    assembly = tmp_path / "no-default"
    shutil.copytree(two_stacks.assembly, assembly)
    template_file = assembly / "InferenceA.template.json"
    template = json.loads(template_file.read_text())
    del template["Parameters"]["TrainingJob"]["Default"]
    template_file.write_text(json.dumps(template))
    needy = LocalDeployment(two_stacks.api, assembly, two_stacks.state_dir, two_stacks._capsys)

    refused = needy.run("deploy", "InferenceA")
    given = needy.run("deploy", "InferenceA", "--parameters", "TrainingJob=a-job")
    kept = needy.run("deploy", "InferenceA")

    assert refused.exit_code == 1
    assert "InferenceA: Parameters: [TrainingJob] must have values. Give each with --parameters" in refused.output
    assert given.exit_code == 0 and kept.exit_code == 0, given.output + kept.output
    assert deployed(needy) == {"InferenceA": ["a-job"]}
