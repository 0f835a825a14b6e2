"""Resolve CloudFormation intrinsic functions in template values, as CloudFormation would."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PSEUDO_ACCOUNT = "123456789012"
PSEUDO_REGION = "us-east-1"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class ResolveError(ValueError):
    """A template value the player cannot work out; the message says which and why."""


class _NoValue:
    """AWS::NoValue: the property or list item is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class StackIdentity:
    """The pseudo parameters of one stack."""

    stack_name: str
    stack_id: str
    region: str = PSEUDO_REGION
    account: str = PSEUDO_ACCOUNT
    partition: str = "aws"

    def pseudo_parameters(self) -> dict[str, Any]:
        """Values of Ref AWS::* ."""
        return {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::Partition": self.partition,
                "AWS::StackName": self.stack_name, "AWS::StackId": self.stack_id, "AWS::URLSuffix": "amazonaws.com",
                "AWS::NotificationARNs": [], "AWS::NoValue": NO_VALUE}


def new_stack_id(stack_name: str, region: str = PSEUDO_REGION, account: str = PSEUDO_ACCOUNT) -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/{uuid.uuid4()}"


RefLookup = Callable[[str], Any]
AttributeLookup = Callable[[str, str], Any]


def stack_output(outputs: Mapping[str, Mapping[str, str]], argument: Any) -> str:
    """Fn::GetStackOutput: an output of a deployed stack, read directly (no export, no coupling)."""
    if not isinstance(argument, dict) or not {"StackName", "OutputName"} <= set(argument):
        raise ResolveError(f"Fn::GetStackOutput needs StackName and OutputName, not {argument!r}")
    stack, name = str(argument["StackName"]), str(argument["OutputName"])
    if name not in outputs.get(stack, {}):
        raise ResolveError(f"Fn::GetStackOutput: no deployed stack {stack} has an output {name}. Deploy that stack "
                           "first")
    return outputs[stack][name]


def exported(exports: Mapping[str, str], name: str) -> str:
    """The value exported under a name; ResolveError, as CloudFormation words it, when no stack exports it."""
    if name not in exports:
        raise ResolveError(f"No export named {name} found. Deploy the stack that exports it first")
    return exports[name]


