"""The local CloudFormation for tests and benchmarks (the commands never import it): the handler driven
in-process, one resource played by the engine, warm Lambda environments, and the doubles (refused
deliveries, call recordings)."""

from __future__ import annotations

import copy
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, RecordedRequest, Timings
from neptune_ml_endpoint.local.cloudformation.aws import lambda_runner
from neptune_ml_endpoint.local.cloudformation.aws.cloud_session import fake_credentials
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import Invocation, LocalLambda
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ReceivedResponse, ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import new_stack_id
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
    answer_of,
    custom_resource_event,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import DesiredResource, StackEngine
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState, ResourceState

HANDLER_DIR = Path(schema.__file__).with_name("lambda")
FUNCTION_NAME = "demo-NeptuneMlEndpointHandler"
SERVICE_TOKEN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
FAST_HANDLER_SETTINGS = {
    schema.ENV_CONNECT_TIMEOUT: "1",
    schema.ENV_READ_TIMEOUT: "3",
    schema.ENV_MAX_ATTEMPTS: "3",
    schema.ENV_CLIENT_TIMEOUT_RETRIES: "2",
    schema.ENV_WAIT_FIRST_SECONDS: "0.05",
    schema.ENV_WAIT_MAX_SECONDS: "0.2",
    schema.ENV_SAFETY_MARGIN_SECONDS: "2.0",
}
"""Handler settings that make an in-process request against the local API take about a second."""


class LambdaContext(lambda_runner.LambdaContext):
    """Lambda's context for an in-process invocation of the test function with `seconds` left."""

    def __init__(self, seconds: float, function_name: str = FUNCTION_NAME,
                 invoked_function_arn: str = SERVICE_TOKEN) -> None:
        super().__init__(seconds, function_name, invoked_function_arn)


