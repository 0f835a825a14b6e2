"""What one CloudFormation request does to a Neptune ML endpoint.

`MlEndpointResource.start()` makes the request's first API calls (on_create, on_update,
on_delete) and returns either `Finished` or a `Wait`: the one thing still to be seen.
`MlEndpointResource.check(wait)` looks once (is_complete) and returns the next outcome. A
request that cannot succeed raises `RequestFailed` with a Reason a person can act on and the
PhysicalResourceId CloudFormation should keep, so the rollback's Delete removes what exists.
"""

from __future__ import annotations

import logging

from custom_resource import (
    REASON_LIMIT,
    ClientFactory,
    Finished,
    NeptuneMlResource,
    Outcome,
    Request,
    RequestFailed,
    Wait,
    derive_id,
    short_reason,
)
from neptune_data_client import EndpointStatus, NeptuneApiError, NeptuneDataClient, Started

from neptune_ml_endpoint.schema import (
    ATTR_ARN,
    ATTR_CREATION_TIME,
    ATTR_ID,
    ATTR_SAGEMAKER_ENDPOINT_ARN,
    ATTR_SAGEMAKER_ENDPOINT_NAME,
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

__all__ = ["REASON_LIMIT", "ClientFactory", "Finished", "MlEndpointResource", "Outcome", "Request", "RequestFailed",
           "Wait", "derive_endpoint_id", "is_settled", "short_reason"]


def derive_endpoint_id(stack_id: str, logical_id: str, request_id: str) -> str:
    """A valid endpoint id, the same for every invocation of one request: the logical id's
    letters and digits, then a hash of the stack, the logical id and the request."""
    return check_endpoint_id(derive_id(stack_id, logical_id, request_id, "endpoint"))


def is_settled(status: str) -> bool:
    """InService and Failed end a change; every other status is still in progress."""
    return status in (READY, FAILED)


class MlEndpointResource(NeptuneMlResource[EndpointSpec, EndpointStatus]):
    """One request (event) for a Custom::NeptuneMlEndpoint: decisions here, calls in the client."""

    noun = "endpoint"
    id_prop = "endpoint_id"

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
        if cluster_changed and spec.endpoint_id is None and self._lives_on_this_cluster(spec, current_id):
            logger.info("Update: endpoint %s is already on this NeptuneEndpoint (the rollback of a move to another "
                        "cluster, which never touched it); keeping it", current_id)
            return self._unchanged(current_id)
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
        update failed in this handler before reaching Neptune; when they asked for another endpoint
        (another explicit Id, or none where the rollback keeps its explicit Id, since removing an Id
        derives a new one), the failed update was a replacement that never touched the current
        endpoint. Either way it still runs the configuration being restored.
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
        asked_for_another = failed.endpoint_id != current_id and bool(failed.endpoint_id or spec.endpoint_id)
        if spec.endpoint_id in (None, current_id) and asked_for_another:
            logger.info("Update: the previous properties asked for endpoint %s, so endpoint %s was never sent "
                        "a change; keeping it as it is", failed.endpoint_id or "of a derived id", current_id)
            return True
        return False

    def _lives_on_this_cluster(self, spec: EndpointSpec, endpoint_id: str) -> bool:
        """True when the current endpoint exists on the cluster the properties name."""
        if not is_endpoint_id(endpoint_id):
            return False
        try:
            return self._client_for(spec).get_endpoint(endpoint_id) is not None
        except NeptuneApiError:
            return False  # the move goes on, and fails with its own reason if the cluster cannot be reached

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
                self.discard_replacement(wait.endpoint_id)
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

    def _lookup(self, client: NeptuneDataClient, resource_id: str) -> EndpointStatus | None:
        return client.get_endpoint(resource_id)

    def _send_create(self, client: NeptuneDataClient, spec: EndpointSpec, resource_id: str) -> Started:
        return client.create_endpoint(spec.create_request(resource_id, update=False))

    def _is_own_id(self, value: str) -> bool:
        return is_endpoint_id(value)

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

    def _discard(self, endpoint_id: str) -> None:
        self._client().delete_endpoint(endpoint_id)

    # --- helpers --------------------------------------------------------------------

    def _parse(self) -> EndpointSpec:
        try:
            return parse_properties(self.request.properties)
        except PropertyError as error:
            logger.info("%s: invalid property %s", self.request.request_type, error.property_name)
            raise RequestFailed(str(error), self.physical_id_on_failure(None)) from None

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
    def _attributes(wait: Wait, status: EndpointStatus) -> dict[str, str]:
        return {
            ATTR_ARN: wait.arn or status.sagemaker_arn,
            ATTR_ID: wait.endpoint_id,
            ATTR_CREATION_TIME: wait.creation_time,
            ATTR_SAGEMAKER_ENDPOINT_NAME: status.sagemaker_name,
            ATTR_SAGEMAKER_ENDPOINT_ARN: status.sagemaker_arn,
        }
