"""What every resource type's request shares: the event's parts, the outcomes, and the ownership rule.

A resource class (one per resource type) turns a `Request` into an outcome: `Finished`, a `Wait`
(the one thing still to be seen, carried between invocations in crhelper's Data), or a raised
`RequestFailed` with a Reason a person can act on and the PhysicalResourceId CloudFormation should
keep. `NeptuneMlResource` holds the steps every type takes the same way: dispatching on the request
type, calling the API with readable failures, and creating under an explicit id, which is adopted
only when this request's creation marker proves it made it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Generic, TypeVar

from creation_marker import (
    CREATED,
    LOGICAL_ID_MAX,
    SENDING,
    CreationMarker,
    EventBridgeMarkers,
    MarkerError,
    MarkerStore,
    marker_name,
)
from neptune_data_client import NeptuneApiError, NeptuneDataClient, Started

logger = logging.getLogger(__name__)

REASON_LIMIT = 256  # crhelper cuts longer Reasons, keeping their end
_HASH_LENGTH = 12
ID_MAX_LENGTH = 63

ClientFactory = Callable[[str, "str | None"], NeptuneDataClient]
Spec = TypeVar("Spec")
Status = TypeVar("Status")


class RequestFailed(Exception):
    """The request's answer is FAILED with this reason and physical id (None: let crhelper make one)."""

    def __init__(self, reason: str, physical_id: str | None) -> None:
        self.reason = short_reason(reason)
        self.physical_id = physical_id
        super().__init__(self.reason)


@dataclass(frozen=True)
class Request:
    """The parts of a CloudFormation custom-resource event that decide what to do."""

    request_type: str
    stack_id: str
    logical_id: str
    request_id: str
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any] = field(default_factory=dict)
    physical_id: str = ""
    resource_type: str = ""

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        return cls(
            request_type=str(event["RequestType"]),
            stack_id=str(event["StackId"]),
            logical_id=str(event["LogicalResourceId"]),
            request_id=str(event["RequestId"]),
            properties=event.get("ResourceProperties") or {},
            old_properties=event.get("OldResourceProperties") or {},
            physical_id=str(event.get("PhysicalResourceId") or ""),
            resource_type=str(event.get("ResourceType") or ""),
        )