def fake_aws_environment(region: str = "us-east-1") -> dict[str, str]:
    """A Lambda function's AWS environment that reaches no real account."""
    return {**fake_credentials(), "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def json_input(text: str | None) -> dict[str, Any]:
    assert text is not None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class RefusingReceiver(ResponseReceiver):
    """A ResponseReceiver that can lose deliveries: refuse_next(n) closes n connections unanswered."""

    def __init__(self) -> None:
        super().__init__()
        self._refusals = 0
        self.refused = 0
        """How many deliveries have been refused so far."""

    def refuse_next(self, count: int) -> None:
        with self._changed:
            self._refusals += count

    def _accepts(self) -> bool:
        with self._changed:
            if self._refusals <= 0:
                return True
            self._refusals -= 1
            self.refused += 1
            return False


class RecordingStubs(LocalCloudStubs):
    """LocalCloudStubs that record the operations called (e.g. "PutRule", "AddPermission"), in order."""

    _LAMBDA_OPERATIONS: ClassVar[dict[str, str]] = {"POST": "AddPermission", "DELETE": "RemovePermission"}

    def __init__(self) -> None:
        super().__init__()
        self._calls: list[str] = []

    def calls(self) -> list[str]:
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._calls.clear()

    def _dispatch(self, method: str, path: str, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._calls.append(target.rpartition(".")[2] if target else self._LAMBDA_OPERATIONS.get(method, method))
        return super()._dispatch(method, path, target, body)


# --- the handler driven in-process ---------------------------------------------------------------------

@dataclass
class CloudFormation:
    """Builds CloudFormation-shaped events, invokes the handler in this process and reads the answers."""

    handler: Callable[[dict[str, Any], Any], Any]
    receiver: ResponseReceiver
    stubs: LocalCloudStubs
    api: LocalNeptuneMlApi
    service_token: str = SERVICE_TOKEN

    def properties(self, **values: str) -> dict[str, str]:
        """Resource properties as CloudFormation sends them: strings, ServiceToken included."""
        return {"ServiceToken": self.service_token, "NeptuneEndpoint": self.api.url,
                "MlModelTrainingJobId": "training-1", **values}

    def event(self, request_type: str, properties: Mapping[str, Any], *, logical_id: str = "Endpoint",
              physical_id: str | None = None, old_properties: Mapping[str, Any] | None = None,
              stack_id: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        request = CustomResourceRequest(request_type, logical_id, schema.RESOURCE_TYPE, self.service_token,
                                        properties, old_properties, physical_id, request_id or str(uuid.uuid4()))
        return custom_resource_event(request, stack_id or STACK_ID, request.request_id,
                                     self.receiver.url_for(self.key(logical_id, request.request_id)))

    @staticmethod
    def key(logical_id: str, request_id: str) -> str:
        return f"{logical_id}|{request_id}"

    def key_of(self, event: dict[str, Any]) -> str:
        return self.key(event["LogicalResourceId"], event["RequestId"])

    def invoke(self, event: dict[str, Any], seconds: float = 30.0) -> None:
        """One Lambda invocation with a fresh copy of the event, as Lambda deserialises it."""
        self.handler(copy.deepcopy(event), LambdaContext(seconds))

    def send(self, event: dict[str, Any], seconds: float = 30.0) -> dict[str, Any]:
        """Invoke once and return the one answer, which must arrive within that invocation."""
        self.invoke(event, seconds)
        return self.only_answer(event)

    def only_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        answers = self.receiver.responses(self.key_of(event))
        assert len(answers) == 1, f"expected exactly one answer, got {answers}"
        return answers[0]

    def poll_until_answered(self, event: dict[str, Any], pause: float = 0.2, limit: float = 15.0) -> dict[str, Any]:
        """Deliver the polling rule's Input as EventBridge would, until the request is answered."""
        end = time.monotonic() + limit
        while not self.receiver.responses(self.key_of(event)):
            assert time.monotonic() < end, "no answer while polling"
            rules = [rule for rule in self.stubs.rules() if rule.targets]  # creation markers have none
            assert len(rules) == 1 and len(rules[0].targets) == 1, f"expected one polling rule, got {rules}"
            time.sleep(pause)
            self.handler(json_input(rules[0].targets[0].input), LambdaContext(30.0))
        return self.only_answer(event)

    def operations(self) -> list[str]:
        """Neptune Data API operations the handler called, in order."""
        return [str(r.operation) for r in self.api.requests()]


STACK_ID = new_stack_id("demo")


# --- one resource played by the engine -----------------------------------------------------------------

class _NoEvents:
    def begin_stack(self, *args: Any) -> None:
        pass

    event = begin_stack


@dataclass
class StackPlayer:
    """One custom resource of a stack, its requests decided (and rolled back) by the player's StackEngine;
    `answer(event)` invokes the function and returns its answer, `after_success(physical id or None)` runs
    after each operation that succeeded."""

    cloudformation: CloudFormation
    logical_id: str = field(default_factory=lambda: f"Endpoint{uuid.uuid4().hex[:8]}")
    answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    after_success: Callable[[str | None], None] = lambda physical_id: None

    def resource(self, physical_id: str, properties: Mapping[str, Any]) -> ResourceState:
        """The resource as CloudFormation remembers it."""
        return ResourceState(self.logical_id, schema.RESOURCE_TYPE, physical_id, dict(properties), {},
                             self.cloudformation.service_token)

    def create(self, properties: Mapping[str, Any]) -> ResourceState | None:
        """Create; a failure is rolled back, leaving no resource."""
        return self._deploy(properties, {})

    def update(self, state: ResourceState, properties: Mapping[str, Any]) -> ResourceState:
        """Update; the stack keeps the old resource when the update fails and is rolled back."""
        deployed = self._deploy(properties, {self.logical_id: state})
        return deployed if deployed is not None else state

    def delete(self, state: ResourceState) -> bool:
        """Delete; True when the resource is gone."""
        result = self._engine().destroy({self.logical_id: state})
        if result.succeeded:
            self.after_success(None)
        return result.succeeded

    def _deploy(self, properties: Mapping[str, Any], previous: dict[str, ResourceState]) -> ResourceState | None:
        desired = {self.logical_id: DesiredResource(self.logical_id, schema.RESOURCE_TYPE)}
        result = self._engine().deploy(desired, lambda logical_id, deployed: dict(properties), previous,
                                       created=bool(previous))
        state = result.resources.get(self.logical_id)
        if result.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
            self.after_success(state.physical_id if state is not None else None)
        return state

    def _engine(self) -> StackEngine:
        return StackEngine("demo", self._send, _NoEvents())

    def _send(self, request: CustomResourceRequest) -> CustomResourceAnswer:
        event = self.cloudformation.event(request.request_type, request.properties, logical_id=request.logical_id,
                                          physical_id=request.physical_id, old_properties=request.old_properties,
                                          request_id=request.request_id)
        return answer_of(request, event["StackId"], (self.answer or self.cloudformation.send)(event))


# --- warm Lambda execution environments of the bundled handler -------------------------------------------

class LocalCloud:
    """The local API (on the wall clock, as the receiver's arrival times), the response receiver, the
    EventBridge and Lambda stubs, and `workers` warm environments (lambda_runtime's) running the handler's
    asset, as the player runs it."""

    LAMBDA_TIMEOUT_SECONDS = 900.0
    """The handler function's timeout (15 minutes): what a fresh invocation has left."""

    def __init__(self, workers: int, handler_settings: Mapping[str, str] | None = None,
                 log_file: str | Path | None = None) -> None:  # log_file: the handler's logs, at the end
        self.workers = workers
        self.handler_settings = dict(handler_settings or {})
        self.log_file = Path(log_file) if log_file else None
        self.api = LocalNeptuneMlApi(timings=Timings(), clock=time.time)
        self.receiver = ResponseReceiver()
        self.stubs = LocalCloudStubs()
        self._folder = tempfile.TemporaryDirectory(prefix="bench-handler-")
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="invoke")
        self.cloudformation = CloudFormation(self._not_in_process, self.receiver, self.stubs, self.api)
        self.properties, self.event = self.cloudformation.properties, self.cloudformation.event

    @staticmethod
    def _not_in_process(event: dict[str, Any], context: Any) -> None:
        raise NotImplementedError("LocalCloud invokes the handler in its environments: use LocalCloud.invoke")

    def __enter__(self) -> Self:
        from neptune_ml_endpoint.constructs.bundling import build_handler_bundle  # aws-cdk-lib: only here

        for server in (self.api, self.receiver, self.stubs):
            server.start()
        asset = Path(self._folder.name, "asset")
        build_handler_bundle(asset)
        function = FunctionState(SERVICE_TOKEN, FUNCTION_NAME, "index.handler", int(self.LAMBDA_TIMEOUT_SECONDS), {},
                                 str(asset))
        environment = {**fake_aws_environment(), **self.receiver.env(), **self.stubs.env(), **self.handler_settings}
        self.function = LocalLambda(function, environment, Path(self._folder.name, "logs"))
        for started in self._pool.map(lambda _: self.function.invoke(None), range(self.workers)):  # warm them up
            assert started.succeeded, f"the handler's environment did not start: {started.error}"
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.function.stop()
        for server in (self.stubs, self.receiver, self.api):
            server.stop()
        if self.log_file is not None:
            self.log_file.write_text("".join(log.read_text() for log in sorted(self.function.log_dir.glob("*.log"))))
        self._folder.cleanup()

    def invoke(self, event: dict[str, Any], seconds: float = LAMBDA_TIMEOUT_SECONDS) -> Future[Invocation]:
        """One asynchronous invocation in a free environment, with `seconds` left in it."""
        return self._pool.submit(self.function.invoke, event, seconds=seconds)

    def answer(self, event: dict[str, Any], timeout: float) -> ReceivedResponse:
        """The first answer to the event's ResponseURL, waiting up to `timeout` seconds."""
        key = self.cloudformation.key_of(event)
        self.receiver.wait_for(key, timeout)
        return self.receiver.records(key)[0]

    def api_calls(self, endpoint_id: str | None = None, operation: str | None = None) -> list[RecordedRequest]:
        """Requests the local API answered, for one endpoint and/or one operation, oldest first."""
        return [r for r in self.api.requests() if endpoint_id in (None, r.endpoint_id)
                and operation in (None, r.operation)]

    def wait_for_call(self, endpoint_id: str, operation: str, count: int, timeout: float) -> RecordedRequest:
        """The `count`-th successful call of `operation` for the endpoint, once the API has answered it."""
        end = time.monotonic() + timeout
        while len(done := [r for r in self.api_calls(endpoint_id, operation) if r.status_code == 200]) < count:
            if time.monotonic() > end:
                raise TimeoutError(f"{operation} #{count} for {endpoint_id} did not happen within {timeout} s")
            time.sleep(0.01)
        return done[count - 1]
