"""What one CloudFormation request does to a Neptune ML job: data processing, model training or model
transform (Custom::NeptuneMlDataProcessingJob, ...ModelTrainingJob, ...ModelTransformJob).

Jobs cannot be changed, and Start is not idempotent. So a job's id is derived from the stack, the
logical id and the job's configuration (its Start fields and RunKey): every invocation of a request
finds the job an earlier one started, a rollback finds the completed job it returns to, and a changed
configuration is a new job with a new physical id, which CloudFormation's cleanup then deletes. A
configuration whose job ended Failed or Stopped runs again under the id of its next run.
Create and Update answer once the job is Completed; Delete cancels a running job and answers once it
has stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from creation_marker import MarkerError, MarkerStore
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
)
from job_watcher import (
    SUCCESS,
    WATCHER_LOGICAL_ID_MAX,
    EventBridgeScheduler,
    Scheduler,
    Signal,
    Watch,
    WatchError,
    send_signal,
    tick,
    watcher_rule_name,
)
from neptune_data_client import (
    DATA_PROCESSING,
    MODEL_TRAINING,
    MODEL_TRANSFORM,
    JobKind,
    JobStatus,
    NeptuneApiError,
    NeptuneDataClient,
    Started,
)

from neptune_ml_endpoint.contract.jobs import (
    ATTR_ARN,
    ATTR_CREATION_TIME,
    ATTR_ID,
    ATTR_LOG_URL,
    ATTR_OUTPUT_LOCATION,
    DATA_PROCESSING_TYPE,
    JOB_CONTRACTS,
    MODEL_TRAINING_TYPE,
    MODEL_TRANSFORM_TYPE,
    JobSpec,
    parse_job_properties,
)
from neptune_ml_endpoint.contract.properties import ResourceContract
from neptune_ml_endpoint.contract.values import PropertyError, check_job_id
from neptune_ml_endpoint.schema import parse_connection

logger = logging.getLogger(__name__)

COMPLETED, FAILED, STOPPING, STOPPED = "Completed", "Failed", "Stopping", "Stopped"
ENDED_UNSUCCESSFULLY = (FAILED, STOPPED, STOPPING)
FINISHED = (COMPLETED, FAILED, STOPPED)
MAX_RUNS = 50
"""How many times one configuration may run (after Failed or Stopped runs) before the resource gives up."""
DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
GIVE_UP_MARGIN_SECONDS = 120.0
"""Time kept back from the custom resource's ServiceTimeout to cancel the job and answer."""


@dataclass(frozen=True)
class JobType:
    """A job resource type: its contract, the API's kind, and the Start field its output goes to."""

    contract: ResourceContract
    kind: JobKind
    output_field: str


JOB_TYPES = {
    DATA_PROCESSING_TYPE: JobType(JOB_CONTRACTS[DATA_PROCESSING_TYPE], DATA_PROCESSING, "processedDataS3Location"),
    MODEL_TRAINING_TYPE: JobType(JOB_CONTRACTS[MODEL_TRAINING_TYPE], MODEL_TRAINING, "trainModelS3Location"),
    MODEL_TRANSFORM_TYPE: JobType(JOB_CONTRACTS[MODEL_TRANSFORM_TYPE], MODEL_TRANSFORM,
                                  "modelTransformOutputS3Location"),
}


def derive_job_id(stack_id: str, logical_id: str, configuration_key: str, run: int = 1) -> str:
    """The job id of a configuration's run: the logical id's letters and digits and a hash."""
    return derive_id(stack_id, logical_id, f"{configuration_key}\n{run}", "job")


def is_job_id(value: str) -> bool:
    try:
        check_job_id(value, "Id")
    except PropertyError:
        return False
    return True


