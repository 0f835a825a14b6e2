"""What one CloudFormation request does to a Neptune ML endpoint.

`MlEndpointResource.start()` makes the request's first API calls (on_create, on_update,
on_delete) and returns either `Finished` or a `Wait`: the one thing still to be seen.
`MlEndpointResource.check(wait)` looks once (is_complete) and returns the next outcome. A
request that cannot succeed raises `RequestFailed` with a Reason a person can act on and the
PhysicalResourceId CloudFormation should keep, so the rollback's Delete removes what exists.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

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
from neptune_data_client import EndpointStatus, NeptuneApiError, NeptuneDataClient, StartedEndpoint

from neptune_ml_endpoint.schema import (
    ATTR_ARN,
    ATTR_CREATION_TIME,
    ATTR_ID,
    ATTR_SAGEMAKER_ENDPOINT_ARN,
    ATTR_SAGEMAKER_ENDPOINT_NAME,
    ENDPOINT_ID_MAX_LENGTH,
    EndpointSpec,
    PropertyError,
    check_endpoint_id,
    is_endpoint_id,
    parse_connection,
    parse_properties,
)

logger = logging.getLogger(__name__)

READY = "InService"
FAILED = "Failed"
DELETING = "Deleting"
REASON_LIMIT = 256  # crhelper cuts longer Reasons, keeping their end
_HASH_LENGTH = 12

ClientFactory = Callable[[str, "str | None"], NeptuneDataClient]


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
        )


@dataclass(frozen=True)
class Finished:
    """The request succeeded: answer with this physical id and these attributes."""

    physical_id: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Wait:
    """What the request is waiting for: an endpoint to be `ready` (InService), `deleted`, or
    `settled` (no change in progress) before the held update is sent. Travels as helper.Data."""

    kind: str
    endpoint_id: str
    arn: str = ""
    creation_time: str = "0"
    marked: bool = False  # a creation marker of this request exists until the request is answered

    READY = "ready"
    DELETED = "deleted"
    SETTLED = "settled"
    _DATA_KEY = "NeptuneMlEndpointWait"

    def to_data(self) -> dict[str, Any]:
        return {self._DATA_KEY: asdict(self)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Wait:
        return cls(**data[cls._DATA_KEY])


Outcome = Finished | Wait


def derive_endpoint_id(stack_id: str, logical_id: str, request_id: str) -> str:
    """A valid endpoint id, the same for every invocation of one request: the logical id's
    letters and digits, then a hash of the stack, the logical id and the request."""
    digest = hashlib.sha256(f"{stack_id}\n{logical_id}\n{request_id}".encode()).hexdigest()[:_HASH_LENGTH]
    prefix = re.sub(r"[^A-Za-z0-9]", "", logical_id)[: ENDPOINT_ID_MAX_LENGTH - _HASH_LENGTH - 1] or "endpoint"
    return check_endpoint_id(f"{prefix}-{digest}")


def short_reason(text: str, limit: int = REASON_LIMIT) -> str:
    """The reason cut to fit CloudFormation's display, keeping its start (what failed and why)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_settled(status: str) -> bool:
    """InService and Failed end a change; every other status is still in progress."""
    return status in (READY, FAILED)


