"""What CloudFormation remembers of one stack while an operation runs, handed on after every change.

Every physical resource that may exist is in the record: a resource whose request is in flight
(with that request's RequestId), each answered one, and the leftovers that no logical id holds
any more but that still have to be deleted. A checkpoint callback gets the record after each
change, so a stopped command never leaves a resource nobody remembers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState


@dataclass(frozen=True)
class Remembered:
    """One moment of the record."""

    resources: dict[str, ResourceState]
    leftovers: list[ResourceState]

    def doomed(self) -> dict[str, ResourceState]:
        """Every resource and leftover, keyed for deletion (a leftover by its logical and physical id)."""
        return {**self.resources, **{leftover_key(state): state for state in self.leftovers}}


Checkpoint = Callable[[Remembered], None]


def leftover_key(state: ResourceState) -> str:
    """A key for a leftover that no logical id of the stack collides with."""
    return f"{state.logical_id} ({state.physical_id or 'no physical id'})"


def _same(one: ResourceState, other: ResourceState) -> bool:
    return one.logical_id == other.logical_id and one.physical_id == other.physical_id


class StackRecord:
    """Thread-safe: the stack's resources by logical id, its leftovers, and a checkpoint after each change."""

    def __init__(self, resources: Mapping[str, ResourceState], leftovers: Iterable[ResourceState] = (),
                 checkpoint: Checkpoint | None = None) -> None:
        self._resources = dict(resources)
        self._leftovers = list(leftovers)
        self._checkpoint = checkpoint
        self._lock = threading.Lock()

    def now(self) -> Remembered:
        """What is remembered at this moment."""
        with self._lock:
            return Remembered(dict(self._resources), list(self._leftovers))

    def put(self, state: ResourceState) -> None:
        """The resource of its logical id is now this one (no longer a leftover, if it was one)."""
        with self._lock:
            self._resources[state.logical_id] = state
            self._leftovers = [left for left in self._leftovers if not _same(left, state)]
            self._save()

    def retire(self, state: ResourceState) -> None:
        """This physical resource is no longer the stack's (replaced, or a failed create): delete it later."""
        with self._lock:
            current = self._resources.get(state.logical_id)
            if current is not None and current.physical_id == state.physical_id:
                del self._resources[state.logical_id]
            if not any(_same(left, state) for left in self._leftovers):
                self._leftovers.append(state.settled())
            self._save()

    def gone(self, state: ResourceState) -> None:
        """This physical resource was deleted (or left out of the stack by its policy)."""
        with self._lock:
            before = len(self._leftovers)
            self._leftovers = [left for left in self._leftovers if not _same(left, state)]
            current = self._resources.get(state.logical_id)
            if len(self._leftovers) == before and current is not None and current.physical_id == state.physical_id:
                del self._resources[state.logical_id]
            self._save()

    def _save(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint(Remembered(dict(self._resources), list(self._leftovers)))
