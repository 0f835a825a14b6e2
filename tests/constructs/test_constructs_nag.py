"""cdk-nag's AwsSolutions pack finds nothing unacknowledged in the constructs' resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cdk_nag
import pytest
from constructs_support import CLUSTER_RESOURCE_ID, literal_cluster

from neptune_ml_endpoint import NeptuneMlEndpoint

LONG_ID = "AnEndpointWhoseConstructIdIsLongEnoughToBeShortenedForCrhelperRules"


def acknowledgments(scope: Any) -> dict[str, str]:
    """Every acknowledged rule id below scope, with its reason (metadata data is {id: reason})."""
    found: dict[str, str] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.update(entry.data)
    return found


@pytest.fixture(scope="module")
def nagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Path]:
    outdir = tmp_path_factory.mktemp("nag")
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())
    stack = cdk.Stack(app, "Nagged")
    cluster = literal_cluster(stack)
    NeptuneMlEndpoint(stack, "First", cluster=cluster, ml_model_training_job_id="training-1")
    NeptuneMlEndpoint(stack, LONG_ID, cluster=cluster, ml_model_transform_job_id="transform-1")
    return stack, outdir


def test_no_unacknowledged_findings(nagged: tuple[cdk.Stack, Path]) -> None:
    stack, outdir = nagged
    try:
        cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        pytest.fail(report.read_text() if report.exists() else str(error))
    if (outdir / "validation-report.json").exists():
        report = json.loads((outdir / "validation-report.json").read_text())
        assert all(not plugin.get("violations") for plugin in report.get("pluginReports", [])), report


def test_acknowledgments_are_specific_and_explained(nagged: tuple[cdk.Stack, Path]) -> None:
    stack, _ = nagged
    found = acknowledgments(stack)
    account = "<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>"
    endpoint_ids = [
        stack.resolve(endpoint.custom_resource.node.default_child.logical_id)  # type: ignore[union-attr]
        for endpoint in stack.node.children
        if isinstance(endpoint, NeptuneMlEndpoint)
    ]
    assert len(endpoint_ids) == 2
    expected = [
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        + "service-role/AWSLambdaVPCAccessExecutionRole]",
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='neptune-db')}:"
        + f"{CLUSTER_RESOURCE_ID}/*]",
        *(
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{account.format(service='events')}:rule/{logical_id}*]"
            for logical_id in endpoint_ids
        ),
    ]
    assert sorted(found) == sorted(expected)
    assert all(len(reason) >= 40 for reason in found.values())
