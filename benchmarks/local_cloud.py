"""Everything the handler talks to, locally, plus warm Lambda workers running the bundled handler.

    with LocalCloud(workers=8) as cloud:
        event = cloud.event("Create", cloud.properties(Id="ep-1"))
        cloud.invoke(event, seconds=900)
        answer = cloud.answer(event, timeout=60)

- the local Neptune ML API, on the wall clock (time.time) so its request records and the
  receiver's arrival times share one clock;
- a ResponseReceiver for crhelper's answers (real HTTPS) and LocalCloudStubs for the
  EventBridge rule and Lambda permission crhelper's polling makes;
- a pool of worker processes, each an execution environment that imported `index` from the
  asset folder made by build_handler_bundle (see lambda_worker.py).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from benchmarks import lambda_worker
from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs.bundling import build_handler_bundle
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, RecordedRequest, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import RUNNER, Invocation
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ReceivedResponse, ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.protocol import CloudFormationSide, CustomResourceRequest
from neptune_ml_endpoint.local.cloudformation.testing import fake_aws_environment, new_stack_id

STACK_ID = new_stack_id("bench")
LAMBDA_TIMEOUT_SECONDS = 900.0
"""The handler function's timeout (15 minutes): what a fresh invocation has left."""

FAKE_AWS_ENVIRONMENT = fake_aws_environment("us-east-1")


class LocalCloud:
    """The local API, response receiver, polling stubs and `workers` warm handler processes."""

    def __init__(self, workers: int, handler_settings: Mapping[str, str] | None = None,
                 log_file: str | Path | None = None) -> None:
        """log_file receives the workers' output (the handler's logs); a temporary file by default."""
        self.workers = workers
        self.handler_settings = dict(handler_settings or {})
        self.api = LocalNeptuneMlApi(timings=Timings(), clock=time.time)
        self.receiver = ResponseReceiver()
        self.stubs = LocalCloudStubs()
        self._asset_dir = tempfile.TemporaryDirectory(prefix="bench-handler-asset-")
        self.log_file = Path(log_file) if log_file else Path(self._asset_dir.name + ".log")
        self._pool: ProcessPoolExecutor | None = None
        self._cloudformation = CloudFormationSide(STACK_ID, self.receiver, _InvokedByThePool(),
                                                  busy=lambda request_id: False)

    def __enter__(self) -> Self:
        self.api.start()
        self.receiver.start()
        self.stubs.start()
        build_handler_bundle(Path(self._asset_dir.name))
        environment = {**FAKE_AWS_ENVIRONMENT, **self.receiver.env(), **self.stubs.env(), **self.handler_settings}
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=lambda_worker.start, initargs=(self._asset_dir.name, environment, str(self.log_file), str(RUNNER)),
        )
        self._check_workers()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.stubs.stop()
        self.receiver.stop()
        self.api.stop()
        self._asset_dir.cleanup()

    def _check_workers(self) -> None:
        """Start every worker now and check each runs the asset's copy of the handler."""
        assert self._pool is not None
        found = [self._pool.submit(lambda_worker.identify, 1.0) for _ in range(self.workers)]
        for future in found:
            _, schema_file = future.result(timeout=120)
            if not schema_file.startswith(self._asset_dir.name):
                raise RuntimeError(f"a worker imported the schema from {schema_file}, not from the asset")

    # --- CloudFormation's side ------------------------------------------------------

    def properties(self, **values: str) -> dict[str, str]:
        """Resource properties as CloudFormation sends them: strings, ServiceToken included."""
        return {"ServiceToken": lambda_worker.FUNCTION_ARN, "NeptuneEndpoint": self.api.url,
                "MlModelTrainingJobId": "training-1", **values}

    def event(self, request_type: str, properties: dict[str, str], *, logical_id: str = "Endpoint",
              physical_id: str | None = None, old_properties: dict[str, str] | None = None) -> dict[str, Any]:
        """A CloudFormation custom-resource request whose ResponseURL points at the receiver."""
        request = CustomResourceRequest(request_type, logical_id, schema.RESOURCE_TYPE, lambda_worker.FUNCTION_ARN,
                                        properties, old_properties, physical_id)
        return self._cloudformation.event(request, str(uuid.uuid4()))

    def invoke(self, event: dict[str, Any], seconds: float = LAMBDA_TIMEOUT_SECONDS) -> Future[None]:
        """One asynchronous invocation on a free worker, with `seconds` left in it."""
        assert self._pool is not None, "use LocalCloud in a with block"
        return self._pool.submit(lambda_worker.invoke, event, seconds)

    def answer(self, event: dict[str, Any], timeout: float) -> ReceivedResponse:
        """The first answer to the event's ResponseURL, waiting up to `timeout` seconds."""
        self.receiver.wait_for(event["RequestId"], timeout)
        return self.receiver.records(event["RequestId"])[0]

    # --- what the local API saw -----------------------------------------------------

    def api_calls(self, endpoint_id: str | None = None, operation: str | None = None) -> list[RecordedRequest]:
        """Requests the local API answered, for one endpoint and/or one operation, oldest first."""
        return [r for r in self.api.requests()
                if (endpoint_id is None or r.endpoint_id == endpoint_id)
                and (operation is None or r.operation == operation)]

    def wait_for_call(self, endpoint_id: str, operation: str, count: int, timeout: float) -> RecordedRequest:
        """The `count`-th successful call of `operation` for the endpoint, once the API has answered it."""
        end = time.monotonic() + timeout
        while True:
            done = [r for r in self.api_calls(endpoint_id, operation) if r.status_code == 200]
            if len(done) >= count:
                return done[count - 1]
            if time.monotonic() > end:
                raise TimeoutError(f"{operation} #{count} for {endpoint_id} did not happen within {timeout} s")
            time.sleep(0.01)


class _InvokedByThePool:
    """CloudFormationSide builds the events here; LocalCloud.invoke runs them, asynchronously."""

    def knows(self, function_arn: str) -> bool:
        return function_arn == lambda_worker.FUNCTION_ARN

    def invoke(self, function_arn: str, event: Mapping[str, Any]) -> Invocation:
        raise NotImplementedError("use LocalCloud.invoke: benchmark invocations run in the worker pool")
