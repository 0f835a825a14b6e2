"""Which resources of a template wait for which: Ref, Fn::GetAtt, Fn::Sub and DependsOn."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def direct_dependencies(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources it names directly."""
    resources: Mapping[str, Mapping[str, Any]] = template.get("Resources", {})
    names = set(resources)
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        named = set([depends_on] if isinstance(depends_on, str) else depends_on)
        named |= _referenced(resource.get("Properties", {}))
        graph[logical_id] = {name for name in named if name in names and name != logical_id}
    return graph


def played_dependencies(template: Mapping[str, Any], played: Iterable[str]) -> dict[str, set[str]]:
    """For each played resource, the played resources it waits for, through any chain of others."""
    graph = direct_dependencies(template)
    played_ids = set(played)
    result: dict[str, set[str]] = {}
    for logical_id in played_ids:
        seen: set[str] = set()
        pending = list(graph.get(logical_id, ()))
        while pending:
            name = pending.pop()
            if name in seen:
                continue
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
