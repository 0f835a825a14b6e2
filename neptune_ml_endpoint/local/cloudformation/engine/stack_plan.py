"""One stack of the assembly as the player deploys it: played resources, their values, functions and outputs.

The handler's resources and CloudFormation's wait conditions are played; every other resource is taken as
deployed, with stable stand-in values, and every NeptuneEndpoint property points at the local Neptune ML API.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from neptune_ml_endpoint.local.cloudformation.engine.assembly import (
    PLAYED_TYPES,
    FunctionSource,
    StackTemplate,
)
from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import (
    ResolveError,
    StackIdentity,
    TemplateResolver,
    cloudformation_strings,
    exported,
    stack_output,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import DesiredResource
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState, ResourceState
from neptune_ml_endpoint.schema import RESOURCE_TYPES

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def played_dependencies(template: Mapping[str, Any], played: Iterable[str]) -> dict[str, set[str]]:
    """For each played resource, the played resources it waits for (DependsOn or references), through any
    chain of others."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        depends_on = resource.get("DependsOn", [])
        graph[logical_id] = {*([depends_on] if isinstance(depends_on, str) else depends_on),
                             *_referenced(resource.get("Properties", {}))} - {logical_id}
    played_ids = set(played)
    result: dict[str, set[str]] = {}
    for logical_id in played_ids:
        seen: set[str] = set()
        pending = list(graph.get(logical_id, ()))
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                if name not in played_ids:
                    pending.extend(graph.get(name, ()))
        result[logical_id] = seen & played_ids
    return result


def _referenced(value: Any) -> set[str]:
    """Names a value refers to (resources or parameters; the caller keeps resources)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _referenced(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item.split(".", 1)[0] if isinstance(item, str) else item[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name.split(".", 1)[0] for name in _SUB_VARIABLE.findall(str(text))}
                if isinstance(item, list) and len(item) > 1:
                    found |= _referenced(item[1])
            else:
                found |= _referenced(item)
    return found


NEPTUNE_CLUSTER_TYPE = "AWS::Neptune::DBCluster"
LAMBDA_FUNCTION_TYPE = "AWS::Lambda::Function"
_GLOBAL_SERVICES = frozenset({"iam"})


def function_name(identity: StackIdentity, logical_id: str) -> str:
    """The name a Lambda function without a FunctionName gets (CloudFormation adds a suffix)."""
    return f"{identity.stack_name}-{logical_id}"[:64]


def simulated_ref(identity: StackIdentity, logical_id: str, resource_type: str) -> str:
    """What Ref returns for a simulated resource: its name, or its ARN where Ref gives one."""
    if resource_type == LAMBDA_FUNCTION_TYPE:
        return function_name(identity, logical_id)
    if resource_type in ("AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"):
        return simulated_attribute(identity, logical_id, resource_type, "Arn")
    return logical_id


def simulated_attribute(identity: StackIdentity, logical_id: str, resource_type: str, attribute: str) -> str:
    """What Fn::GetAtt returns for a simulated resource."""
    if resource_type == NEPTUNE_CLUSTER_TYPE:
        digest = hashlib.sha256(f"{identity.stack_name}/{logical_id}".encode()).hexdigest()
        host = f"{logical_id.lower()}.cluster-{digest[:12]}.{identity.region}.neptune.amazonaws.com"
        values = {"Endpoint": host, "ReadEndpoint": host.replace(".cluster-", ".cluster-ro-", 1), "Port": "8182",
                  "ClusterResourceId": f"cluster-{digest[:26].upper()}"}
        return values.get(attribute, f"{logical_id}.{attribute}")
    return _arn(identity, logical_id, resource_type) if attribute == "Arn" else f"{logical_id}.{attribute}"


def _arn(identity: StackIdentity, logical_id: str, resource_type: str) -> str:
    parts = resource_type.split("::")
    service = parts[1].lower() if len(parts) > 1 else "resource"
    kind = parts[2].lower() if len(parts) > 2 else "resource"
    region = "" if service in _GLOBAL_SERVICES else identity.region
    if resource_type == LAMBDA_FUNCTION_TYPE:
        resource = f"function:{function_name(identity, logical_id)}"
    else:
        resource = f"{kind}/{logical_id}"
    return f"arn:{identity.partition}:{service}:{region}:{identity.account}:{resource}"


NEPTUNE_ENDPOINT_PROPERTY = "NeptuneEndpoint"


class StackPlan:
    """The played resources of one stack and how to work out their properties."""

    def __init__(self, stack: StackTemplate, identity: StackIdentity, api_url: str,
                 parameters: Mapping[str, str] | None = None, exports: Mapping[str, str] | None = None,
                 stack_outputs: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """exports: what the other deployed stacks export, by name (for Fn::ImportValue); stack_outputs: their
        outputs, by stack name (for Fn::GetStackOutput)."""
        self.stack = stack
        self.identity = identity
        self.api_url = api_url
        self._parameters = dict(parameters or {})
        self._exports = dict(exports or {})
        self._stack_outputs = dict(stack_outputs or {})
        conditions = self._resolver({})
        played = [lid for lid in stack.endpoint_resources()
                  if "Condition" not in stack.resources[lid] or conditions.condition(stack.resources[lid]["Condition"])]
        dependencies = played_dependencies(stack.template, played)
        self.desired: dict[str, DesiredResource] = {
            lid: DesiredResource(
                logical_id=lid,
                resource_type=str(stack.resources[lid]["Type"]),
                depends_on=frozenset(dependencies[lid]),
                deletion_policy=str(stack.resources[lid].get("DeletionPolicy", "Delete")),
                update_replace_policy=str(stack.resources[lid].get("UpdateReplacePolicy", "Delete")),
            )
            for lid in played
        }

    def resolve_properties(self, logical_id: str, deployed: Mapping[str, ResourceState]) -> dict[str, Any]:
        """The properties CloudFormation would send, as strings, NeptuneEndpoint pointed at the local API."""
        raw = self.stack.resources[logical_id].get("Properties", {})
        properties = cloudformation_strings(self._resolver(deployed).resolve(raw))
        if not isinstance(properties, dict):
            raise ResolveError(f"{logical_id}: Properties is not an object")
        if NEPTUNE_ENDPOINT_PROPERTY in properties:
            properties[NEPTUNE_ENDPOINT_PROPERTY] = self.api_url
        return properties

    def outputs(self, deployed: Mapping[str, ResourceState]) -> tuple[dict[str, str], dict[str, str]]:
        """The stack's Outputs, resolved (one that cannot be resolved says why), and its exports by name."""
        resolver = self._resolver(deployed)
        values: dict[str, str] = {}
        exports: dict[str, str] = {}
        for name, output in self.stack.template.get("Outputs", {}).items():
            try:
                if "Condition" in output and not resolver.condition(output["Condition"]):
                    continue
                value = cloudformation_strings(resolver.resolve(output.get("Value")))
                if "Export" in output:
                    exports[str(resolver.resolve(output["Export"].get("Name")))] = str(value)
            except ResolveError as error:
                value = f"<unresolved: {error}>"
            values[name] = value if isinstance(value, str) else str(value)
        return values, exports

    def imports(self) -> list[str]:
        """The export names the template imports (Fn::ImportValue); ResolveError names an export no stack has,
        or an output of another stack (Fn::GetStackOutput) that is not there."""
        resolver = self._resolver({})
        references = _other_stacks_values(self.stack.template)
        for reference in references:
            resolver.resolve(reference)
        return sorted({str(resolver.resolve(reference["Fn::ImportValue"])) for reference in references
                       if "Fn::ImportValue" in reference})

    def functions(self, code_root: Path) -> dict[str, FunctionState]:
        """The functions behind the played resources, by ARN, their code copied under code_root."""
        functions: dict[str, FunctionState] = {}
        for lid, resource in self.desired.items():
            if resource.resource_type not in RESOURCE_TYPES:  # CloudFormation's own, played without a function
                continue
            source = self.stack.function(self.stack.service_function(lid))
            environment = cloudformation_strings(self._resolver({}).resolve(dict(source.environment)))
            arn = simulated_attribute(self.identity, source.logical_id, LAMBDA_FUNCTION_TYPE, "Arn")
            functions[arn] = FunctionState(
                arn, function_name(self.identity, source.logical_id), source.handler, source.timeout_seconds,
                {str(k): str(v) for k, v in environment.items()}, str(_copy_code(source, code_root)))
        return functions

    def _resolver(self, deployed: Mapping[str, ResourceState]) -> TemplateResolver:
        resources = self.stack.resources

        def ref(logical_id: str) -> Any:
            if logical_id in deployed:
                return deployed[logical_id].physical_id
            if resources[logical_id].get("Type") in PLAYED_TYPES:
                raise ResolveError(f"Ref {logical_id}: the resource is not deployed")
            return simulated_ref(self.identity, logical_id, str(resources[logical_id].get("Type")))

        def get_att(logical_id: str, attribute: str) -> Any:
            if logical_id in deployed or resources[logical_id].get("Type") in PLAYED_TYPES:
                state = deployed.get(logical_id)
                if state is None or attribute not in state.data:
                    shown = state.physical_id if state else logical_id
                    raise ResolveError(
                        f"CustomResource attribute error: Vendor response doesn't contain {attribute} "
                        f"attribute of {logical_id} ({shown})")
                return state.data[attribute]
            return simulated_attribute(self.identity, logical_id, str(resources[logical_id].get("Type")), attribute)

        return TemplateResolver(self.stack.template, self.identity, ref, get_att, self._parameters,
                                lambda name: exported(self._exports, name),
                                lambda argument: stack_output(self._stack_outputs, argument))


