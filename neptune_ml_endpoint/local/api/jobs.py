"""The job store and its state machine: data processing, model training and model transform jobs.

A job is InProgress for its kind's Timings seconds (processing, training, transform), then
Completed; or Failed when it asks to: its id, or a part of one of its S3 locations (or a
transform's trainingJobName), starts with "failing-". Cancel moves a running job to Stopping,
then Stopped after Timings.stopping. Statuses are worked out from timestamps when read.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neptune_ml_endpoint.local.api.aws_names import log_url, sagemaker_arn
from neptune_ml_endpoint.local.api.endpoints import FAILING_JOB_PREFIX, Timings
from neptune_ml_endpoint.local.api.errors import BAD_REQUEST, NOT_FOUND, PRECONDITIONS_FAILED, ApiError
from neptune_ml_endpoint.local.api.job_validation import JobRequest
from neptune_ml_endpoint.local.api.routes import PROCESSING, TRAINING, TRANSFORM, Resource

IN_PROGRESS, COMPLETED, FAILED = "InProgress", "Completed", "Failed"
STOPPING, STOPPED = "Stopping", "Stopped"


@dataclass(frozen=True)
class _Stage:
    """One SageMaker job behind a Neptune ML job: a nested object of the Get answer."""

    field: str
    resource: str
    suffix: str
    log_group: str


@dataclass(frozen=True)
class _Kind:
    noun: str
    duration: Callable[[Timings], float]
    output_field: str
    failing_fields: tuple[str, ...]
    references: Mapping[str, Resource]
    """Body fields naming other jobs that must be Completed, and those jobs' kinds."""
    stages: tuple[_Stage, ...]
    main_stage: int
    """The stage whose ARN Start answers and which fails when the job asks to."""
    failure: str
    models_field: str | None = None


_PROCESSING_STAGE = _Stage("processingJob", "processing-job", "", "ProcessingJobs")
KINDS: dict[Resource, _Kind] = {
    PROCESSING: _Kind(
        "data processing job", lambda t: t.processing, "processedDataS3Location",
        ("id", "inputDataS3Location", "processedDataS3Location"),
        {"previousDataProcessingJobId": PROCESSING},
        (_PROCESSING_STAGE,), 0, "ClientError: Data processing failed; see job logs",
    ),
    TRAINING: _Kind(
        "model training job", lambda t: t.training, "trainModelS3Location", ("id", "trainModelS3Location"),
        {"dataProcessingJobId": PROCESSING, "previousModelTrainingJobId": TRAINING},
        (_Stage("processingJob", "processing-job", "-processing", "ProcessingJobs"),
         _Stage("hpoJob", "hyper-parameter-tuning-job", "", "TrainingJobs"),
         _Stage("modelTransformJob", "training-job", "-transform", "TrainingJobs")),
        1, "AlgorithmError: See job logs", "mlModels",
    ),
    TRANSFORM: _Kind(
        "model transform job", lambda t: t.transform, "modelTransformOutputS3Location",
        ("id", "trainingJobName", "modelTransformOutputS3Location"),
        {"dataProcessingJobId": PROCESSING, "mlModelTrainingJobId": TRAINING},
        (_Stage("baseProcessingJob", "processing-job", "-processing", "ProcessingJobs"),
         _Stage("remoteModelTransformJob", "training-job", "", "TrainingJobs")),
        1, "AlgorithmError: Model transform failed; see job logs", "models",
    ),
}


@dataclass
class _Job:
    request: JobRequest
    job_id: str
    creation_time_millis: int
    finishes_at: float
    failure_reason: str | None
    stopped_at: float | None = None
    clean: bool = False

    def status(self, now: float) -> str:
        if self.stopped_at is not None:
            return STOPPING if now < self.stopped_at else STOPPED
        if now < self.finishes_at:
            return IN_PROGRESS
        return FAILED if self.failure_reason else COMPLETED