@dataclass(frozen=True)
class Finished:
    """The request succeeded: answer with this physical id and these attributes."""

    physical_id: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Wait:
    """What the request waits for, travelling as helper.Data between invocations.

    Endpoints wait to be `ready` (InService), `deleted`, or `settled` (no change in progress) before
    a held update is sent; jobs wait to be `ready` (Completed) or `deleted` (stopped).
    """

    kind: str
    resource_id: str
    arn: str = ""
    creation_time: str = "0"
    marked: bool = False  # a creation marker of this request exists until the request is answered
    give_up_at: float = 0.0  # epoch seconds: a job still running then is cancelled and the request fails

    READY = "ready"
    DELETED = "deleted"
    SETTLED = "settled"
    _DATA_KEY = "NeptuneMlEndpointWait"

    @property
    def endpoint_id(self) -> str:
        """The endpoint's (or job's) id: what the request waits on."""
        return self.resource_id

    def to_data(self) -> dict[str, Any]:
        return {self._DATA_KEY: asdict(self)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Wait:
        return cls(**data[cls._DATA_KEY])


Outcome = Finished | Wait


def derive_id(stack_id: str, logical_id: str, seed: str, fallback: str) -> str:
    """A valid resource id, the same for every invocation with the same seed: the logical id's
    letters and digits, then a hash of the stack, the logical id and the seed."""
    digest = hashlib.sha256(f"{stack_id}\n{logical_id}\n{seed}".encode()).hexdigest()[:_HASH_LENGTH]
    prefix = re.sub(r"[^A-Za-z0-9]", "", logical_id)[: ID_MAX_LENGTH - _HASH_LENGTH - 1] or fallback
    return f"{prefix}-{digest}"


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def short_reason(text: str, limit: int = REASON_LIMIT) -> str:
    """The reason cut to fit CloudFormation's display, keeping its start (what failed and why)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NeptuneMlResource(Generic[Spec, Status]):
    """The steps every resource type takes the same way; subclasses decide on_create/update/delete."""

    noun = "resource"
    id_prop = "id"
    """The construct's keyword argument for an explicit Id, named in messages."""

    def __init__(self, request: Request, client_factory: ClientFactory = NeptuneDataClient,
                 markers: MarkerStore | None = None) -> None:
        self.request = request
        self._client_factory = client_factory
        self._markers: MarkerStore = markers if markers is not None else EventBridgeMarkers()
        self.marked = False
        """True once this request has a creation marker to remove when it is answered."""

    def start(self) -> Outcome:
        """on_create / on_update / on_delete: the request's first calls."""
        steps = {"Create": self.on_create, "Update": self.on_update, "Delete": self.on_delete}
        step = steps.get(self.request.request_type)
        if step is None:
            raise RequestFailed(f"Unknown RequestType {self.request.request_type!r}", None)
        return step()

    def on_create(self) -> Outcome:
        raise NotImplementedError

    def on_update(self) -> Outcome:
        raise NotImplementedError

    def on_delete(self) -> Outcome:
        raise NotImplementedError

    def check(self, wait: Wait) -> Outcome:
        """is_complete: one look at what the request waits for."""
        raise NotImplementedError

    # --- what each type says about its API -------------------------------------------

    def _lookup(self, client: NeptuneDataClient, resource_id: str) -> Status | None:
        raise NotImplementedError

    def _send_create(self, client: NeptuneDataClient, spec: Spec, resource_id: str) -> Started:
        raise NotImplementedError

    def _adopt(self, existing: Status) -> Outcome:
        raise NotImplementedError

    def _ready_wait(self, started: Started) -> Wait:
        return Wait(Wait.READY, started.endpoint_id, arn=started.arn, creation_time=str(started.creation_time_in_millis))

    def _configuration_of(self, spec: Spec) -> str:
        """What the creation marker records of the configuration; nothing by default."""
        return ""

    def _refuse_if_deleting(self, existing: Status) -> None:
        """A resource that cannot be adopted as it is raises RequestFailed; by default any can."""

    # --- creating under an explicit id -------------------------------------------------

    def _create_named(self, client: NeptuneDataClient, spec: Spec, resource_id: str) -> Outcome:
        """Create under an explicit id, which anybody may have taken: adopt only with this request's marker.

        The rule: what exists under an explicit id is this request's own when (a) a marker of this
        RequestId says Neptune accepted its create, or (b) within this invocation the id was free,
        the create was sent, and Neptune refused only a repeat of it (an earlier attempt went
        unanswered). Anything else is somebody else's, or cannot be told apart from it: the
        request fails and reports no resource, so the rollback's Delete leaves it alone.
        """
        if len(self.request.logical_id) > LOGICAL_ID_MAX:
            raise RequestFailed(
                f"{self.request.request_type}: the logical id is longer than the {LOGICAL_ID_MAX} characters the "
                "creation marker of an explicit Id allows; nothing was created. Shorten the logical id",
                self.physical_id_on_failure(None))
        existing = self._lookup(client, resource_id)
        marker = self._read_marker()
        own = marker if marker is not None and marker.belongs_to(self.request.request_id, resource_id) else None
        if own is not None:
            self.marked = True
        if existing is not None and self._restores_previous(marker, resource_id):
            logger.info("Update: %s %s is the one this resource held before its replacement; returning to it",
                        self.noun, resource_id)
            return self._adopt(existing)
        if existing is not None:
            if own is None or own.phase != CREATED:
                raise self._taken(resource_id, maybe_ours=own is not None)
            self._refuse_if_deleting(existing)
            logger.info("%s: %s %s was created by an earlier try of this request; adopting it",
                        self.request.request_type, self.noun, resource_id)
            return Wait(Wait.READY, resource_id, arn=own.arn, creation_time=own.creation_time, marked=True)
        self._write_marker(CreationMarker(self.request.request_id, resource_id, SENDING,
                                          previous=self._replaced_id(), configuration=self._configuration_of(spec)))
        try:
            started = self._send_create(client, spec, resource_id)
        except NeptuneApiError as error:
            if self._lookup(client, resource_id) is None:
                raise
            if not error.retried:
                raise self._taken(resource_id, maybe_ours=False) from None
            logger.info("%s: %s %s exists after a create whose first answer was lost; it is this request's",
                        self.request.request_type, self.noun, resource_id)
            started = Started(resource_id, "", 0)
        else:
            logger.info("%s: creating %s %s", self.request.request_type, self.noun, resource_id)
        self._write_marker(CreationMarker(self.request.request_id, resource_id, CREATED, started.arn,
                                          str(started.creation_time_in_millis), self._replaced_id(),
                                          self._configuration_of(spec)),
                           required=False)
        return replace(self._ready_wait(started), marked=True)

    def _replaced_id(self) -> str:
        """What an Update replaces (its current physical id); "" for a Create."""
        physical_id = self.request.physical_id
        return physical_id if self.request.request_type == "Update" and self._is_own_id(physical_id) else ""

    def _is_own_id(self, value: str) -> bool:
        """True when value could be an id this type creates (and so may travel into a URL path)."""
        raise NotImplementedError

    def _restores_previous(self, marker: CreationMarker | None, resource_id: str) -> bool:
        """A rollback to what this resource held before the replacement its marker records."""
        return (self.request.request_type == "Update" and marker is not None and marker.previous == resource_id
                and marker.endpoint_id == self.request.physical_id)

    def _taken(self, resource_id: str, maybe_ours: bool) -> RequestFailed:
        """The failure for an explicit id that names something this request cannot prove it made."""
        kind = self.request.request_type
        if maybe_ours:
            reason = (f"{kind}: AlreadyExists: {self.noun} {resource_id} exists, and an earlier try of this request "
                      "stopped while creating it, so it may not be this stack's. It is left alone: delete it "
                      "if nothing else uses it, then deploy again")
        else:
            reason = (f"{kind}: AlreadyExists: {self.noun} id {resource_id} is taken by {_article(self.noun)} {self.noun} this stack "
                      f"did not create; it is left alone. Choose another Id ({self.id_prop}), or leave it out to "
                      "derive one")
        logger.info("%s: %s id %s is taken; not adopting it", kind, self.noun, resource_id)
        return RequestFailed(reason, self.physical_id_on_failure(None))

    # --- creation markers --------------------------------------------------------------

    def _read_marker(self) -> CreationMarker | None:
        try:
            return self._markers.get(self._marker_name())
        except MarkerError as error:
            raise RequestFailed(f"{self.request.request_type}: {error}", self.physical_id_on_failure(None)) from None

    def _write_marker(self, marker: CreationMarker, required: bool = True) -> None:
        try:
            self._markers.put(self._marker_name(), marker)
        except MarkerError as error:
            if required:
                raise RequestFailed(f"{self.request.request_type}: {error}; nothing was created",
                                    self.physical_id_on_failure(None)) from None
            logger.info("%s: could not record that %s %s was created: %s", self.request.request_type, self.noun,
                        marker.endpoint_id, error)
        self.marked = True

    def forget_marker(self, answered_id: str | None) -> None:
        """Remove this resource's marker once the request is answered with answered_id (Delete: any left
        behind). A replacement keeps it: the Delete CloudFormation sends for one of the two removes
        it, and until then a rollback may return to the previous one."""
        if self.request.request_type == "Update" and answered_id not in (None, self.request.physical_id):
            return
        if not (self.marked or self.request.request_type == "Delete"):
            return
        try:
            self._markers.remove(self._marker_name())
        except MarkerError as error:
            logger.info("%s: the creation marker stays: %s", self.request.request_type, error)

    def _marker_name(self) -> str:
        return marker_name(self.request.stack_id, self.request.logical_id)

    # --- helpers -----------------------------------------------------------------------

    def _guarded(self, resource_id: str, step: Callable[[], Outcome]) -> Outcome:
        """Run a step; an API error fails the request, keeping the resource it concerns."""
        try:
            return step()
        except NeptuneApiError as error:
            raise RequestFailed(f"{self.request.request_type}: {error.reason}",
                                self.physical_id_on_failure(resource_id)) from None

    def discard_replacement(self, resource_id: str) -> None:
        """A failed Update reports the old id, so CloudFormation never removes the new resource: do it now."""
        if self.request.request_type != "Update" or resource_id == self.request.physical_id:
            return
        try:
            self._discard(resource_id)
            logger.info("Update: the new %s %s is not kept; removed it", self.noun, resource_id)
        except (NeptuneApiError, RequestFailed) as error:
            logger.info("Update: the new %s %s was not removed (%s)", self.noun, resource_id, error)

    def _discard(self, resource_id: str) -> None:
        """Delete (or cancel) a resource this request started."""
        raise NotImplementedError

    def physical_id_on_failure(self, resource_id: str | None) -> str | None:
        """Create keeps what it started (None: nothing); Update and Delete keep their own."""
        if self.request.request_type == "Create":
            return resource_id
        return self.request.physical_id or None
