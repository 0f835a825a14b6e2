"""The example app (app.py + cdk.json) synthesizes offline, in-process and with the pinned CDK CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from constructs_support import joined_text, resources, run_command
from result_cache import cached_assembly, package_sources

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.schema import RESOURCE_TYPE

REPOSITORY = Path(__file__).resolve().parents[2]
CDK_CLI = REPOSITORY / "node_modules" / ".bin" / "cdk"
VENV_BIN = REPOSITORY / ".venv" / "bin"
PREFIX = "neptune-ml-endpoint:"


def load_example() -> ModuleType:
    """app.py as a module (it lives at the repository root, outside any package)."""
    if "example_app" in sys.modules:
        return sys.modules["example_app"]
    spec = importlib.util.spec_from_file_location("example_app", REPOSITORY / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPOSITORY / "cdk.json").read_text())["context"]
    return context


def synth_example(overrides: dict[str, Any] | None = None, stack: str = "stackName") -> Template:
    """Synthesize the example as `cdk synth` would, with cdk.json's context and overrides; the stack named
    by the context setting `stack` (stackName: the endpoints' stack, workflowStackName: the workflow's)."""
    context = {**cdk_json_context(), **(overrides or {})}
    app = load_example().build_app(cdk.App(context=context))
    stacks = {child.stack_name: child for child in app.node.children if isinstance(child, cdk.Stack)}
    assert len(stacks) == 2
    return Template.from_stack(stacks[context[PREFIX + stack]])


@pytest.fixture(scope="module")
def example() -> Template:
    return synth_example()


def test_two_endpoints_share_one_handler(example: Template) -> None:
    example.resource_count_is(RESOURCE_TYPE, 2)
    functions = [
        f
        for f in resources(example, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "index.handler"
    ]
    assert len(functions) == 1
    example.has_resource_properties(RESOURCE_TYPE, {"MlModelTrainingJobId": "example-training-job"})
    example.has_resource_properties(RESOURCE_TYPE, {"MlModelTransformJobId": "example-transform-job"})


def test_endpoints_reach_the_cluster_data_api_after_the_instance_exists(example: Template) -> None:
    instance_id = next(iter(resources(example, "AWS::Neptune::DBInstance")))
    cluster_id = next(iter(resources(example, "AWS::Neptune::DBCluster")))
    for endpoint in resources(example, RESOURCE_TYPE).values():
        assert instance_id in endpoint["DependsOn"]
        assert joined_text(endpoint["Properties"]["NeptuneEndpoint"]) == (
            f"https://${{{cluster_id}.Endpoint}}:${{{cluster_id}.Port}}"
        )


def test_cluster_is_encrypted_with_iam_auth_and_lists_the_neptune_ml_role(example: Template) -> None:
    (parameter_group,) = resources(example, "AWS::Neptune::DBClusterParameterGroup").values()
    role_arn = parameter_group["Properties"]["Parameters"]["neptune_ml_iam_role"]
    role = resources(example, "AWS::IAM::Role")[role_arn["Fn::GetAtt"][0]]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert sorted(trust["Principal"]["Service"]) == ["rds.amazonaws.com", "sagemaker.amazonaws.com"]
    example.has_resource_properties(
        "AWS::Neptune::DBCluster",
        {"StorageEncrypted": True, "IamAuthEnabled": True, "AssociatedRoles": [{"RoleArn": role_arn}]},
    )
    example.has_resource_properties(RESOURCE_TYPE, {"NeptuneIamRoleArn": role_arn})


def test_outputs_each_endpoint_id_and_arn(example: Template) -> None:
    outputs = example.find_outputs("*")
    assert sorted(outputs) == [
        "TrainingEndpointArn",
        "TrainingEndpointId",
        "TransformEndpointArn",
        "TransformEndpointId",
    ]
    assert {output["Value"]["Fn::GetAtt"][1] for output in outputs.values()} == {"Id", "Arn"}


def test_command_line_context_arrives_as_strings_and_is_converted() -> None:
    template = synth_example({f"{PREFIX}instanceCount": "3", f"{PREFIX}modelName": "kge"})
    template.has_resource_properties(RESOURCE_TYPE, {"InstanceCount": 3, "ModelName": "kge"})


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("instanceCount", "zero", "InstanceCount"),
        ("instanceCount", "0", "InstanceCount"),
        ("modelName", "gcn", "ModelName"),
        ("instanceType", "large", "InstanceType"),
        ("trainingJobId", "bad id", "MlModelTrainingJobId"),
    ],
)
def test_bad_context_values_are_reported_by_the_construct(setting: str, value: str, named: str) -> None:
    with pytest.raises(ValueError, match=rf"^\w+ \({named}\): "):
        synth_example({PREFIX + setting: value})


@pytest.mark.skipif(not CDK_CLI.exists(), reason="the pinned CDK CLI is not installed (npm ci)")
def test_cdk_synth_with_the_pinned_cli() -> None:
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
    }
    context = ["--context", f"{PREFIX}instanceCount=2"]

    def cdk_synth(output: Path) -> None:
        result = run_command([str(CDK_CLI), "synth", "--quiet", "--output", str(output), *context],
                             cwd=REPOSITORY, env=env, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]

    assembly = cached_assembly("example-app", [REPOSITORY / "app.py", REPOSITORY / "cdk.json", *package_sources()],
                               " ".join(context), cdk_synth)  # synthesized again once any of them changes

    stack_name = cdk_json_context()[f"{PREFIX}stackName"]
    template = json.loads((assembly / f"{stack_name}.template.json").read_text())
    endpoints = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]
    assert [e["Properties"]["InstanceCount"] for e in endpoints] == [2, 2]
    assert_no_lint_errors(assembly / f"{stack_name}.template.json",
                          assembly / f"{cdk_json_context()[PREFIX + 'workflowStackName']}.template.json")


def test_the_workflow_stack_goes_from_the_export_to_an_endpoint_and_a_data_version_retrains() -> None:
    first = synth_example(stack="workflowStackName")
    retrained = synth_example({f"{PREFIX}dataVersion": "2026-12-01"}, stack="workflowStackName")

    [processing] = resources(first, schema.DATA_PROCESSING_TYPE).values()
    assert processing["Properties"]["InputDataS3Location"] == cdk_json_context()[f"{PREFIX}exportS3Location"]
    assert len(resources(first, schema.MODEL_TRAINING_TYPE)) == 1
    [endpoint] = resources(first, RESOURCE_TYPE).values()
    instance_id = next(iter(resources(first, "AWS::Neptune::DBInstance")))
    assert instance_id in endpoint["DependsOn"] and instance_id in processing["DependsOn"]
    [retrained_processing] = resources(retrained, schema.DATA_PROCESSING_TYPE).values()
    assert retrained_processing["Properties"]["RunKey"] == "2026-12-01"
    assert set(resources(first, RESOURCE_TYPE)) == set(resources(retrained, RESOURCE_TYPE))


def assert_no_lint_errors(*template_files: Path) -> None:
    """cfn-lint, run once on every file, finds no errors (warnings aside: CDK itself emits W3005 for Lambda roles)."""
    assert all(path.is_file() for path in template_files), template_files
    result = run_command([str(VENV_BIN / "cfn-lint"), "--format", "parseable", *map(str, template_files)])
    errors = [line for line in result.stdout.splitlines() if re.search(r":E\d{4}:", line)]
    assert not errors, result.stdout


def test_cluster_exports_audit_logs_and_every_log_group_has_the_example_key(example: Template) -> None:
    (cluster,) = resources(example, "AWS::Neptune::DBCluster").values()
    assert cluster["Properties"]["EnableCloudwatchLogsExports"] == ["audit"]
    (parameter_group,) = resources(example, "AWS::Neptune::DBClusterParameterGroup").values()
    assert parameter_group["Properties"]["Parameters"]["neptune_enable_audit_log"] == "1"
    (key_id,) = resources(example, "AWS::KMS::Key")
    log_groups = resources(example, "AWS::Logs::LogGroup").values()
    assert len(log_groups) == 2  # the VPC's flow logs and the endpoint handler's
    assert all(group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]} for group in log_groups)
    example.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