@dataclass
class TemplateResolver:
    """Evaluates Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and friends in one template; `ref` and
    `get_att` give resources' physical ids and attributes (real answers or simulated values)."""

    template: Mapping[str, Any]
    identity: StackIdentity
    ref: RefLookup
    get_att: AttributeLookup
    parameter_values: Mapping[str, str] = field(default_factory=dict)
    import_value: RefLookup = lambda name: exported({}, name)
    """The value another stack exports under a name (Fn::ImportValue)."""
    get_stack_output: RefLookup = lambda argument: stack_output({}, argument)
    """An output of another stack, from Fn::GetStackOutput's resolved argument."""
    _conditions: dict[str, bool] = field(default_factory=dict, init=False, repr=False)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by its result."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template's Conditions section."""
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise ResolveError(f"condition {name!r} is not in the template")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def parameter(self, name: str) -> Any:
        """A parameter's value: the one given, else its Default."""
        declaration = self.template.get("Parameters", {}).get(name)
        if declaration is None:
            raise ResolveError(f"Ref {name!r}: no parameter or resource has that name")
        if name in self.parameter_values:
            value: Any = self.parameter_values[name]
        elif "Default" in declaration:
            value = declaration["Default"]
        else:
            raise ResolveError(f"parameter {name!r} has no default: give it a value with --parameters {name}=...")
        kind = str(declaration.get("Type", "String"))
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return [item.strip() for item in str(value).split(",")] if not isinstance(value, list) else value
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise ResolveError(f"Ref needs a name, not {name!r}")
        pseudo = self.identity.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.template.get("Resources", {}):
            return self.ref(name)
        raise ResolveError(f"Ref {name!r}: no parameter or resource has that name")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        elif isinstance(argument, list) and len(argument) == 2:
            logical_id, attribute = argument[0], self.resolve(argument[1])
        else:
            raise ResolveError(f"Fn::GetAtt needs [resource, attribute], not {argument!r}")
        if logical_id not in self.template.get("Resources", {}):
            raise ResolveError(f"Fn::GetAtt: no resource {logical_id!r} in the template")
        return self.get_att(logical_id, str(attribute))

    def _function(self, name: str, argument: Any) -> Any:
        handlers: dict[str, Callable[[Any], Any]] = {
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": lambda a: self._pair(a, "Fn::Equals", lambda x, y: x == y),
            "Fn::Not": lambda a: not self._truth(self._list(a, "Fn::Not", 1)[0]),
            "Fn::And": lambda a: all(self._truth(item) for item in self._list(a, "Fn::And")),
            "Fn::Or": lambda a: any(self._truth(item) for item in self._list(a, "Fn::Or")),
            "Fn::Base64": lambda a: base64.b64encode(str(self.resolve(a)).encode()).decode(),
            "Fn::GetAZs": lambda a: [f"{self.identity.region}{suffix}" for suffix in "abc"],
            "Fn::FindInMap": self._find_in_map,
            "Fn::ImportValue": lambda a: self.import_value(str(self.resolve(a))),
            "Fn::GetStackOutput": lambda a: self.get_stack_output(self.resolve(a)),
        }
        if name not in handlers:
            raise ResolveError(f"{name} is not supported by the local player")
        return handlers[name](argument)

    def _list(self, argument: Any, name: str, length: int | None = None) -> list[Any]:
        if not isinstance(argument, list) or (length is not None and len(argument) != length):
            expected = f"a list of {length}" if length else "a list"
            raise ResolveError(f"{name} needs {expected}, not {argument!r}")
        return argument

    def _pair(self, argument: Any, name: str, test: Callable[[Any, Any], bool]) -> bool:
        first, second = (self.resolve(item) for item in self._list(argument, name, 2))
        return test(first, second)

    def _truth(self, value: Any) -> bool:
        resolved = self.resolve(value)
        return resolved if isinstance(resolved, bool) else str(resolved).lower() == "true"

    def _join(self, argument: Any) -> str:
        delimiter, items = self._list(argument, "Fn::Join", 2)
        values = self.resolve(items)
        if not isinstance(values, list):
            raise ResolveError(f"Fn::Join needs a list of values, not {values!r}")
        return str(delimiter).join(_text(item) for item in values)

    def _split(self, argument: Any) -> list[str]:
        delimiter, source = self._list(argument, "Fn::Split", 2)
        return str(self.resolve(source)).split(str(delimiter))

    def _select(self, argument: Any) -> Any:
        index, items = self._list(argument, "Fn::Select", 2)
        values = self.resolve(items)
        position = int(self.resolve(index))
        if not isinstance(values, list) or not 0 <= position < len(values):
            raise ResolveError(f"Fn::Select: index {position} is outside {values!r}")
        return values[position]

    def _if(self, argument: Any) -> Any:
        condition, when_true, when_false = self._list(argument, "Fn::If", 3)
        return self.resolve(when_true if self.condition(str(condition)) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve(item) for item in self._list(argument, "Fn::FindInMap", 3))
        try:
            return self.template["Mappings"][map_name][top_key][second_key]
        except (KeyError, TypeError) as missing:
            raise ResolveError(f"Fn::FindInMap: {map_name}/{top_key}/{second_key} is not in Mappings") from missing

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = self._list(argument, "Fn::Sub", 2)
            variables = self.resolve(variables)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.get("Resources", {}):
                return _text(self._get_att(name))
            return _text(self._ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))


def _text(value: Any) -> str:
    """A resolved value as CloudFormation writes it inside a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)


def cloudformation_strings(value: Any) -> Any:
    """Numbers and booleans turned into strings, at any depth, as custom resources receive them."""
    if isinstance(value, dict):
        return {key: cloudformation_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cloudformation_strings(item) for item in value]
    if isinstance(value, (bool, int, float)):
        return _text(value)
    return value
