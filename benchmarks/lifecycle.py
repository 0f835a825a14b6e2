"""Create, update and delete endpoints through the handler and time each answer against the API's clock.

A step sets how long the local API's transition takes, invokes the handler with the request
and, once the API has recorded the request's CreateMLEndpoint (or DeleteMLEndpoint), knows the
moment the endpoint becomes InService (or gone): that call's arrival plus the transition time.
The step's delay is the answer's arrival at the receiver minus that moment. Steps that set a
transition time run one at a time (a lock), so concurrent endpoints each get their own time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from neptune_ml_endpoint.local.cloudformation.testing import LocalCloud

START_TIMEOUT = 60.0
"""Seconds a request may take to reach the API (a busy machine starting workers)."""


class BenchmarkError(RuntimeError):
    """A run that did not behave as the benchmark needs (a FAILED answer, a missing call)."""


@dataclass(frozen=True)
class StepTiming:
    """One request: how long its transition took and how long after it the answer arrived."""

    endpoint_id: str
    request_type: str
    transition_seconds: float
    started_at: float
    settled_at: float
    answered_at: float

    @property
    def delay(self) -> float:
        return self.answered_at - self.settled_at


@dataclass(frozen=True)
class Lifecycle:
    """Timings of one endpoint's create, update and (optionally) delete, each given in seconds."""

    create_seconds: float
    update_seconds: float | None = None
    delete_seconds: float | None = None


class LifecycleRunner:
    """Runs endpoints' lifecycles concurrently against one LocalCloud."""

    def __init__(self, cloud: LocalCloud, first_invocation_seconds: float = LocalCloud.LAMBDA_TIMEOUT_SECONDS,
                 answer_timeout: float = 180.0) -> None:
        """first_invocation_seconds: what CloudFormation's invocation has left (short: hand over to polling)."""
        self.cloud = cloud
        self.first_invocation_seconds = first_invocation_seconds
        self.answer_timeout = answer_timeout
        self._lock = threading.Lock()

    def run_all(self, prefix: str, lifecycles: Sequence[Lifecycle]) -> list[StepTiming]:
        """Every lifecycle at once (endpoint ids prefix-1, prefix-2, ...); all steps' timings."""
        with ThreadPoolExecutor(max_workers=max(1, len(lifecycles))) as threads:
            futures = [threads.submit(self.run, f"{prefix}-{number}", lifecycle)
                       for number, lifecycle in enumerate(lifecycles, start=1)]
            return [step for future in futures for step in future.result()]

    def run(self, endpoint_id: str, lifecycle: Lifecycle) -> list[StepTiming]:
        """Create the endpoint, then update it to a new training job, then delete it."""
        cloud = self.cloud
        logical_id = "Endpoint" + endpoint_id.replace("-", "")
        properties = cloud.properties(Id=endpoint_id)
        steps = [self._step(cloud.event("Create", properties, logical_id=logical_id), endpoint_id,
                            "CreateMLEndpoint", 1, "creating", lifecycle.create_seconds)]
        if lifecycle.update_seconds is not None:
            updated = cloud.properties(Id=endpoint_id, MlModelTrainingJobId="training-2")
            update = cloud.event("Update", updated, logical_id=logical_id, physical_id=endpoint_id,
                                 old_properties=properties)
            steps.append(self._step(update, endpoint_id, "CreateMLEndpoint", 2, "updating",
                                    lifecycle.update_seconds))
            properties = updated
        if lifecycle.delete_seconds is not None:
            delete = cloud.event("Delete", properties, logical_id=logical_id, physical_id=endpoint_id)
            steps.append(self._step(delete, endpoint_id, "DeleteMLEndpoint", 1, "deleting",
                                    lifecycle.delete_seconds))
        return steps

    def _step(self, event: dict[str, object], endpoint_id: str, operation: str, count: int,
              transition: str, seconds: float) -> StepTiming:
        with self._lock:
            setattr(self.cloud.api.timings, transition, seconds)
            self.cloud.invoke(event, self.first_invocation_seconds)
            call = self.cloud.wait_for_call(endpoint_id, operation, count, START_TIMEOUT)
        answer = self.cloud.answer(event, seconds + self.answer_timeout)
        if answer.body.get("Status") != "SUCCESS":
            raise BenchmarkError(f"{event['RequestType']} of {endpoint_id} answered {answer.body}")
        return StepTiming(endpoint_id, str(event["RequestType"]), seconds, call.at, call.at + seconds,
                          answer.received_at)
