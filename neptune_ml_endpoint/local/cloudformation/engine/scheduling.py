"""Run actions over a dependency graph, independent ones at the same time, as CloudFormation does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

MAX_PARALLEL = 8
_WAKE_SECONDS = 0.2


def run_in_order(prerequisites: Mapping[str, set[str]], action: Callable[[str], bool],
                 stop_on_failure: bool, max_parallel: int = MAX_PARALLEL,
                 halted: Callable[[], bool] = lambda: False) -> dict[str, bool | None]:
    """Run action(node) once each node's prerequisites have succeeded.

    Returns each node's outcome: True or False from the action, None when it never ran
    (a prerequisite failed, a failure stopped new work with stop_on_failure, or halted() said
    to start nothing more). Work already running when a failure happens always finishes.
    """
    outcomes: dict[str, bool | None] = {}
    pending = {node: {p for p in needs if p in prerequisites} for node, needs in prerequisites.items()}
    stopped = False
    with ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="resource") as pool:
        running: dict[Future[bool], str] = {}
        while pending or running:
            blocked = [n for n, needs in pending.items() if any(outcomes.get(p) is not True and p in outcomes
                                                               for p in needs)]
            for node in blocked:
                outcomes[node] = None
                del pending[node]
            stopped = stopped or halted()
            if not stopped:
                ready = [n for n, needs in pending.items() if all(outcomes.get(p) is True for p in needs)]
                for node in ready:
                    del pending[node]
                    running[pool.submit(action, node)] = node
            if not running:
                for node in pending:
                    outcomes[node] = None
                break
            # A bounded wait: a signal that reaches another thread still gets its handler run here soon.
            done, _ = wait(running, timeout=_WAKE_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                node = running.pop(future)
                outcomes[node] = bool(future.result())
                stopped = stopped or (stop_on_failure and not outcomes[node])
    return outcomes


def reversed_graph(prerequisites: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The graph for deleting: each node waits for the nodes that depend on it."""
    dependents: dict[str, set[str]] = {node: set() for node in prerequisites}
    for node, needs in prerequisites.items():
        for need in needs:
            if need in dependents:
                dependents[need].add(node)
    return dependents