_OTHER_STACKS = ("Fn::ImportValue", "Fn::GetStackOutput")


def _other_stacks_values(value: Any) -> list[dict[str, Any]]:
    """Every Fn::ImportValue and Fn::GetStackOutput in a template value."""
    if isinstance(value, list):
        return [found for item in value for found in _other_stacks_values(item)]
    if not isinstance(value, dict):
        return []
    if len(value) == 1 and next(iter(value)) in _OTHER_STACKS:
        return [value]
    return _other_stacks_values(list(value.values()))


def export_conflicts(old: Mapping[str, str], new: Mapping[str, str], importers: Mapping[str, list[str]]) -> str:
    """CloudFormation's refusal to change or remove an export another stack imports; "" when there is none."""
    for name, value in sorted(old.items()):
        if importers.get(name) and new.get(name) != value:
            verb = "updated" if name in new else "deleted"
            return f"Export {name} cannot be {verb} as it is in use by {', '.join(importers[name])}"
    return ""


def _copy_code(source: FunctionSource, code_root: Path) -> Path:
    """A private copy of the function's code, named by its content, kept for later runs."""
    if source.code_dir is not None:
        target = code_root / source.code_dir.name
        if not target.is_dir():
            partial = code_root / f"{source.code_dir.name}.partial"
            shutil.copytree(source.code_dir, partial, dirs_exist_ok=True)
            partial.rename(target)
        return target
    code = source.inline_code or ""
    target = code_root / f"inline-{hashlib.sha256(code.encode()).hexdigest()[:16]}"
    module = source.handler.rpartition(".")[0].replace(".", "/") + ".py"
    target.mkdir(parents=True, exist_ok=True)
    (target / module).write_text(code)
    return target
