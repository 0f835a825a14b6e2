"""Ordering over a dependency graph: prerequisites first (or last, for deletion); a failure blocks what needs it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import run_in_order

GRAPH = {"cluster": set(), "role": set(), "endpoint": {"cluster", "role"}, "alarm": {"endpoint"}}


def _recording(fail: frozenset[str] = frozenset()) -> tuple[list[str], Callable[[str], bool]]:
    order: list[str] = []
    lock = threading.Lock()

    def action(node: str) -> bool:
        with lock:
            order.append(node)
        return node not in fail

    return order, action


def test_each_node_runs_after_its_prerequisites() -> None:
    order, action = _recording()

    outcomes = run_in_order(GRAPH, action, stop_on_failure=False)

    assert outcomes == dict.fromkeys(GRAPH, True)
    assert order.index("endpoint") > max(order.index("cluster"), order.index("role"))
    assert order[-1] == "alarm"


def test_reverse_runs_each_node_after_everything_that_needs_it() -> None:
    order, action = _recording()

    run_in_order(GRAPH, action, stop_on_failure=False, reverse=True)

    assert order[0] == "alarm" and order.index("endpoint") < min(order.index("cluster"), order.index("role"))


def test_a_failure_leaves_what_needs_it_unrun_and_the_rest_runs_unless_told_to_stop() -> None:
    order, action = _recording(fail=frozenset({"role"}))

    outcomes = run_in_order(GRAPH, action, stop_on_failure=False)

    assert outcomes == {"cluster": True, "role": False, "endpoint": None, "alarm": None}
    assert "endpoint" not in order


def test_halted_starts_nothing_more() -> None:
    order, action = _recording()

    outcomes = run_in_order(GRAPH, action, stop_on_failure=False, halted=lambda: True)

    assert order == [] and set(outcomes.values()) == {None}
