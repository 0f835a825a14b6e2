"""A resource type's contract: its properties, how CloudFormation's values become API values, and its
attributes. Each resource type declares one `ResourceContract`; parsing, synth-time checks and the
error messages all come from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neptune_ml_endpoint.contract.values import (
    PropertyError,
    check_boolean,
    check_neptune_endpoint,
    check_role_arn,
    shown,
)

# Keys CloudFormation adds to a custom resource's properties; never "unknown".
CLOUDFORMATION_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})

SCALAR, LIST, OBJECT = "scalar", "list", "object"


@dataclass(frozen=True)
class PropertySpec:
    """One property of a resource type and the API field it fills (None: the handler's own)."""

    name: str
    api_field: str | None
    validator: Callable[[str, str], Any]
    """Checks one value (a string, as CloudFormation sends it) for the named property."""
    description: str
    required: bool = False
    construct_prop: str | None = None
    """The construct's keyword argument that sets it."""
    shape: str = SCALAR
    """SCALAR, LIST (of scalars, each checked) or OBJECT (of the `members`)."""
    members: tuple[PropertySpec, ...] = ()

    def check(self, value: str) -> Any:
        """The API value of one scalar value; raises PropertyError naming this property."""
        return self.validator(value, self.name)

    def api_value(self, value: Any) -> Any:
        """The API value of a property value of any shape (a scalar, a list or an object)."""
        if self.shape == LIST:
            if not isinstance(value, (list, tuple)) or not value:
                raise PropertyError(self.name, f"{shown(value)} is not a list of values", self.description)
            return [self.check(_scalar(self, item)) for item in value]
        if self.shape == OBJECT:
            if not isinstance(value, Mapping):
                raise PropertyError(self.name, f"{shown(value)} is not an object", self.description)
            return _parse_members(self.name, self.members, value)
        return self.check(_scalar(self, value))


@dataclass(frozen=True)
class ParsedProperties:
    """A resource's checked properties: the API fields (by API name) and the handler's own (by name)."""

    api_fields: Mapping[str, Any]
    own: Mapping[str, Any]


@dataclass(frozen=True)
class ResourceContract:
    """Everything about one custom resource type that the construct, handler and local API share."""

    resource_type: str
    noun: str
    """What one resource is, in messages: "endpoint", "model training job"."""
    properties: tuple[PropertySpec, ...]
    attributes: tuple[str, ...]
    cross_check: Callable[[Mapping[str, Any]], None] = field(default=lambda values: None)
    """Rules between properties, on the checked values by property name."""

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.properties)

    def spec(self, name: str) -> PropertySpec | None:
        return next((spec for spec in self.properties if spec.name == name), None)

    def parse(self, raw: Mapping[str, Any]) -> ParsedProperties:
        """Check CloudFormation's properties and convert them to API values.

        Raises PropertyError for the first problem: an unknown key, a missing required property,
        a value outside its limits, or a rule between properties.
        """
        unknown = sorted(k for k in raw if self.spec(k) is None and k not in CLOUDFORMATION_KEYS)
        if unknown:
            raise PropertyError(
                shown(unknown[0]),
                "is not a property of " + self.resource_type,
                "Remove it, or correct its spelling; the properties are " + ", ".join(self.property_names),
            )
        values = _parse_members(None, self.properties, raw)
        self.cross_check(values)
        api_fields = {spec.api_field: values[spec.name] for spec in self.properties
                      if spec.api_field and spec.name in values}
        own = {spec.name: values[spec.name] for spec in self.properties
               if not spec.api_field and spec.name in values}
        return ParsedProperties(api_fields, own)

    def in_construct_terms(self, error: PropertyError) -> PropertyError:
        """The error naming the construct's keyword argument too: ``instance_count (InstanceCount): ...``."""
        spec = self.spec(error.property_name)
        if spec is None or spec.construct_prop is None:
            return error
        return PropertyError(f"{spec.construct_prop} ({spec.name})", error.problem, error.fix)


def _parse_members(parent: str | None, specs: tuple[PropertySpec, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Checked values by property name (the API field's name inside an object property)."""
    if parent is not None:
        unknown = sorted(k for k in raw if not any(spec.name == k for spec in specs))
        if unknown:
            raise PropertyError(f"{parent}.{unknown[0]}", "is not a member of " + parent,
                                "Its members are " + ", ".join(spec.name for spec in specs))
    values: dict[str, Any] = {}
    for spec in specs:
        value = raw.get(spec.name)
        if value is None or value == "":
            if spec.required:
                raise PropertyError(spec.name, "is missing", spec.description)
            continue
        key = spec.api_field or spec.name if parent is not None else spec.name
        values[key] = spec.api_value(value)
    return values


def _scalar(spec: PropertySpec, value: Any) -> str:
    """A single value as CloudFormation sends it: a string (ints and, for booleans, bools also pass)."""
    if isinstance(value, bool) and spec.validator is check_boolean:
        return "true" if value else "false"
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise PropertyError(spec.name, f"must be a single value, not {type(value).__name__}", spec.description)
    return str(value)


def parse_connection(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """NeptuneEndpoint and NeptuneIamRoleArn alone, checked: all that deleting a resource of any type needs.

    Other properties are not looked at. Raises PropertyError when NeptuneEndpoint is
    missing or either value is invalid.
    """
    address = raw.get("NeptuneEndpoint")
    if not isinstance(address, str) or not address:
        raise PropertyError("NeptuneEndpoint", "is missing",
                            "Give the cluster's Data API address, https://<cluster endpoint>:<port>")
    role_arn = raw.get("NeptuneIamRoleArn")
    return check_neptune_endpoint(address), check_role_arn(str(role_arn)) if role_arn else None
