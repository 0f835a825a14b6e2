"""Run actions over a dependency graph, independent ones at the same time, as CloudFormation does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import TopologicalSorter

MAX_PARALLEL = 8
_WAKE_SECONDS = 0.2


def run_in_order(prerequisites: Mapping[str, set[str]], action: Callable[[str], bool],
                 stop_on_failure: bool, max_parallel: int = MAX_PARALLEL,
                 halted: Callable[[], bool] = lambda: False, reverse: bool = False) -> dict[str, bool | None]:
    """Run action(node) once each node's prerequisites have succeeded (with reverse: once every node
    that needs it has, the order of deletion).

    Returns each node's outcome: True or False from the action, None when it never ran
    (a prerequisite failed, a failure stopped new work with stop_on_failure, or halted() said
    to start nothing more). Work already running when a failure happens always finishes.
    """
    needs = {node: {p for p in wanted if p in prerequisites} for node, wanted in prerequisites.items()}
    if reverse:
        needs = {node: {other for other, wanted in needs.items() if node in wanted} for node in needs}
    sorter = TopologicalSorter(needs)
    sorter.prepare()
    outcomes: dict[str, bool | None] = {}
    stopped = False
    with ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="resource") as pool:
        running: dict[Future[bool], str] = {}
        while sorter.is_active():
            stopped = stopped or halted()
            for node in sorter.get_ready():
                if stopped or any(outcomes.get(need) is not True for need in needs[node]):
                    outcomes[node] = None
                    sorter.done(node)
                else:
                    running[pool.submit(action, node)] = node
            if not running:
                continue
            # A bounded wait: a signal that reaches another thread still gets its handler run here soon.
            done, _ = wait(running, timeout=_WAKE_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                node = running.pop(future)
                outcomes[node] = bool(future.result())
                sorter.done(node)
                stopped = stopped or (stop_on_failure and not outcomes[node])
    return outcomes
