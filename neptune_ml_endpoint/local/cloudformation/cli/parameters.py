"""`--parameters` as the CDK CLI takes them: `NAME=VALUE` goes to every stack whose template declares NAME,
`STACK:NAME=VALUE` to that stack only (and wins); a name no template it goes to declares is refused."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

from neptune_ml_endpoint.local.cloudformation.engine.assembly import StackTemplate

STACK_SEPARATOR = ":"
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


class ParameterError(ValueError):
    """A --parameters value that no stack can take; the message names the parameters there are."""


def parameters_for(stack: StackTemplate, given: Mapping[str, str]) -> dict[str, str]:
    """The values this stack gets: bare names its template declares, then those given for it alone."""
    split = _split(given)
    shared = {name: value for (target, name), value in split.items()
              if target is None and name in stack.parameter_names}
    own = {name: value for (target, name), value in split.items()
           if target is not None and _names(target, stack)}
    return {**shared, **own}


def check_parameters(given: Mapping[str, str], deployed: Sequence[StackTemplate], app: Sequence[StackTemplate],
                     kept: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """Refuse a value for a stack the app lacks, or for a parameter no deployed template it goes to declares
    (a value for a stack of the app that is not being deployed is left unused, as the CDK CLI does), a value
    its parameter's constraints refuse, and a parameter with no default that gets no value (given now, or
    `kept` from the stack's last deploy)."""
    split = _split(given)
    for target in sorted({target for target, _ in split if target is not None}):
        if not any(_names(target, stack) for stack in app):
            known = ", ".join(stack.display_name for stack in app)
            raise ParameterError(f"--parameters: no stack named {target} in the app (stacks: {known})")
    for stack in deployed:
        declared = stack.template.get("Parameters", {})
        values = parameters_for(stack, given)
        for name, value in values.items():
            broken = constraint_broken(name, value, declared.get(name, {}))
            if broken:
                raise ParameterError(f"{_named(stack)}: {broken}")
        missing = [name for name, declaration in declared.items() if "Default" not in declaration
                   and name not in values and name not in (kept or {}).get(stack.stack_name, {})]
        if missing:
            raise ParameterError(f"{_named(stack)}: Parameters: [{', '.join(missing)}] must have values. Give each "
                                 "with --parameters NAME=VALUE")
        unknown = sorted(name for target, name in split
                         if target is not None and _names(target, stack) and name not in stack.parameter_names)
        if unknown:
            raise ParameterError(f"Parameters: [{', '.join(unknown)}] do not exist in the template of "
                                 f"{_described(stack)}")
    unclaimed = sorted(name for target, name in split
                       if target is None and not any(name in stack.parameter_names for stack in deployed))
    if unclaimed:
        where = (_described(deployed[0]) if len(deployed) == 1 else "any stack: " + "; ".join(
            f"{_named(stack)} declares {_names_of(stack)}" for stack in deployed))
        raise ParameterError(f"Parameters: [{', '.join(unclaimed)}] do not exist in the template of {where}")


def constraint_broken(name: str, value: str, declaration: Mapping[str, Any]) -> str:
    """How a value breaks its parameter's Type or constraints, in CloudFormation's words (a constraint's own
    ConstraintDescription when the template gives one); "" when it does not."""
    kind = str(declaration.get("Type", "String"))
    items = value.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else [value]
    for item in items:
        if "Number" in kind and len(items) > 1:  # a list of numbers may have spaces after its commas
            item = item.strip()
        if "Number" in kind and not _NUMBER.match(item):
            return f"Parameter '{name}' must be a number."
        broken = _constraint_broken(name, item, kind, declaration)
        if broken:
            described = declaration.get("ConstraintDescription")
            return f"Parameter '{name}' failed to satisfy constraint: {described}" if described else broken
    return ""


def _constraint_broken(name: str, item: str, kind: str, declaration: Mapping[str, Any]) -> str:
    if "Number" in kind:
        for limit, word, beyond in (("MinValue", "less", operator.lt), ("MaxValue", "greater", operator.gt)):
            if limit in declaration and beyond(float(item), float(declaration[limit])):
                return f"Parameter '{name}' must be a number not {word} than {declaration[limit]}"
    if "AllowedValues" in declaration and item not in [str(v) for v in declaration["AllowedValues"]]:
        return f"Parameter '{name}' must be one of AllowedValues"
    if "AllowedPattern" in declaration and not re.fullmatch(str(declaration["AllowedPattern"]), item):
        return f"Parameter '{name}' must match pattern {declaration['AllowedPattern']}"
    for limit, word, beyond in (("MinLength", "least", operator.lt), ("MaxLength", "most", operator.gt)):
        if limit in declaration and beyond(len(item), int(declaration[limit])):
            return f"Parameter '{name}' must contain at {word} {declaration[limit]} characters"
    return ""


def _split(given: Mapping[str, str]) -> dict[tuple[str | None, str], str]:
    """(stack or None, parameter name) -> value."""
    split: dict[tuple[str | None, str], str] = {}
    for key, value in given.items():
        target, separator, name = key.rpartition(STACK_SEPARATOR)
        split[(target if separator else None, name)] = value
    return split


def _names(target: str, stack: StackTemplate) -> bool:
    return target in (stack.stack_name, stack.display_name)


def _described(stack: StackTemplate) -> str:
    return f"{_named(stack)}; its parameters: {_names_of(stack)}"


def _named(stack: StackTemplate) -> str:
    """The stack's name, and its artifact id (what the CDK CLI calls it) when that differs."""
    return stack.stack_name if stack.display_name == stack.stack_name else f"{stack.stack_name} ({stack.display_name})"


def _names_of(stack: StackTemplate) -> str:
    return ", ".join(stack.parameter_names) or "none"