class MlEndpointResource:
    """One request (event) for a Custom::NeptuneMlEndpoint: decisions here, calls in the client."""

    def __init__(self, request: Request, client_factory: ClientFactory = NeptuneDataClient,
                 markers: MarkerStore | None = None) -> None:
        self.request = request
        self._client_factory = client_factory
        self._markers: MarkerStore = markers if markers is not None else EventBridgeMarkers()
        self.marked = False
        """True once this request has a creation marker to remove when it is answered."""

    # --- the first step ------------------------------------------------------------

    def start(self) -> Outcome:
        """on_create / on_update / on_delete: the request's first calls."""
        steps = {"Create": self.on_create, "Update": self.on_update, "Delete": self.on_delete}
        step = steps.get(self.request.request_type)
        if step is None:
            raise RequestFailed(f"Unknown RequestType {self.request.request_type!r}", None)
        return step()

    def on_create(self) -> Outcome:
        spec = self._parse()
        endpoint_id = spec.endpoint_id or self._derived_id()
        return self._create_or_adopt(spec, endpoint_id)

    def on_update(self) -> Outcome:
        spec = self._parse()
        current_id = self.request.physical_id
        if self._rolls_back_an_update_never_sent(spec):
            return self._unchanged(current_id)
        cluster_changed = spec.neptune_endpoint != self._old_neptune_endpoint()
        target_id = spec.endpoint_id or (
            current_id
            if is_endpoint_id(current_id) and not cluster_changed and not self.request.old_properties.get("Id")
            else self._derived_id()
        )
        if target_id != current_id:
            logger.info("Update: the endpoint id changes from %s to %s; creating a new endpoint",
                        current_id, target_id)
            return self._create_or_adopt(spec, target_id)
        if cluster_changed:
            raise RequestFailed(
                f"Update: NeptuneEndpoint changed while Id stays {target_id}. Give a new Id, or remove Id, "
                "to move the endpoint to another cluster", current_id)
        return self._guarded(target_id, lambda: self._update_in_place(spec, target_id))

    def _rolls_back_an_update_never_sent(self, spec: EndpointSpec) -> bool:
        """True for the rollback of an update that never sent the current endpoint anything.

        In a rollback, OldResourceProperties are the failed update's. When they do not parse, that
        update failed in this handler before reaching Neptune; when they name another explicit Id
        while the rollback keeps the current one, the failed update was a replacement that never
        touched the current endpoint. Either way it still runs the configuration being restored.
        """
        current_id = self.request.physical_id
        if not is_endpoint_id(current_id):
            return False
        try:
            failed = parse_properties(self.request.old_properties)
        except PropertyError as error:
            logger.info("Update: the previous properties are not valid (%s), so the update they describe was "
                        "never sent; keeping endpoint %s as it is", error.property_name, current_id)
            return True
        if spec.endpoint_id == current_id and failed.endpoint_id not in (None, current_id):
            logger.info("Update: the previous properties asked for endpoint %s, so endpoint %s was never sent "
                        "a change; keeping it as it is", failed.endpoint_id, current_id)
            return True
        return False

    def _unchanged(self, endpoint_id: str) -> Outcome:
        """SUCCESS for the endpoint as it is: one status read for the attributes, no change sent."""
        def read() -> Outcome:
            status = self._client().get_endpoint(endpoint_id)
            if status is None:
                raise RequestFailed(f"Update: endpoint {endpoint_id} no longer exists; was it deleted outside "
                                    "CloudFormation?", self.request.physical_id)
            return Finished(endpoint_id, self._attributes(Wait(Wait.READY, endpoint_id), status))
        return self._guarded(endpoint_id, read)

    def on_delete(self) -> Outcome:
        endpoint_id = self.request.physical_id
        if not is_endpoint_id(endpoint_id):
            logger.info("Delete: %r is not an endpoint id, so no endpoint was created; nothing to delete",
                        endpoint_id)
            return Finished(endpoint_id, {})
        try:
            address, role_arn = parse_connection(self.request.properties)
        except PropertyError as error:
            logger.info("Delete: properties are not valid (%s), so no endpoint was created with them; "
                        "nothing to delete", error.property_name)
            return Finished(endpoint_id, {})
        client = self._client_factory(address, role_arn)
        return self._guarded(endpoint_id, lambda: self._delete(client, endpoint_id))

    # --- one look at what the request waits for -------------------------------------

    def check(self, wait: Wait) -> Outcome:
        """is_complete: one status check, and the held update once the endpoint has settled."""
        self.marked = self.marked or wait.marked
        try:
            return self._guarded(wait.endpoint_id, lambda: self._check(wait))
        except RequestFailed:
            if wait.kind == Wait.READY:
                self._remove_failed_replacement(wait.endpoint_id)
            raise

    def _check(self, wait: Wait) -> Outcome:
        if wait.kind == Wait.DELETED:
            return self._delete(self._client(), wait.endpoint_id, first=False)
        status = self._client().get_endpoint(wait.endpoint_id)
        if wait.kind == Wait.SETTLED:
            return self._after_settling(self._parse(), wait, status)
        if status is None:
            raise RequestFailed(
                f"{self.request.request_type}: endpoint {wait.endpoint_id} disappeared while it was being "
                "set up; was it deleted outside CloudFormation?", self.physical_id_on_failure(wait.endpoint_id))
        if status.status == READY:
            logger.info("%s: endpoint %s is InService", self.request.request_type, wait.endpoint_id)
            return Finished(wait.endpoint_id, self._attributes(wait, status))
        if status.status == FAILED:
            self._fail_endpoint(status)
        return wait

    # --- steps ----------------------------------------------------------------------

    def _create_or_adopt(self, spec: EndpointSpec, endpoint_id: str) -> Outcome:
        """Create the endpoint, or adopt it when it is provably this request's own."""
        client = self._client_for(spec)
        if spec.endpoint_id is not None:
            return self._guarded(endpoint_id, lambda: self._create_named(client, spec, endpoint_id))

        def create_or_adopt() -> Outcome:
            # A derived id hashes the stack, the logical id and the RequestId: only this request uses it.
            existing = client.get_endpoint(endpoint_id)
            if existing is None:
                try:
                    started = client.create_endpoint(spec.create_request(endpoint_id, update=False))
                except NeptuneApiError:
                    # A create repeated after a lost answer is refused; the endpoint then exists.
                    existing = client.get_endpoint(endpoint_id)
                    if existing is None:
                        raise
                else:
                    logger.info("%s: creating endpoint %s", self.request.request_type, endpoint_id)
                    return self._ready_wait(started)
            return self._adopt(existing)

        return self._guarded(endpoint_id, create_or_adopt)

    def _create_named(self, client: NeptuneDataClient, spec: EndpointSpec, endpoint_id: str) -> Outcome:
        """Create under an explicit id, which anybody may have taken: adopt only with this request's marker.

        The rule: an endpoint under an explicit id is this request's own when (a) a marker of this
        RequestId says Neptune accepted its create, or (b) within this invocation the id was free,
        the create was sent, and Neptune refused only a repeat of it (an earlier attempt went
        unanswered). Anything else is somebody else's endpoint, or cannot be told apart from one:
        the request fails and reports no endpoint, so the rollback's Delete leaves it alone.
        """
        if len(self.request.logical_id) > LOGICAL_ID_MAX:
            raise RequestFailed(
                f"{self.request.request_type}: the logical id is longer than the {LOGICAL_ID_MAX} characters the "
                "creation marker of an explicit Id allows; nothing was created. Shorten the logical id",
                self.physical_id_on_failure(None))
        existing = client.get_endpoint(endpoint_id)
        marker = self._read_marker()
        own = marker if marker is not None and marker.belongs_to(self.request.request_id, endpoint_id) else None
        if own is not None:
            self.marked = True
        if existing is not None and self._restores_previous(marker, endpoint_id):
            logger.info("Update: endpoint %s is the one this resource held before its replacement; "
                        "returning to it", endpoint_id)
            return self._adopt(existing)
        if existing is not None:
            if own is None or own.phase != CREATED:
                raise self._taken(endpoint_id, maybe_ours=own is not None)
            self._refuse_if_deleting(existing)
            logger.info("%s: endpoint %s was created by an earlier try of this request (%s); adopting it",
                        self.request.request_type, endpoint_id, existing.status)
            return Wait(Wait.READY, endpoint_id, arn=own.arn, creation_time=own.creation_time, marked=True)
        self._write_marker(CreationMarker(self.request.request_id, endpoint_id, SENDING,
                                          previous=self._replaced_id()))
        try:
            started = client.create_endpoint(spec.create_request(endpoint_id, update=False))
        except NeptuneApiError as error:
            if client.get_endpoint(endpoint_id) is None:
                raise
            if not error.retried:
                raise self._taken(endpoint_id, maybe_ours=False) from None
            logger.info("%s: endpoint %s exists after a create whose first answer was lost; it is this "
                        "request's", self.request.request_type, endpoint_id)
            started = StartedEndpoint(endpoint_id, "", 0)
        else:
            logger.info("%s: creating endpoint %s", self.request.request_type, endpoint_id)
        self._write_marker(CreationMarker(self.request.request_id, endpoint_id, CREATED, started.arn,
                                          str(started.creation_time_in_millis), self._replaced_id()),
                           required=False)
        return replace(self._ready_wait(started), marked=True)

    def _replaced_id(self) -> str:
        """The endpoint an Update replaces (its current physical id); "" for a Create."""
        physical_id = self.request.physical_id
        return physical_id if self.request.request_type == "Update" and is_endpoint_id(physical_id) else ""

    def _restores_previous(self, marker: CreationMarker | None, endpoint_id: str) -> bool:
        """A rollback to the endpoint this resource held before the replacement its marker records."""
        return (self.request.request_type == "Update" and marker is not None and marker.previous == endpoint_id
                and marker.endpoint_id == self.request.physical_id)

    def _taken(self, endpoint_id: str, maybe_ours: bool) -> RequestFailed:
        """The failure for an explicit id that names an endpoint this request cannot prove it made."""
        kind = self.request.request_type
        if maybe_ours:
            reason = (f"{kind}: AlreadyExists: endpoint {endpoint_id} exists, and an earlier try of this request "
                      "stopped while creating it, so it may not be this stack's. It is left alone: delete it "
                      "if nothing else uses it, then deploy again")
        else:
            reason = (f"{kind}: AlreadyExists: endpoint id {endpoint_id} is taken by an endpoint this stack did "
                      "not create; it is left alone. Choose another Id (endpoint_id), or leave it out to derive one")
        logger.info("%s: endpoint id %s is taken; not adopting it", kind, endpoint_id)
        return RequestFailed(reason, self.physical_id_on_failure(None))

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
            logger.info("%s: could not record that endpoint %s was created: %s", self.request.request_type,
                        marker.endpoint_id, error)
        self.marked = True

    def forget_marker(self, answered_id: str | None) -> None:
        """Remove this resource's marker once the request is answered with answered_id (Delete: any left
        behind). A replacement keeps it: the Delete CloudFormation sends for one of the two endpoints
        removes it, and until then a rollback may return to the previous endpoint."""
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

    def _refuse_if_deleting(self, existing: EndpointStatus) -> None:
        """An endpoint being deleted cannot be adopted: its id is free only once it is gone."""
        if existing.status == DELETING:
            raise RequestFailed(
                f"{self.request.request_type}: endpoint id {existing.endpoint_id} belongs to an endpoint that "
                "is being deleted. Wait until it is gone, or choose another Id", self.physical_id_on_failure(None))

    def _adopt(self, existing: EndpointStatus) -> Outcome:
        self._refuse_if_deleting(existing)
        logger.info("%s: endpoint %s already exists (%s); adopting it", self.request.request_type,
                    existing.endpoint_id, existing.status)
        return Wait(Wait.READY, existing.endpoint_id, arn=existing.sagemaker_arn, creation_time="0")

    def _update_in_place(self, spec: EndpointSpec, endpoint_id: str) -> Outcome:
        status = self._client_for(spec).get_endpoint(endpoint_id)
        if status is not None and not is_settled(status.status) and status.status != DELETING:
            logger.info("Update: endpoint %s is %s; waiting for it to settle before sending the update",
                        endpoint_id, status.status)
            return Wait(Wait.SETTLED, endpoint_id)
        return self._after_settling(spec, Wait(Wait.SETTLED, endpoint_id), status)

    def _after_settling(self, spec: EndpointSpec, wait: Wait, status: EndpointStatus | None) -> Outcome:
        """Send the held update once nothing is in progress; recreate an endpoint deleted out of band."""
        client = self._client_for(spec)
        if status is None:
            logger.info("Update: endpoint %s no longer exists; creating it again", wait.endpoint_id)
            return self._ready_wait(client.create_endpoint(spec.create_request(wait.endpoint_id, update=False)))
        if status.status == DELETING:
            raise RequestFailed(
                f"Update: endpoint {wait.endpoint_id} is being deleted outside CloudFormation. Wait until it "
                "is gone, then update the stack again", self.request.physical_id)
        if not is_settled(status.status):
            return wait
        logger.info("Update: endpoint %s is %s; sending the update", wait.endpoint_id, status.status)
        return self._ready_wait(client.create_endpoint(spec.create_request(wait.endpoint_id, update=True)))

    def _delete(self, client: NeptuneDataClient, endpoint_id: str, first: bool = True) -> Outcome:
        """Delete the endpoint (again, if a look finds it not Deleting) until Neptune no longer knows it."""
        if not first:
            status = client.get_endpoint(endpoint_id)
            if status is None:
                logger.info("Delete: endpoint %s is gone", endpoint_id)
                return Finished(endpoint_id, {})
            if status.status == DELETING:
                return Wait(Wait.DELETED, endpoint_id)
        try:
            started = client.delete_endpoint(endpoint_id)
        except NeptuneApiError as error:
            if error.code != "PreconditionsFailedException":
                raise
            logger.info("Delete: endpoint %s is busy (%s); trying again later", endpoint_id, error.detail)
            return Wait(Wait.DELETED, endpoint_id)
        if not started:
            logger.info("Delete: endpoint %s does not exist; nothing to delete", endpoint_id)
            return Finished(endpoint_id, {})
        logger.info("Delete: deleting endpoint %s", endpoint_id)
        return Wait(Wait.DELETED, endpoint_id)

    def _fail_endpoint(self, status: EndpointStatus) -> None:
        """An endpoint that ended Failed fails the request."""
        logger.info("%s: endpoint %s ended Failed", self.request.request_type, status.endpoint_id)
        raise RequestFailed(
            f"{self.request.request_type}: endpoint {status.endpoint_id} ended Failed: "
            f"{status.failure_reason or 'Neptune gave no failureReason'}",
            self.physical_id_on_failure(status.endpoint_id),
        )

    def _remove_failed_replacement(self, endpoint_id: str) -> None:
        """A failed Update reports the old id, so CloudFormation never deletes the new endpoint: do it now."""
        if self.request.request_type != "Update" or endpoint_id == self.request.physical_id:
            return
        logger.info("Update: replacement endpoint %s did not become ready; deleting it", endpoint_id)
        try:
            self._client().delete_endpoint(endpoint_id)
        except (NeptuneApiError, RequestFailed) as error:
            logger.info("Update: could not delete endpoint %s: %s", endpoint_id, error)

    # --- helpers --------------------------------------------------------------------

    def _guarded(self, endpoint_id: str, step: Callable[[], Outcome]) -> Outcome:
        """Run a step; an API error fails the request, keeping the endpoint it concerns."""
        try:
            return step()
        except NeptuneApiError as error:
            raise RequestFailed(f"{self.request.request_type}: {error.reason}",
                                self.physical_id_on_failure(endpoint_id)) from None

    def _parse(self) -> EndpointSpec:
        try:
            return parse_properties(self.request.properties)
        except PropertyError as error:
            logger.info("%s: invalid property %s", self.request.request_type, error.property_name)
            raise RequestFailed(str(error), self.physical_id_on_failure(None)) from None

    def physical_id_on_failure(self, endpoint_id: str | None) -> str | None:
        """Create keeps the endpoint it started (None: none); Update and Delete keep their own."""
        if self.request.request_type == "Create":
            return endpoint_id
        return self.request.physical_id or None

    def _old_neptune_endpoint(self) -> str | None:
        try:
            return parse_connection(self.request.old_properties)[0]
        except PropertyError:
            return None

    def _derived_id(self) -> str:
        return derive_endpoint_id(self.request.stack_id, self.request.logical_id, self.request.request_id)

    def _client_for(self, spec: EndpointSpec) -> NeptuneDataClient:
        return self._client_factory(spec.neptune_endpoint, spec.role_arn)

    def _client(self) -> NeptuneDataClient:
        if self.request.request_type == "Delete":
            return self._client_factory(*parse_connection(self.request.properties))
        return self._client_for(self._parse())

    @staticmethod
    def _ready_wait(started: StartedEndpoint) -> Wait:
        return Wait(Wait.READY, started.endpoint_id, arn=started.arn,
                    creation_time=str(started.creation_time_in_millis))

    @staticmethod
    def _attributes(wait: Wait, status: EndpointStatus) -> dict[str, str]:
        return {
            ATTR_ARN: wait.arn or status.sagemaker_arn,
            ATTR_ID: wait.endpoint_id,
            ATTR_CREATION_TIME: wait.creation_time,
            ATTR_SAGEMAKER_ENDPOINT_NAME: status.sagemaker_name,
            ATTR_SAGEMAKER_ENDPOINT_ARN: status.sagemaker_arn,
        }