class MlJobResource(NeptuneMlResource[JobSpec, JobStatus]):
    """One request (event) for a job resource: decisions here, calls in the client."""

    id_prop = "job_id"

    def __init__(self, request: Request, client_factory: ClientFactory = NeptuneDataClient,
                 markers: MarkerStore | None = None, clock: Callable[[], float] = time.time,
                 scheduler: Scheduler | None = None, function_arn: str = "", signal: Signal = send_signal) -> None:
        super().__init__(request, client_factory, markers)
        self.job_type = JOB_TYPES[request.resource_type]
        self.noun = self.job_type.kind.noun
        self._clock = clock
        self._scheduler: Scheduler = scheduler if scheduler is not None else EventBridgeScheduler()
        self._function_arn = function_arn
        self._signal = signal

    # --- the first step ------------------------------------------------------------

    def on_create(self) -> Outcome:
        spec = self._parse()
        return self._start_job(spec)

    def on_update(self) -> Outcome:
        spec = self._parse()
        current = self.request.physical_id
        if is_job_id(current) and self._keeps_current_job(spec):
            return self._unchanged(current, spec)
        if spec.job_id is not None and spec.job_id == current and self._runs_this_configuration(current, spec):
            logger.info("Update: job %s was started with this configuration (the rollback of a refused change); "
                        "keeping it", current)
            return self._unchanged(current, spec)
        if spec.job_id is not None and spec.job_id == current:
            raise RequestFailed(
                f"Update: jobs cannot be changed, and the configuration changed while Id stays {current}. Give "
                f"a new Id ({self.id_prop}), or leave it out to derive one per configuration", current)
        return self._start_job(spec)

    def on_delete(self) -> Outcome:
        job_id = self.request.physical_id
        if not is_job_id(job_id):
            logger.info("Delete: %r is not a job id, so no job was started; nothing to cancel", job_id)
            return Finished(job_id, {})
        try:
            client = self._client_factory(*parse_connection(self.request.properties))
        except PropertyError as error:
            logger.info("Delete: properties are not valid (%s), so no job was started with them; nothing to "
                        "cancel", error.property_name)
            return Finished(job_id, {})
        if self.request.properties.get("CompletionSignalUrl"):
            self._stop_watching(job_id)
        return self._guarded(job_id, lambda: self._cancel(client, job_id))

    # --- one look at what the request waits for -------------------------------------

    def check(self, wait: Wait) -> Outcome:
        """is_complete: one status check; the job cancelled once the request's time is up."""
        self.marked = self.marked or wait.marked
        if wait.kind == Wait.DELETED:
            client = self._client_factory(*parse_connection(self.request.properties))
            return self._guarded(wait.resource_id, lambda: self._cancel(client, wait.resource_id))
        spec = self._parse()
        try:
            return self._guarded(wait.resource_id, lambda: self._check_running(spec, wait))
        except RequestFailed:
            self.discard_replacement(wait.resource_id)
            raise

    def _discard(self, job_id: str) -> None:
        self._client_for(self._parse()).cancel_job(self.job_type.kind, job_id, clean=False)

    def _check_running(self, spec: JobSpec, wait: Wait) -> Outcome:
        client = self._client_for(spec)
        status = client.get_job(self.job_type.kind, wait.resource_id)
        if status is None:
            raise RequestFailed(
                f"{self.request.request_type}: {self.noun} {wait.resource_id} disappeared while it ran; was it "
                "removed outside CloudFormation?", self.physical_id_on_failure(wait.resource_id))
        if status.status == COMPLETED:
            logger.info("%s: %s %s is Completed", self.request.request_type, self.noun, wait.resource_id)
            return Finished(wait.resource_id, self._attributes(spec, wait, status))
        if status.status in ENDED_UNSUCCESSFULLY:
            logger.info("%s: %s %s ended %s: %s", self.request.request_type, self.noun, wait.resource_id,
                        status.status, status.failure_text())
            # The Reason names no job id (the resource's physical id is it): room for the log URL.
            prefix = f"{self.request.request_type}: {self.noun} ended {status.status}: "
            raise RequestFailed(prefix + status.failure_reason(REASON_LIMIT - len(prefix)),
                                self.physical_id_on_failure(wait.resource_id))
        if wait.give_up_at and self._clock() >= wait.give_up_at:
            self._cancel_on_time_out(client, wait.resource_id)
        return wait

    # --- steps ----------------------------------------------------------------------

    def _keeps_current_job(self, spec: JobSpec) -> bool:
        """True when the update leaves the job as it is: the configuration is the same (Clean may change),
        or it is the rollback of an update that never reached the current job (see the endpoint's rule)."""
        try:
            previous = parse_job_properties(self.job_type.contract, self.request.old_properties)
        except PropertyError as error:
            logger.info("Update: the previous properties are not valid (%s), so the update they describe never "
                        "started a job; keeping job %s", error.property_name, self.request.physical_id)
            return True
        if previous.configuration_key() == spec.configuration_key():
            return True
        return spec.job_id == self.request.physical_id and previous.job_id != self.request.physical_id

    def _runs_this_configuration(self, job_id: str, spec: JobSpec) -> bool:
        """True when the creation marker says job_id was started with spec's configuration."""
        marker = self._read_marker()
        return marker is not None and marker.endpoint_id == job_id and marker.configuration == spec.configuration_key()

    def _configuration_of(self, spec: JobSpec) -> str:
        return spec.configuration_key()

    def forget_marker(self, answered_id: str | None) -> None:
        """A job under an explicit Id keeps its marker, the record of the configuration it runs, until the
        Delete of that job; everything else as for endpoints."""
        if not self.request.properties.get("Id"):
            super().forget_marker(answered_id)
            return
        if self.request.request_type != "Delete":
            return
        try:
            marker = self._markers.get(self._marker_name())
            if marker is None or marker.endpoint_id == self.request.physical_id:
                self._markers.remove(self._marker_name())
        except MarkerError as error:
            logger.info("Delete: the creation marker stays: %s", error)

    def _unchanged(self, job_id: str, spec: JobSpec) -> Outcome:
        """SUCCESS for the job as it is, after one status read for the attributes."""
        def read() -> Outcome:
            status = self._client_for(spec).get_job(self.job_type.kind, job_id)
            if status is None:
                raise RequestFailed(f"Update: {self.noun} {job_id} no longer exists; was it removed outside "
                                    "CloudFormation?", self.request.physical_id)
            if spec.completion_url:
                self._hand_to_watcher(spec, job_id, status)
            return Finished(job_id, self._attributes(spec, Wait(Wait.READY, job_id), status))
        return self._guarded(job_id, read)

    def _start_job(self, spec: JobSpec) -> Outcome:
        if len(self.request.logical_id) > WATCHER_LOGICAL_ID_MAX:
            # Jobs outlast an invocation: their wait needs crhelper's polling rule or the watcher's, whose names
            # add 8 characters to the logical id and stop at 64. Refused before a job could be left running.
            raise RequestFailed(
                f"{self.request.request_type}: the logical id is longer than the {WATCHER_LOGICAL_ID_MAX} "
                "characters the rules that wait for a job allow; no job was started. Shorten the logical id",
                self.physical_id_on_failure(None))
        client = self._client_for(spec)
        if spec.job_id is not None:
            outcome = self._guarded(spec.job_id, lambda: self._create_named(client, spec, spec.job_id or ""))
        else:
            outcome = self._guarded("", lambda: self._start_derived(client, spec))
        if isinstance(outcome, Wait) and spec.completion_url:
            try:
                return self._handed_to_watcher(spec, outcome)
            except RequestFailed:
                self.discard_replacement(outcome.resource_id)
                raise
        if isinstance(outcome, Wait):
            return Wait(outcome.kind, outcome.resource_id, outcome.arn, outcome.creation_time, outcome.marked,
                        give_up_at=self._give_up_at())
        return outcome

    def _handed_to_watcher(self, spec: JobSpec, outcome: Wait) -> Outcome:
        """SUCCESS once the job started: the WaitCondition after the resource waits for its watcher's signal."""
        try:
            status = self._client_for(spec).get_job(self.job_type.kind, outcome.resource_id)
        except NeptuneApiError:
            status = None  # the watcher looks again
        self._hand_to_watcher(spec, outcome.resource_id, status)
        return Finished(outcome.resource_id, self._started_attributes(spec, outcome))

    def _hand_to_watcher(self, spec: JobSpec, job_id: str, status: JobStatus | None) -> None:
        """Signal the handle now when the job has already completed (a rollback or a kept job); else set up
        the watcher that signals it when the job ends."""
        if status is not None and status.status == COMPLETED:
            try:
                self._signal(spec.completion_url, SUCCESS, f"Job {job_id} completed", job_id, job_id)
            except WatchError as error:
                logger.info("%s: %s; the watcher signals instead", self.request.request_type, error)
            else:
                logger.info("%s: %s %s has completed; signalled its WaitCondition", self.request.request_type,
                            self.noun, job_id)
                return
        self._watch(spec, job_id)
        logger.info("%s: %s %s is %s; the WaitCondition after this resource waits for it", self.request.request_type,
                    self.noun, job_id, status.status if status is not None else "started")

    def _watch(self, spec: JobSpec, job_id: str) -> None:
        """Set up the job's watcher, which signals the WaitCondition's handle when the job ends."""
        timeout = spec.completion_timeout
        watch = Watch(self.request.resource_type, self.request.logical_id, job_id, spec.neptune_endpoint,
                      spec.role_arn or "", spec.completion_url,
                      self._clock() + timeout - min(GIVE_UP_MARGIN_SECONDS, timeout / 4))
        try:
            self._scheduler.put(watch, self._function_arn)
        except WatchError as error:
            raise RequestFailed(f"{self.request.request_type}: {error}", self.physical_id_on_failure(job_id)) from None

    def _stop_watching(self, job_id: str) -> None:
        try:
            self._scheduler.remove(watcher_rule_name(self.request.logical_id, job_id), self._function_arn)
        except WatchError as error:
            logger.info("Delete: %s; it stops itself once the job has ended", error)

    def _start_derived(self, client: NeptuneDataClient, spec: JobSpec) -> Outcome:
        """Start the configuration's job, or adopt the run an earlier invocation started or completed."""
        for run in range(1, MAX_RUNS + 1):
            job_id = derive_job_id(self.request.stack_id, self.request.logical_id, spec.configuration_key(), run)
            existing = client.get_job(self.job_type.kind, job_id)
            if existing is None:
                try:
                    started = self._send_create(client, spec, job_id)
                except NeptuneApiError:
                    # A Start repeated after a lost answer is refused; the job then exists.
                    existing = client.get_job(self.job_type.kind, job_id)
                    if existing is None:
                        raise
                else:
                    logger.info("%s: starting %s %s", self.request.request_type, self.noun, job_id)
                    return self._ready_wait(started)
            if existing.status not in ENDED_UNSUCCESSFULLY:
                return self._adopt(existing)
            logger.info("%s: an earlier run of this configuration, %s, ended %s; starting another",
                        self.request.request_type, job_id, existing.status)
        raise RequestFailed(f"{self.request.request_type}: this configuration ran {MAX_RUNS} times without "
                            "completing. Change the configuration or RunKey (run_key)",
                            self.physical_id_on_failure(None))

    def _lookup(self, client: NeptuneDataClient, resource_id: str) -> JobStatus | None:
        return client.get_job(self.job_type.kind, resource_id)

    def _send_create(self, client: NeptuneDataClient, spec: JobSpec, resource_id: str) -> Started:
        return client.start_job(self.job_type.kind, spec.start_request(resource_id))

    def _adopt(self, existing: JobStatus) -> Outcome:
        logger.info("%s: %s %s already exists (%s); adopting it", self.request.request_type, self.noun,
                    existing.job_id, existing.status)
        return Wait(Wait.READY, existing.job_id, arn=existing.main.arn, creation_time="0")

    def _is_own_id(self, value: str) -> bool:
        return is_job_id(value)

    def _cancel(self, client: NeptuneDataClient, job_id: str) -> Outcome:
        """Cancel a running job (clean if asked) and wait until it has stopped; a finished job is left as it is."""
        status = client.get_job(self.job_type.kind, job_id)
        if status is None or status.status in FINISHED:
            logger.info("Delete: %s %s is %s; nothing to cancel", self.noun, job_id,
                        status.status if status else "unknown")
            return Finished(job_id, {})
        clean = self._clean()
        if status.status != STOPPING:
            try:
                if not client.cancel_job(self.job_type.kind, job_id, clean=clean):
                    return Finished(job_id, {})
            except NeptuneApiError as error:
                if error.code != "PreconditionsFailedException":
                    raise
                logger.info("Delete: %s %s could not be cancelled now (%s); looking again", self.noun, job_id,
                            error.detail)
            else:
                logger.info("Delete: cancelling %s %s%s", self.noun, job_id, " and its S3 artifacts" if clean else "")
        return Wait(Wait.DELETED, job_id)

    def _cancel_on_time_out(self, client: NeptuneDataClient, job_id: str) -> None:
        """The request's time is up: cancel the job so nothing keeps running, and fail."""
        try:
            client.cancel_job(self.job_type.kind, job_id, clean=False)
        except NeptuneApiError as error:
            logger.info("%s: could not cancel %s %s: %s", self.request.request_type, self.noun, job_id, error)
        raise RequestFailed(
            f"{self.request.request_type}: {self.noun} {job_id} was still running when the resource's "
            "ServiceTimeout was nearly up, so it was cancelled. Give the construct a longer timeout",
            self.physical_id_on_failure(job_id))

    # --- helpers --------------------------------------------------------------------

    def _give_up_at(self) -> float:
        """When a job still running is cancelled: ServiceTimeout after now, less time to cancel and answer."""
        try:
            timeout = float(self.request.properties.get("ServiceTimeout") or DEFAULT_SERVICE_TIMEOUT_SECONDS)
        except (TypeError, ValueError):
            timeout = DEFAULT_SERVICE_TIMEOUT_SECONDS
        return self._clock() + timeout - min(GIVE_UP_MARGIN_SECONDS, timeout / 4)

    def _clean(self) -> bool:
        try:
            return parse_job_properties(self.job_type.contract, self.request.properties).clean
        except PropertyError:
            return False

    def _parse(self) -> JobSpec:
        try:
            return parse_job_properties(self.job_type.contract, self.request.properties)
        except PropertyError as error:
            logger.info("%s: invalid property %s", self.request.request_type, error.property_name)
            raise RequestFailed(str(error), self.physical_id_on_failure(None)) from None

    def _client_for(self, spec: JobSpec) -> NeptuneDataClient:
        return self._client_factory(spec.neptune_endpoint, spec.role_arn)

    def _started_attributes(self, spec: JobSpec, wait: Wait) -> dict[str, str]:
        """Attributes before the job ends: where its output will be; the log URL is not known yet."""
        return {
            ATTR_ID: wait.resource_id,
            ATTR_ARN: wait.arn,
            ATTR_CREATION_TIME: wait.creation_time,
            ATTR_OUTPUT_LOCATION: str(spec.api_fields.get(self.job_type.output_field, "")),
            ATTR_LOG_URL: "",
        }

    def _attributes(self, spec: JobSpec, wait: Wait, status: JobStatus) -> dict[str, str]:
        main = status.main
        return {
            ATTR_ID: wait.resource_id,
            ATTR_ARN: wait.arn or main.arn,
            ATTR_CREATION_TIME: wait.creation_time,
            ATTR_OUTPUT_LOCATION: main.output_location or str(spec.api_fields.get(self.job_type.output_field, "")),
            ATTR_LOG_URL: main.log_url,
        }


def watch_once(event: dict[str, Any], function_arn: str, client_factory: ClientFactory = NeptuneDataClient,
               scheduler: Scheduler | None = None) -> None:
    """One watcher tick (an EventBridge invocation): look at the job, signal once it ended, then stop."""
    watch = Watch.from_event(event)
    kind = JOB_TYPES[watch.resource_type].kind
    client = client_factory(watch.neptune_endpoint, watch.role_arn or None)

    def cancel() -> None:
        try:
            client.cancel_job(kind, watch.job_id, clean=False)
        except NeptuneApiError as error:
            logger.info("Watcher: could not cancel job %s: %s", watch.job_id, error)

    try:
        result = tick(watch, lambda: client.get_job(kind, watch.job_id), cancel)
    except (NeptuneApiError, WatchError) as error:
        logger.info("Watcher: %s; the next tick tries again", error)
        return
    if result.signal is not None:
        try:
            (scheduler if scheduler is not None else EventBridgeScheduler()).remove(watch.rule_name, function_arn)
        except WatchError as error:
            logger.info("Watcher: %s; the next tick signals again (the same UniqueId) and retries", error)
