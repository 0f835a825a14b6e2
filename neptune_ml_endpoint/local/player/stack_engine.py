"""CloudFormation's decisions for one stack: create, update, replace, delete, roll back, clean up.

The engine knows the stack's custom resources, what was deployed before and how to send a
request; it decides which requests to send in which order, reports each event, and returns
the resources CloudFormation would remember afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from neptune_ml_endpoint.local.player.intrinsics import ResolveError
from neptune_ml_endpoint.local.player.progress import STACK_TYPE
from neptune_ml_endpoint.local.player.protocol import CustomResourceAnswer, CustomResourceRequest
from neptune_ml_endpoint.local.player.scheduling import reversed_graph, run_in_order
from neptune_ml_endpoint.local.player.state import ResourceState

RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
REPLACEMENT_NOTE = "Requested update requires the creation of a new physical resource; hence creating one."

Send = Callable[[CustomResourceRequest], CustomResourceAnswer]
Resolve = Callable[[str, Mapping[str, ResourceState]], dict[str, Any]]
"""resolve(logical_id, deployed resources) -> the resource's properties as strings."""


class EventSink(Protocol):
    def begin_stack(self, stack_name: str, total: int) -> None: ...

    def event(self, stack_name: str, status: str, resource_type: str, logical_id: str,
              reason: str = "") -> None: ...


@dataclass(frozen=True)
class DesiredResource:
    """A played resource as the new template declares it."""

    logical_id: str
    resource_type: str
    depends_on: frozenset[str] = frozenset()
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"


@dataclass
class StackResult:
    """How a stack operation ended and what CloudFormation remembers afterwards."""

    status: str
    resources: dict[str, ResourceState]
    failures: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = True

    @property
    def succeeded(self) -> bool:
        return self.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE")


