"""Stacks that share values through exports (CDK cross-stack references, Fn::ImportValue), played as
CloudFormation plays them: an import reads what a deployed stack exports, and an export that another
stack imports can neither change nor go. A weak reference (Fn::GetStackOutput) reads an output with no
such coupling, so a retrain flows from one stack to the next."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from player_support import APPS, LocalDeployment, synthesized
from result_cache import cached_assembly, package_sources

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.cli.synth import synthesize

JOB_TIMINGS = Timings(creating=0.3, updating=0.3, deleting=0.2, processing=0.3, training=0.3, transform=0.3,
                      stopping=0.2)
ALL = ("CrossOnlyExports", "CrossDataBase", "CrossServing")
STACKS = ("CrossOnlyExports", "CrossData", "CrossServing")


@pytest.fixture
def api() -> Iterator[LocalNeptuneMlApi]:
    with LocalNeptuneMlApi(timings=JOB_TIMINGS) as started:
        yield started


@pytest.fixture
def cross(api: LocalNeptuneMlApi, tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> LocalDeployment:
    monkeypatch.chdir(tmp_path)
    return LocalDeployment(api, synthesized("cross_stack_app.py"), tmp_path / "state", capsys)


def stacks(deployment: LocalDeployment) -> dict[str, Any]:
    path = deployment.state_dir / "state.json"
    return json.loads(path.read_text())["deployment"]["stacks"] if path.is_file() else {}


def physical_id(deployment: LocalDeployment, stack: str, construct_id: str) -> str:
    resources = stacks(deployment)[stack]["resources"]
    return str(next(state["physical_id"] for lid, state in resources.items() if lid.startswith(construct_id)))


def test_an_import_no_deployed_stack_exports_is_refused_before_anything_is_created(cross: LocalDeployment) -> None:
    played = cross.deploy("CrossServing")

    assert played.exit_code == 1
    assert re.search(r"CrossServing: No export named (CrossBucket|CrossData:\S+) found\. Deploy the stack that "
                     r"exports it first \(nothing of CrossServing was created or changed\)", played.output)
    assert [r.operation for r in cross.api.requests()] == ["ListMLEndpoints"]  # only the check that it answers
    assert stacks(cross) == {}


def test_an_import_reads_the_export_which_can_neither_change_nor_go_while_it_is_in_use(
        cross: LocalDeployment) -> None:
    played = cross.deploy(*ALL)

    # The import gets the value the deployed stack exports.
    assert played.exit_code == 0, played.output
    processing = physical_id(cross, "CrossData", "Processing")
    training = cross.api.job_request("modeltraining", physical_id(cross, "CrossServing", "Training"))
    assert training is not None
    assert training["dataProcessingJobId"] == processing
    assert training["trainModelS3Location"] == "s3://player-cross/training/"
    only_exports = stacks(cross)["CrossOnlyExports"]  # no Neptune ML resource, yet remembered for its export
    assert only_exports["resources"] == {} and only_exports["exports"] == {"CrossBucket": "s3://player-cross"}
    assert "CrossOnlyExports.Bucket = s3://player-cross" in played.output
    before = stacks(cross)["CrossData"]

    # An update that would change the export fails and rolls back.
    retrain = cross.deploy("CrossDataRetrain")

    assert retrain.exit_code == 1
    export = next(iter(before["exports"]))
    assert f"Export {export} cannot be updated as it is in use by CrossServing" in retrain.output
    assert retrain.events("CrossData")[-1] == "UPDATE_ROLLBACK_COMPLETE"
    after = stacks(cross)["CrossData"]
    assert after["exports"] == before["exports"]
    assert {lid: state["physical_id"] for lid, state in after["resources"].items()} == {
        lid: state["physical_id"] for lid, state in before["resources"].items()}
    assert len(cross.api.job_ids("dataprocessing")) == 2  # the update's new job ran ...
    statuses = [status for name, status in retrain.timeline() if name.startswith("Processing")]
    assert statuses[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]  # ... and the rollback's cleanup deleted it

    # The exporting stack is not destroyed while its importer is there; a whole destroy takes the importer first.
    refused = cross.destroy("CrossData")
    untouched = cross.api.job_status("dataprocessing", processing)
    destroyed = cross.destroy()

    assert refused.exit_code == 1
    assert "CrossData: Delete canceled. Export " in refused.output
    assert "cannot be deleted as it is in use by CrossServing: destroy that stack first" in refused.output
    assert untouched == "Completed" and refused.timeline() == []  # no event: nothing was touched
    assert destroyed.exit_code == 0, destroyed.output
    assert stacks(cross) == {}
    names = [name for name, status in destroyed.timeline() if status == "DELETE_COMPLETE" and name in STACKS]
    assert names[0] == "CrossServing" and sorted(names) == sorted(STACKS)


def weak_reference_assembly(run_key: str) -> Path:
    """apps/weak_reference_app.py synthesized with context runKey=<run_key>."""
    app = f"{sys.executable} {APPS / 'weak_reference_app.py'}"
    return cached_assembly(f"weak_reference_app-{run_key}", [*sorted(APPS.glob("*.py")), *package_sources()],
                           f"{app} runKey={run_key}",
                           lambda output: synthesize(output.parent, output, app=app, context={"runKey": run_key}))


def test_a_weak_reference_lets_a_retrain_flow_to_the_stack_that_reads_it(
        api: LocalNeptuneMlApi, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first, retrain = (LocalDeployment(api, weak_reference_assembly(key), tmp_path / "state", capsys)
                      for key in ("export-1", "export-2"))
    assert first.run("deploy").exit_code == 0
    endpoint = physical_id(first, "WeakServing", "Endpoint")

    played = retrain.run("deploy")

    assert played.exit_code == 0, played.output
    processing = physical_id(retrain, "WeakData", "Processing")
    training = api.job_request("modeltraining", physical_id(retrain, "WeakServing", "Training"))
    assert training is not None and training["dataProcessingJobId"] == processing
    assert physical_id(retrain, "WeakServing", "Endpoint") == endpoint  # updated in place with the new model
    assert [status for name, status in played.timeline() if name.startswith("Endpoint")][-1] == "UPDATE_COMPLETE"
    assert stacks(retrain)["WeakData"]["exports"] == {} and stacks(retrain)["WeakServing"]["imports"] == []
