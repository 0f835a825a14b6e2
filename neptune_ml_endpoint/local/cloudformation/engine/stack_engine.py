"""CloudFormation's decisions for one stack: create, update, replace, delete, roll back, clean up.

Every change to what the stack remembers goes to a StackRecord at once (a resource is recorded before its
Create is sent), and a request whose answer never came is sent again first, with its RequestId.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from graphlib import TopologicalSorter
from typing import Any, Protocol

from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import ResolveError
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
)
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState

MAX_PARALLEL = 8
_WAKE_SECONDS = 0.2


def run_in_order(prerequisites: Mapping[str, set[str]], action: Callable[[str], bool],
                 stop_on_failure: bool, max_parallel: int = MAX_PARALLEL,
                 halted: Callable[[], bool] = lambda: False, reverse: bool = False) -> dict[str, bool | None]:
    """Run action(node), in parallel, once each node's prerequisites (with reverse: dependents) have succeeded.

    Each node's outcome is the action's, or None when it never ran: a prerequisite failed, stop_on_failure
    saw a failure, or halted() said to start nothing more. Running work always finishes.
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


@dataclass(frozen=True)
class Remembered:
    """The stack's resources and leftovers at one moment."""

    resources: dict[str, ResourceState]
    leftovers: list[ResourceState]

    def doomed(self) -> dict[str, ResourceState]:
        """Every resource and leftover, keyed for deletion (a leftover by its logical and physical id)."""
        return {**self.resources, **{leftover_key(state): state for state in self.leftovers}}


Checkpoint = Callable[[Remembered], None]
Send = Callable[[CustomResourceRequest], CustomResourceAnswer]
Resolve = Callable[[str, Mapping[str, ResourceState]], dict[str, Any]]
"""resolve(logical_id, deployed resources) -> the resource's properties as strings."""
Check = Callable[[Mapping[str, ResourceState]], str]
"""check(resources) -> why an update that got its resources this far fails anyway (exports in use), or ""."""
STACK_TYPE = "AWS::CloudFormation::Stack"
RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
REPLACEMENT_NOTE = "Requested update requires the creation of a new physical resource; hence creating one."


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

    def state(self, properties: dict[str, Any], physical_id: str, data: Mapping[str, Any]) -> ResourceState:
        """The resource as CloudFormation remembers it once it has this physical id and Data."""
        return ResourceState(self.logical_id, self.resource_type, physical_id, properties, dict(data),
                             str(properties.get("ServiceToken", "")), sorted(self.depends_on),
                             self.deletion_policy, self.update_replace_policy)


@dataclass
class StackResult:
    """How a stack operation ended and what CloudFormation remembers afterwards."""

    status: str
    resources: dict[str, ResourceState]
    failures: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = True
    leftovers: list[ResourceState] = field(default_factory=list)
    interrupted: bool = False
    """Stopped half-way: `status` is the phase it stopped in; pending requests are in `resources`."""

    @property
    def succeeded(self) -> bool:
        return not self.interrupted and self.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE")