@dataclass
class _Run:
    """What happened to each resource during one deploy."""

    live: dict[str, ResourceState]
    created: list[str] = field(default_factory=list)
    updated: dict[str, ResourceState] = field(default_factory=dict)
    replaced: dict[str, ResourceState] = field(default_factory=dict)
    failed_creates: dict[str, ResourceState] = field(default_factory=dict)
    failed_updates: dict[str, tuple[ResourceState, dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class StackEngine:
    """Plays CloudFormation for the custom resources of one stack."""

    def __init__(self, stack_name: str, send: Send, events: EventSink) -> None:
        self.stack_name = stack_name
        self._send = send
        self._events = events

    # --- deploy ---------------------------------------------------------------------

    def deploy(self, desired: Mapping[str, DesiredResource], resolve: Resolve,
               previous: Mapping[str, ResourceState]) -> StackResult:
        """Create the stack (no previous resources) or update it, rolling back on failure."""
        new_stack = not previous
        removed = {lid: state for lid, state in previous.items() if lid not in desired}
        if not new_stack and not removed and not self._changes(desired, resolve, previous):
            return StackResult("UPDATE_COMPLETE", dict(previous), changed=False)
        verb = "CREATE" if new_stack else "UPDATE"
        self._events.begin_stack(self.stack_name, len(desired) + len(removed))
        self._stack_event(f"{verb}_IN_PROGRESS", "User Initiated")
        run = _Run(live={lid: state for lid, state in previous.items() if lid in desired})
        prerequisites = {lid: set(resource.depends_on) for lid, resource in desired.items()}
        run_in_order(prerequisites, lambda lid: self._apply(desired[lid], resolve, previous.get(lid), run),
                     stop_on_failure=True)
        if run.failures:
            return self._roll_back_create(run) if new_stack else self._roll_back_update(run, previous)
        cleanup = {**run.replaced, **removed}
        if cleanup:
            self._stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            self._delete_all(cleanup, created_now=set(), replaced=frozenset(run.replaced))
        self._stack_event(f"{verb}_COMPLETE")
        return StackResult(f"{verb}_COMPLETE", run.live)

    def _changes(self, desired: Mapping[str, DesiredResource], resolve: Resolve,
                 previous: Mapping[str, ResourceState]) -> bool:
        """Whether any resource would get a request, judged against what is deployed now."""
        for lid, resource in desired.items():
            old = previous.get(lid)
            if old is None or old.resource_type != resource.resource_type:
                return True
            try:
                if resolve(lid, previous) != old.properties:
                    return True
            except ResolveError:
                return True
        return False

    def _apply(self, resource: DesiredResource, resolve: Resolve, old: ResourceState | None, run: _Run) -> bool:
        lid = resource.logical_id
        with run.lock:
            live = dict(run.live)
        try:
            properties = resolve(lid, live)
        except ResolveError as error:
            verb = "CREATE" if old is None else "UPDATE"
            return self._failed(run, lid, resource.resource_type, f"{verb}_FAILED", str(error), old, {})
        if old is not None and old.resource_type == resource.resource_type:
            if properties == old.properties:
                with run.lock:
                    run.live[lid] = self._remembered(resource, properties, old.physical_id, old.data)
                return True
            return self._update(resource, properties, old, run)
        return self._create(resource, properties, old, run)

    def _create(self, resource: DesiredResource, properties: dict[str, Any], old: ResourceState | None,
                run: _Run) -> bool:
        lid = resource.logical_id
        self._event("CREATE_IN_PROGRESS", resource.resource_type, lid)
        answer = self._send(CustomResourceRequest("Create", lid, resource.resource_type,
                                                  str(properties.get("ServiceToken", "")), properties))
        state = self._remembered(resource, properties, answer.physical_id, dict(answer.data))
        if not answer.succeeded:
            with run.lock:
                run.failed_creates[lid] = state
            return self._failed(run, lid, resource.resource_type, "CREATE_FAILED", answer.reason, None, properties)
        self._event("CREATE_COMPLETE", resource.resource_type, lid)
        with run.lock:
            run.live[lid] = state
            run.created.append(lid)
            if old is not None:
                run.replaced[lid] = old
        return True

    def _update(self, resource: DesiredResource, properties: dict[str, Any], old: ResourceState,
                run: _Run) -> bool:
        lid = resource.logical_id
        self._event("UPDATE_IN_PROGRESS", resource.resource_type, lid)
        answer = self._send(CustomResourceRequest(
            "Update", lid, resource.resource_type, str(properties.get("ServiceToken", "")), properties,
            old_properties=old.properties, physical_id=old.physical_id))
        if not answer.succeeded:
            return self._failed(run, lid, resource.resource_type, "UPDATE_FAILED", answer.reason, old, properties)
        if answer.physical_id != old.physical_id:
            self._event("UPDATE_IN_PROGRESS", resource.resource_type, lid, REPLACEMENT_NOTE)
        self._event("UPDATE_COMPLETE", resource.resource_type, lid)
        with run.lock:
            run.live[lid] = self._remembered(resource, properties, answer.physical_id, dict(answer.data))
            run.updated[lid] = old
            if answer.physical_id != old.physical_id:
                run.replaced[lid] = old
        return True

    def _failed(self, run: _Run, lid: str, resource_type: str, status: str, reason: str,
                old: ResourceState | None, properties: dict[str, Any]) -> bool:
        self._event(status, resource_type, lid, reason)
        with run.lock:
            run.failures.append((lid, reason))
            if old is not None and status == "UPDATE_FAILED":
                run.failed_updates[lid] = (old, properties)
        return False

    # --- rollback -------------------------------------------------------------------

    def _roll_back_create(self, run: _Run) -> StackResult:
        names = ", ".join(lid for lid, _ in run.failures)
        self._stack_event("ROLLBACK_IN_PROGRESS",
                          f"The following resource(s) failed to create: [{names}]. Rollback requested by user.")
        doomed = {lid: run.live[lid] for lid in run.created}
        doomed.update(run.failed_creates)
        left = self._delete_all(doomed, created_now=set(doomed))
        status = "ROLLBACK_FAILED" if left else "ROLLBACK_COMPLETE"
        self._stack_event(status)
        return StackResult(status, left, run.failures)

    def _roll_back_update(self, run: _Run, previous: Mapping[str, ResourceState]) -> StackResult:
        names = ", ".join(lid for lid, _ in run.failures)
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS",
                          f"The following resource(s) failed to create or update: [{names}].")
        targets: dict[str, tuple[ResourceState, ResourceState]] = {
            lid: (old, run.live[lid]) for lid, old in run.updated.items()}
        for lid, (old, attempted) in run.failed_updates.items():
            targets[lid] = (old, replace(old, properties=attempted))
        restored = dict(previous)
        leftovers: dict[str, ResourceState] = {}
        lock = threading.Lock()

        def roll_back(lid: str) -> bool:
            old, current = targets[lid]
            self._event("UPDATE_IN_PROGRESS", old.resource_type, lid)
            answer = self._send(CustomResourceRequest(
                "Update", lid, old.resource_type, old.service_token, old.properties,
                old_properties=current.properties, physical_id=current.physical_id))
            with lock:
                if not answer.succeeded:
                    restored[lid] = current
                    self._event("UPDATE_FAILED", old.resource_type, lid, answer.reason)
                    return False
                restored[lid] = old.answered(answer.physical_id, dict(answer.data))
                if answer.physical_id != current.physical_id:
                    leftovers[lid] = current
            self._event("UPDATE_COMPLETE", old.resource_type, lid)
            return True

        graph = {lid: set(targets[lid][0].depends_on) for lid in targets}
        outcomes = run_in_order(graph, roll_back, stop_on_failure=False)
        cleanup = {lid: run.live[lid] for lid in run.created}
        cleanup.update(run.failed_creates)
        cleanup.update(leftovers)
        self._stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        left = self._delete_all(cleanup, created_now=set(cleanup), replaced=frozenset(leftovers))
        restored.update(left)
        status = "UPDATE_ROLLBACK_COMPLETE" if all(outcomes.values()) else "UPDATE_ROLLBACK_FAILED"
        self._stack_event(status)
        return StackResult(status, restored, run.failures)

    # --- delete ---------------------------------------------------------------------

    def destroy(self, previous: Mapping[str, ResourceState]) -> StackResult:
        """Delete every resource, dependents first, skipping those whose DeletionPolicy retains them."""
        self._events.begin_stack(self.stack_name, len(previous))
        self._stack_event("DELETE_IN_PROGRESS", "User Initiated")
        left = self._delete_all(dict(previous), created_now=set())
        status = "DELETE_FAILED" if left else "DELETE_COMPLETE"
        self._stack_event(status)
        return StackResult(status, left)

    def _delete_all(self, doomed: Mapping[str, ResourceState], created_now: set[str],
                    replaced: frozenset[str] = frozenset()) -> dict[str, ResourceState]:
        """Delete resources in reverse dependency order; returns those still there afterwards.

        `replaced` names the resources deleted because they were replaced (UpdateReplacePolicy
        applies); `created_now` those created by this operation (RetainExceptOnCreate deletes them).
        """
        left: dict[str, ResourceState] = {}
        lock = threading.Lock()

        def delete(lid: str) -> bool:
            state = doomed[lid]
            policy = state.update_replace_policy if lid in replaced else state.deletion_policy
            if not self._delete_one(state, policy, lid in created_now):
                with lock:
                    left[lid] = state
                return False
            return True

        graph = {lid: {d for d in state.depends_on if d in doomed} for lid, state in doomed.items()}
        outcomes = run_in_order(reversed_graph(graph), delete, stop_on_failure=False)
        left.update({lid: doomed[lid] for lid, outcome in outcomes.items() if outcome is None})
        return left

    def _delete_one(self, state: ResourceState, policy: str, created_now: bool) -> bool:
        if policy in RETAINING_POLICIES and not (policy == "RetainExceptOnCreate" and created_now):
            self._event("DELETE_SKIPPED", state.resource_type, state.logical_id,
                        f"{policy} policy: {state.physical_id} is kept")
            return True
        self._event("DELETE_IN_PROGRESS", state.resource_type, state.logical_id)
        answer = self._send(CustomResourceRequest(
            "Delete", state.logical_id, state.resource_type, state.service_token, state.properties,
            physical_id=state.physical_id))
        if not answer.succeeded:
            self._event("DELETE_FAILED", state.resource_type, state.logical_id, answer.reason)
            return False
        self._event("DELETE_COMPLETE", state.resource_type, state.logical_id)
        return True

    # --- helpers --------------------------------------------------------------------

    def _remembered(self, resource: DesiredResource, properties: dict[str, Any],
                    physical_id: str, data: dict[str, Any]) -> ResourceState:
        return ResourceState(
            logical_id=resource.logical_id, resource_type=resource.resource_type, physical_id=physical_id,
            properties=properties, data=data, service_token=str(properties.get("ServiceToken", "")),
            depends_on=sorted(resource.depends_on), deletion_policy=resource.deletion_policy,
            update_replace_policy=resource.update_replace_policy,
        )

    def _event(self, status: str, resource_type: str, logical_id: str, reason: str = "") -> None:
        self._events.event(self.stack_name, status, resource_type, logical_id, reason)

    def _stack_event(self, status: str, reason: str = "") -> None:
        self._events.event(self.stack_name, status, STACK_TYPE, self.stack_name, reason)
