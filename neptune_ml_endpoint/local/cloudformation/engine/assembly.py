"""Read a CDK cloud assembly: its stacks, their custom resources and the functions behind them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.schema import RESOURCE_TYPES

HANDLE_TYPE = "AWS::CloudFormation::WaitConditionHandle"
CONDITION_TYPE = "AWS::CloudFormation::WaitCondition"
WAIT_CONDITION_TYPES = (HANDLE_TYPE, CONDITION_TYPE)
PLAYED_TYPES = (*RESOURCE_TYPES, *WAIT_CONDITION_TYPES)
"""Resources the player deploys: the handler's and CloudFormation's wait resources; the rest is simulated."""
ASSET_PATH_METADATA = "aws:asset:path"
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3


class AssemblyError(ValueError):
    """The cloud assembly lacks something the player needs; the message says what."""


@dataclass(frozen=True)
class FunctionSource:
    """A Lambda function of the template as the player runs it."""

    logical_id: str
    handler: str
    timeout_seconds: int
    environment: Mapping[str, Any]
    code_dir: Path | None
    inline_code: str | None


@dataclass(frozen=True)
class StackTemplate:
    """One stack of the assembly."""

    stack_name: str
    display_name: str
    """What `cdk ls` prints and the CDK CLI selects by: the construct path ("Prod/Serving" in a Stage)."""
    template: Mapping[str, Any]
    assembly_dir: Path
    account: str | None
    region: str | None

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        return self.template.get("Resources", {})  # type: ignore[no-any-return]

    @property
    def parameter_names(self) -> list[str]:
        """The names the template's Parameters section declares, in template order."""
        return list(self.template.get("Parameters", {}))

    def endpoint_resources(self) -> list[str]:
        """Logical ids of every resource the player deploys (PLAYED_TYPES), in template order."""
        return [lid for lid, resource in self.resources.items() if resource.get("Type") in PLAYED_TYPES]

    def service_function(self, logical_id: str) -> str:
        """The logical id of the Lambda function a custom resource's ServiceToken points at."""
        token = self.resources[logical_id].get("Properties", {}).get("ServiceToken")
        target = token.get("Fn::GetAtt") if isinstance(token, dict) else None
        if isinstance(target, str):
            target = target.split(".", 1)
        if not (isinstance(target, list) and len(target) == 2 and target[1] == "Arn"
                and self.resources.get(target[0], {}).get("Type") == "AWS::Lambda::Function"):
            raise AssemblyError(
                f"{self.stack_name}/{logical_id}: its ServiceToken {json.dumps(token)} is not "
                "Fn::GetAtt [<function>, Arn] of a Lambda function in the same stack"
            )
        return str(target[0])

    def function(self, logical_id: str) -> FunctionSource:
        """The handler, timeout, environment and code of a Lambda function resource."""
        resource = self.resources[logical_id]
        properties = resource.get("Properties", {})
        code = properties.get("Code", {})
        asset_path = resource.get("Metadata", {}).get(ASSET_PATH_METADATA)
        code_dir = self.assembly_dir / asset_path if asset_path else None
        inline_code = code.get("ZipFile") if isinstance(code.get("ZipFile"), str) else None
        if code_dir is None and inline_code is None:
            raise AssemblyError(
                f"{self.stack_name}/{logical_id}: the function's code is neither a local asset "
                f"(Metadata {ASSET_PATH_METADATA}) nor inline"
            )
        if code_dir is not None and not code_dir.is_dir():
            raise AssemblyError(f"{self.stack_name}/{logical_id}: asset folder {code_dir} is missing")
        handler = properties.get("Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise AssemblyError(f"{self.stack_name}/{logical_id}: Handler {handler!r} is not module.function")
        return FunctionSource(
            logical_id=logical_id,
            handler=handler,
            timeout_seconds=int(properties.get("Timeout", DEFAULT_FUNCTION_TIMEOUT_SECONDS)),
            environment=properties.get("Environment", {}).get("Variables", {}),
            code_dir=code_dir,
            inline_code=inline_code,
        )


def read_assembly(assembly_dir: Path) -> list[StackTemplate]:
    """Every stack of the assembly (nested assemblies included), dependencies first."""
    if not (Path(assembly_dir) / "manifest.json").is_file():
        raise AssemblyError(f"{assembly_dir} is not a cloud assembly: manifest.json is missing")
    from aws_cdk import cx_api  # aws-cdk-lib starts its JavaScript runtime: only when a command reads an app

    artifacts = {artifact.hierarchical_id: artifact
                 for artifact in cx_api.CloudAssembly(str(assembly_dir)).stacks_recursively}
    order = TopologicalSorter({
        key: [dependency.hierarchical_id for dependency in artifact.dependencies
              if dependency.hierarchical_id in artifacts]
        for key, artifact in artifacts.items()})
    return [StackTemplate(artifact.stack_name, artifact.hierarchical_id, artifact.template, Path(artifact.assembly.directory),
                          artifact.environment.account if artifact.environment.account.isdigit() else None,
                          None if "unknown" in artifact.environment.region else artifact.environment.region)
            for artifact in (artifacts[key] for key in order.static_order())]