@dataclass
class _Run:
    """What happened to each resource during one deploy."""

    live: dict[str, ResourceState]
    created: list[str] = field(default_factory=list)
    updated: dict[str, ResourceState] = field(default_factory=dict)
    retyped: dict[str, ResourceState] = field(default_factory=dict)
    """Resources replaced because their type changed: logical id -> the old one."""
    failed_creates: dict[str, ResourceState] = field(default_factory=dict)
    failed_updates: dict[str, tuple[ResourceState, dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    stack_reason: str = ""
    """Why the update failed when no resource did (the rollback's reason)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


class StackEngine:
    """Plays CloudFormation for the custom resources of one stack; once halted() (Ctrl-C), it sends no new
    request and returns an interrupted result. checkpoint gets what is remembered after every change."""

    def __init__(self, stack_name: str, send: Send, events: EventSink, halted: Callable[[], bool] = lambda: False,
                 checkpoint: Checkpoint | None = None) -> None:
        self.stack_name = stack_name
        self._send = send
        self._events = events
        self._halted = halted
        self._checkpoint = checkpoint

    def deploy(self, desired: Mapping[str, DesiredResource], resolve: Resolve,
               previous: Mapping[str, ResourceState], leftovers: Sequence[ResourceState] = (),
               created: bool | None = None, check: Check = lambda resources: "") -> StackResult:
        """Create the stack or update it, rolling back on failure; until `created` (by default: whether anything
        is deployed), an interrupted create is carried on as a create, with the resources it recorded. An update
        whose resources succeeded still fails, and rolls back, when check(its resources) says why."""
        new_stack = not (bool(previous) if created is None else created)
        removed = {lid for lid in previous if lid not in desired}
        changed = {lid for lid, resource in desired.items() if self._differs(lid, resource, resolve, previous)}
        if not new_stack and not removed and not leftovers and not changed and not check(previous):
            return StackResult("UPDATE_COMPLETE", dict(previous), changed=False)
        verb = "CREATE" if new_stack else "UPDATE"
        record = StackRecord(previous, leftovers, self._checkpoint)
        self._events.begin_stack(self.stack_name, len(changed | removed | {state.logical_id for state in leftovers}))
        self._stack_event(f"{verb}_IN_PROGRESS", "User Initiated")
        if not self._resend_pending(record):
            return self._result(f"{verb}_IN_PROGRESS", record, interrupted=True)
        settled = record.now().resources
        run = _Run(live={lid: state for lid, state in settled.items() if lid in desired})
        prerequisites = {lid: set(resource.depends_on) for lid, resource in desired.items()}
        run_in_order(prerequisites, lambda lid: self._apply(desired[lid], resolve, settled.get(lid), run, record),
                     stop_on_failure=True, halted=self._halted)
        if self._halted():
            return self._result(f"{verb}_IN_PROGRESS", record, interrupted=True)
        if not run.failures and not new_stack and (refusal := check(record.now().resources)):
            run.failures.append((self.stack_name, refusal))
            run.stack_reason = refusal
        if run.failures:
            return self._roll_back_create(run, record) if new_stack else self._roll_back_update(run, record)
        now = record.now()
        cleanup = {lid: state for lid, state in now.resources.items() if lid not in desired}
        if cleanup or now.leftovers:
            self._stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            replaced = {leftover_key(state): state for state in now.leftovers}
            self._delete_all({**cleanup, **replaced}, record, created_now=set(), replaced=frozenset(replaced))
        return self._finish("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", f"{verb}_COMPLETE", record)

    @staticmethod
    def _differs(lid: str, resource: DesiredResource, resolve: Resolve,
                 previous: Mapping[str, ResourceState]) -> bool:
        """Whether the resource would get a Create or Update, judged against what is deployed now."""
        old = previous.get(lid)
        if old is None or old.resource_type != resource.resource_type or old.pending_request:
            return True
        try:
            return resolve(lid, previous) != old.properties
        except ResolveError:
            return True

    def _apply(self, resource: DesiredResource, resolve: Resolve, old: ResourceState | None, run: _Run,
               record: StackRecord) -> bool:
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
                unchanged = resource.state(properties, old.physical_id, old.data)
                if unchanged != old:  # only its policies changed: remembered without a request
                    record.put(unchanged)
                with run.lock:
                    run.live[lid] = unchanged
                return True
            return self._update(resource, properties, old, run, record)
        return self._create(resource, properties, old, run, record)

    def _create(self, resource: DesiredResource, properties: dict[str, Any], old: ResourceState | None,
                run: _Run, record: StackRecord) -> bool:
        lid = resource.logical_id
        request = CustomResourceRequest("Create", lid, resource.resource_type,
                                        str(properties.get("ServiceToken", "")), properties)
        pending = replace(resource.state(properties, "", {}), pending_request=request.request_id)
        if old is not None:
            record.retire(old)
        record.put(pending)
        self._event("CREATE_IN_PROGRESS", resource.resource_type, lid)
        answer = self._send(request)
        if answer.abandoned:
            record.put(replace(pending, physical_id=answer.physical_id))
            return False
        state = resource.state(properties, answer.physical_id, answer.data)
        if not answer.succeeded:  # not the stack's resource, but still to delete (the rollback does)
            with run.lock:
                run.failed_creates[lid] = state
            record.put(old if old is not None else state)
            record.retire(state)
            return self._failed(run, lid, resource.resource_type, "CREATE_FAILED", answer.reason, None, properties)
        record.put(state)
        self._event("CREATE_COMPLETE", resource.resource_type, lid)
        with run.lock:
            run.live[lid] = state
            run.created.append(lid)
            if old is not None:
                run.retyped[lid] = old
        return True

    def _update(self, resource: DesiredResource, properties: dict[str, Any], old: ResourceState,
                run: _Run, record: StackRecord) -> bool:
        lid = resource.logical_id
        request = CustomResourceRequest(
            "Update", lid, resource.resource_type, str(properties.get("ServiceToken", "")), properties,
            old_properties=old.properties, physical_id=old.physical_id)
        record.put(replace(old, pending_request=request.request_id, pending_properties=properties))
        self._event("UPDATE_IN_PROGRESS", resource.resource_type, lid)
        answer = self._send(request)
        if answer.abandoned:
            return False
        if not answer.succeeded:  # remembered as before it, so that a later deploy sends it again
            record.put(old)
            return self._failed(run, lid, resource.resource_type, "UPDATE_FAILED", answer.reason, old, properties)
        if answer.physical_id != old.physical_id:
            self._event("UPDATE_IN_PROGRESS", resource.resource_type, lid, REPLACEMENT_NOTE)
        state = resource.state(properties, answer.physical_id, answer.data)
        record.put(state)
        if answer.physical_id != old.physical_id:
            record.retire(old)
        self._event("UPDATE_COMPLETE", resource.resource_type, lid)
        with run.lock:
            run.live[lid] = state
            run.updated[lid] = old
        return True

    def _failed(self, run: _Run, lid: str, resource_type: str, status: str, reason: str,
                old: ResourceState | None, properties: dict[str, Any]) -> bool:
        self._event(status, resource_type, lid, reason)
        with run.lock:
            run.failures.append((lid, reason))
            if old is not None and status == "UPDATE_FAILED":
                run.failed_updates[lid] = (old, properties)
        return False

    def _resend_pending(self, record: StackRecord) -> bool:
        """Send again every request recorded without an answer; False when interrupted meanwhile."""
        pending = {lid: state for lid, state in record.now().resources.items() if state.pending_request}
        if pending:
            run_in_order({lid: set() for lid in pending}, lambda lid: self._resend(pending[lid], record),
                         stop_on_failure=False, halted=self._halted)
        return not self._halted()

    def _resend(self, state: ResourceState, record: StackRecord) -> bool:
        """One pending request, sent again with its RequestId; the handler answers it as it would have."""
        lid, kind = state.logical_id, state.resource_type
        is_update = state.pending_properties is not None
        verb = "UPDATE" if is_update else "CREATE"
        self._event(f"{verb}_IN_PROGRESS", kind, lid,
                    f"Sending again the {verb.title()} whose answer never came (RequestId {state.pending_request})")
        answer = self._send(CustomResourceRequest(
            verb.title(), lid, kind, state.service_token, state.pending_properties or state.properties,
            old_properties=state.properties if is_update else None,
            physical_id=state.physical_id if is_update else None, request_id=state.pending_request))
        if answer.abandoned:
            if not is_update:
                record.put(replace(state, physical_id=answer.physical_id or state.physical_id))
            return False
        if not answer.succeeded:
            self._event(f"{verb}_FAILED", kind, lid, answer.reason)
            if is_update:  # the resource stays as it was; the next deploy sends its update anew
                record.put(state.settled())
                return False
            failed = state.settled().answered(answer.physical_id, {})
            record.put(failed)  # a failed Create is followed by a Delete of the id the failure reported
            if not self._delete_one(failed, failed.deletion_policy, True, record):
                record.retire(failed)
            return False
        properties = state.pending_properties if is_update else state.properties
        answered = replace(state.settled(), properties=properties or {}).answered(answer.physical_id,
                                                                                   dict(answer.data))
        record.put(answered)
        if is_update and answer.physical_id != state.physical_id:
            record.retire(state.settled())
        self._event(f"{verb}_COMPLETE", kind, lid)
        return True

    def _roll_back_create(self, run: _Run, record: StackRecord) -> StackResult:
        names = ", ".join(lid for lid, _ in run.failures)
        self._stack_event("ROLLBACK_IN_PROGRESS",
                          f"The following resource(s) failed to create: [{names}]. Rollback requested by user.")
        doomed = record.now().doomed()  # everything this create made, an interrupted earlier try's included
        left = self._delete_all(doomed, record, created_now=set(doomed))
        return self._finish("ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED" if left else "ROLLBACK_COMPLETE", record,
                            run.failures)

    def _roll_back_update(self, run: _Run, record: StackRecord) -> StackResult:
        names = ", ".join(lid for lid, _ in run.failures)
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS",
                          run.stack_reason or f"The following resource(s) failed to create or update: [{names}].")
        targets: dict[str, tuple[ResourceState, ResourceState]] = {
            lid: (old, run.live[lid]) for lid, old in run.updated.items()}
        for lid, (old, attempted) in run.failed_updates.items():
            targets[lid] = (old, replace(old, properties=attempted))
        leftovers: dict[str, ResourceState] = {}
        lock = threading.Lock()

        def roll_back(lid: str) -> bool:
            old, current = targets[lid]
            self._event("UPDATE_IN_PROGRESS", old.resource_type, lid)
            answer = self._send(CustomResourceRequest(
                "Update", lid, old.resource_type, old.service_token, old.properties,
                old_properties=current.properties, physical_id=current.physical_id))
            if answer.abandoned:
                return False
            if not answer.succeeded:  # remembered as the update left it, so that a later deploy goes back
                record.put(current)
                self._event("UPDATE_FAILED", old.resource_type, lid, answer.reason)
                return False
            record.put(old.answered(answer.physical_id, dict(answer.data)))
            if answer.physical_id != current.physical_id:
                record.retire(current)
                with lock:
                    leftovers[leftover_key(current)] = current
            self._event("UPDATE_COMPLETE", old.resource_type, lid)
            return True

        graph = {lid: set(targets[lid][0].depends_on) for lid in targets}
        outcomes = run_in_order(graph, roll_back, stop_on_failure=False, halted=self._halted)
        if self._halted():
            return self._result("UPDATE_ROLLBACK_IN_PROGRESS", record, run.failures, interrupted=True)
        cleanup = {lid: run.live[lid] for lid in run.created}
        cleanup.update(run.failed_creates)
        cleanup.update(leftovers)
        for lid, old in run.retyped.items():  # the old resource is the stack's again; the new one goes
            record.put(old)
            record.retire(run.live[lid])
        self._stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        self._delete_all(cleanup, record, created_now=set(cleanup), replaced=frozenset(leftovers))
        status = "UPDATE_ROLLBACK_COMPLETE" if all(outcomes.values()) else "UPDATE_ROLLBACK_FAILED"
        return self._finish("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", status, record, run.failures)

    def destroy(self, previous: Mapping[str, ResourceState], leftovers: Sequence[ResourceState] = ()) -> StackResult:
        """Delete every resource and leftover, dependents first, skipping those whose policy retains them."""
        record = StackRecord(previous, leftovers, self._checkpoint)
        self._events.begin_stack(self.stack_name, len(previous) + len(leftovers))
        self._stack_event("DELETE_IN_PROGRESS", "User Initiated")
        if not self._resend_pending(record):
            return self._result("DELETE_IN_PROGRESS", record, interrupted=True)
        now = record.now()
        replaced = frozenset(leftover_key(state) for state in now.leftovers)
        left = self._delete_all(now.doomed(), record, created_now=set(), replaced=replaced)
        return self._finish("DELETE_IN_PROGRESS", "DELETE_FAILED" if left else "DELETE_COMPLETE", record)

    def _delete_all(self, doomed: Mapping[str, ResourceState], record: StackRecord, created_now: set[str],
                    replaced: frozenset[str] = frozenset()) -> dict[str, ResourceState]:
        """Delete resources, dependents first; returns those still there. UpdateReplacePolicy applies to those
        `replaced`, and RetainExceptOnCreate deletes those `created_now` (by this operation)."""
        left: dict[str, ResourceState] = {}
        lock = threading.Lock()

        def delete(key: str) -> bool:
            state = doomed[key]
            policy = state.update_replace_policy if key in replaced else state.deletion_policy
            if not self._delete_one(state, policy, key in created_now, record):
                with lock:
                    left[key] = state
                return False
            return True

        graph = {key: {d for d in state.depends_on if d in doomed} for key, state in doomed.items()}
        outcomes = run_in_order(graph, delete, stop_on_failure=False, halted=self._halted, reverse=True)
        left.update({key: doomed[key] for key, outcome in outcomes.items() if outcome is None})
        return left

    def _delete_one(self, state: ResourceState, policy: str, created_now: bool, record: StackRecord) -> bool:
        if policy in RETAINING_POLICIES and not (policy == "RetainExceptOnCreate" and created_now):
            self._event("DELETE_SKIPPED", state.resource_type, state.logical_id,
                        f"{policy} policy: {state.physical_id} is kept")
            record.gone(state)
            return True
        self._event("DELETE_IN_PROGRESS", state.resource_type, state.logical_id)
        answer = self._send(CustomResourceRequest(
            "Delete", state.logical_id, state.resource_type, state.service_token, state.properties,
            physical_id=state.physical_id))
        if answer.abandoned:
            return False
        if not answer.succeeded:
            self._event("DELETE_FAILED", state.resource_type, state.logical_id, answer.reason)
            return False
        record.gone(state)
        self._event("DELETE_COMPLETE", state.resource_type, state.logical_id)
        return True

    def _finish(self, in_progress: str, status: str, record: StackRecord,
                failures: Sequence[tuple[str, str]] = ()) -> StackResult:
        """The operation's final status, or the phase it stopped in when the command was interrupted."""
        if self._halted():
            return self._result(in_progress, record, failures, interrupted=True)
        self._stack_event(status)
        return self._result(status, record, failures)

    @staticmethod
    def _result(status: str, record: StackRecord, failures: Sequence[tuple[str, str]] = (),
                interrupted: bool = False) -> StackResult:
        now = record.now()
        return StackResult(status, now.resources, list(failures), leftovers=now.leftovers, interrupted=interrupted)

    def _event(self, status: str, resource_type: str, logical_id: str, reason: str = "") -> None:
        self._events.event(self.stack_name, status, resource_type, logical_id, reason)

    def _stack_event(self, status: str, reason: str = "") -> None:
        self._events.event(self.stack_name, status, STACK_TYPE, self.stack_name, reason)