@dataclass
class JobStore:
    """Every job the API knows, by kind, guarded by one lock. Jobs are never forgotten."""

    timings: Timings
    region: str
    account: str
    clock: Callable[[], float] = time.monotonic
    _jobs: dict[Resource, dict[str, _Job]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, request: JobRequest) -> dict[str, Any]:
        """Start*: a new job; refused when the id is taken or a job it names is not Completed."""
        kind = KINDS[request.kind]
        with self._lock:
            now = self.clock()
            job_id = request.job_id or str(uuid.uuid4())
            if job_id in self._jobs[request.kind]:
                raise ApiError(BAD_REQUEST, f"A {kind.noun} with id {job_id!r} already exists; jobs cannot "
                                            "be changed or restarted, so start a new one with another id")
            for name, referenced_kind in kind.references.items():
                if name in request.fields:
                    self._require_completed(referenced_kind, request.fields[name], name, now, known=True)
            job = _Job(request, job_id, int(time.time() * 1000), now + kind.duration(self.timings),
                       _failure_reason(kind, request))
            self._jobs[request.kind][job_id] = job
            return {"id": job_id, "arn": self._arn(request.kind, job_id, kind.main_stage),
                    "creationTimeInMillis": job.creation_time_millis}

    def describe(self, kind: Resource, job_id: str) -> dict[str, Any]:
        """Get*: the status and the nested SageMaker jobs (failureReason and log URL included)."""
        with self._lock:
            job = self._existing(kind, job_id)
            status = job.status(self.clock())
            answer: dict[str, Any] = {"status": status, "id": job_id}
            info = KINDS[kind]
            for index, stage in enumerate(info.stages):
                stage_status = _stage_status(status, index, info.main_stage)
                if stage_status is not None:
                    answer[stage.field] = self._stage(kind, job, index, stage_status)
            if status == COMPLETED and info.models_field:
                answer[info.models_field] = [{"name": job_id, "arn": self._sagemaker_arn("model", job_id)}]
            return answer

    def cancel(self, kind: Resource, job_id: str, clean: bool) -> dict[str, Any]:
        """Cancel*: a running job starts stopping (once); a finished one cannot be cancelled."""
        with self._lock:
            now = self.clock()
            job = self._existing(kind, job_id)
            status = job.status(now)
            if status == IN_PROGRESS:
                job.stopped_at = now + self.timings.stopping
                job.clean = clean
            elif status != STOPPING:
                raise ApiError(PRECONDITIONS_FAILED, f"The {KINDS[kind].noun} {job_id!r} is {status}; only a "
                                                     f"job that is {IN_PROGRESS} can be cancelled")
            return {"status": STOPPING}

    def ids(self, kind: Resource) -> list[str]:
        """Every job of a kind, oldest first."""
        with self._lock:
            return list(self._jobs[kind])

    def request_fields(self, kind: Resource, job_id: str) -> dict[str, Any] | None:
        """The fields of the job's Start request; None when the API has never heard of it."""
        with self._lock:
            job = self._jobs[kind].get(job_id)
            return dict(job.request.fields) if job else None

    def status(self, kind: Resource, job_id: str) -> str | None:
        """A job's status; None when the API has never heard of it."""
        with self._lock:
            job = self._jobs[kind].get(job_id)
            return job.status(self.clock()) if job else None

    def check_known_job(self, kind: Resource, job_id: str, field_name: str) -> None:
        """A job named elsewhere (an endpoint's model): Completed if this API knows it; unknown ids pass."""
        with self._lock:
            self._require_completed(kind, job_id, field_name, self.clock(), known=False)

    def _require_completed(self, kind: Resource, job_id: str, field_name: str, now: float,
                           known: bool) -> None:
        """Refuse a job that is not Completed; an unknown job is refused only when `known` is required."""
        job = self._jobs[kind].get(job_id)
        if job is None:
            if known:
                raise ApiError(NOT_FOUND, f"{field_name}: no {KINDS[kind].noun} with id {job_id!r} was found")
            return
        status = job.status(now)
        if status != COMPLETED:
            raise ApiError(PRECONDITIONS_FAILED, f"{field_name}: the {KINDS[kind].noun} {job_id!r} is {status}; "
                                                 f"it must be {COMPLETED}")

    def _existing(self, kind: Resource, job_id: str) -> _Job:
        job = self._jobs[kind].get(job_id)
        if job is None:
            raise ApiError(NOT_FOUND, f"No {KINDS[kind].noun} with id {job_id!r} was found")
        return job

    def _stage(self, kind: Resource, job: _Job, index: int, status: str) -> dict[str, Any]:
        stage = KINDS[kind].stages[index]
        name = job.job_id + stage.suffix
        details: dict[str, Any] = {"name": name, "arn": self._arn(kind, job.job_id, index), "status": status,
                                   "cloudwatchLogUrl": log_url(self.region, stage.log_group, name)}
        if not (status == STOPPED and job.clean):  # clean deletes the artifacts of a stopped job
            details["outputLocation"] = job.request.fields[KINDS[kind].output_field]
        if status == FAILED:
            details["failureReason"] = job.failure_reason
        return details

    def _arn(self, kind: Resource, job_id: str, stage_index: int) -> str:
        stage = KINDS[kind].stages[stage_index]
        return self._sagemaker_arn(stage.resource, job_id + stage.suffix)

    def _sagemaker_arn(self, resource: str, name: str) -> str:
        return sagemaker_arn(self.region, self.account, resource, name)


def _stage_status(status: str, index: int, failing_index: int) -> str | None:
    """A nested job's status: stages before a failure Completed, after it absent, else the job's own."""
    if status != FAILED:
        return status
    if index == failing_index:
        return FAILED
    return COMPLETED if index < failing_index else None


def _failure_reason(kind: _Kind, request: JobRequest) -> str | None:
    """The reason a job asking to fail ends Failed; None for every other job."""
    for name in kind.failing_fields:
        value = request.fields.get(name) if name != "id" else request.job_id
        if value is not None and _asks_to_fail(str(value)):
            return f"{kind.failure} ({name} is {value!r})"
    return None


def _asks_to_fail(value: str) -> bool:
    """True when a part of the value (an id, or a bucket or key part of an S3 URI) starts with "failing-"."""
    return any(part.startswith(FAILING_JOB_PREFIX) for part in value.removeprefix("s3://").split("/"))
