"""Read a CDK cloud assembly: its stacks, their custom resources and the functions behind them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.schema import RESOURCE_TYPE

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
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
    artifact_id: str
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
        """Logical ids of every Custom::NeptuneMlEndpoint, in template order."""
        return [lid for lid, resource in self.resources.items() if resource.get("Type") == RESOURCE_TYPE]

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
    return _ordered(list(_stacks(Path(assembly_dir))))


def _stacks(assembly_dir: Path) -> Iterator[tuple[StackTemplate, str, list[str]]]:
    manifest_path = assembly_dir / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(f"{assembly_dir} is not a cloud assembly: manifest.json is missing")
    manifest = json.loads(manifest_path.read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            yield from _stacks(assembly_dir / properties["directoryName"])
        elif artifact.get("type") == STACK_ARTIFACT:
            account, region = _environment(artifact.get("environment", ""))
            template = json.loads((assembly_dir / properties["templateFile"]).read_text())
            stack = StackTemplate(
                stack_name=properties.get("stackName", artifact_id),
                artifact_id=artifact_id,
                template=template,
                assembly_dir=assembly_dir,
                account=account,
                region=region,
            )
            yield stack, artifact_id, list(artifact.get("dependencies", []))


def _environment(environment: str) -> tuple[str | None, str | None]:
    """(account, region) of 'aws://account/region'; None where the app left them open."""
    account, _, region = environment.removeprefix("aws://").partition("/")
    return (account if account.isdigit() else None, region if region and "unknown" not in region else None)


def _ordered(entries: list[tuple[StackTemplate, str, list[str]]]) -> list[StackTemplate]:
    """Stacks sorted so each comes after the stacks it depends on."""
    by_id = {artifact_id: (stack, dependencies) for stack, artifact_id, dependencies in entries}
    ordered: list[StackTemplate] = []
    placed: set[str] = set()

    def place(artifact_id: str) -> None:
        if artifact_id in placed or artifact_id not in by_id:
            return
        placed.add(artifact_id)
        stack, dependencies = by_id[artifact_id]
        for dependency in dependencies:
            place(dependency)
        ordered.append(stack)

    for artifact_id in by_id:
        place(artifact_id)
    return ordered
