"""The local cloud one player run needs: response URLs, EventBridge and Lambda stubs, functions, polling,
and CloudFormation's side of each request: invoke the service token's function, await its answer."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from neptune_ml_endpoint.local.cloudformation.aws import wait_conditions
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs, RuleSnapshot
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import FunctionRegistry, Invocation
from neptune_ml_endpoint.local.cloudformation.aws.polling import WATCH_KEY, PollLog, RulePoller, target_event
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.assembly import WAIT_CONDITION_TYPES
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceAnswer,
    CustomResourceRequest,
    answer_of,
    custom_resource_event,
)
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState
from neptune_ml_endpoint.schema import ENV_WAIT_FIRST_SECONDS, ENV_WAIT_MAX_SECONDS

LOCAL_HANDLER_SETTINGS = {ENV_WAIT_FIRST_SECONDS: "0.2", ENV_WAIT_MAX_SECONDS: "1"}
"""Status checks 0.2 s apart, growing to 1 s: the local API answers in seconds, not minutes. A variable of
the same name in the player's environment overrides each."""
NOWHERE = "http://127.0.0.1:9"
"""Where AWS clients without a local stand-in are sent, so that none reaches AWS."""

STOPPED_POLLS_SECONDS = 5.0
"""How long a session's end waits for the poll invocations it stopped (or that were just starting)."""
_CHECK_SECONDS = 0.2
_SILENCE_GRACE_SECONDS = 1.0

Say = Callable[[str], None]


def fake_credentials() -> dict[str, str]:
    """Credentials and settings that keep an AWS SDK away from real accounts and instance metadata."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": NOWHERE,
    }


class CloudSession:
    """Starts the receiver, the stubs and the rule poller; invokes the registered functions."""

    def __init__(self, log_dir: Path, poll_seconds: float, function_timeout: float | None, say: Say,
                 rules_file: Path | None = None) -> None:
        """rules_file keeps EventBridge rules without targets (the handler's creation markers)
        from one run to the next, as EventBridge would; polling rules end with their run."""
        self._log_dir = Path(log_dir)
        self._poll_seconds = poll_seconds
        self._function_timeout = function_timeout
        self._say = say
        self._receiver = ResponseReceiver()
        self._stubs = LocalCloudStubs(rules_file=rules_file)
        self._registry: FunctionRegistry | None = None
        self._poller: RulePoller | None = None

    def __enter__(self) -> Self:
        self._receiver.start()
        self._stubs.start()
        settings = {name: os.environ.get(name, value) for name, value in LOCAL_HANDLER_SETTINGS.items()}
        environment = {**fake_credentials(), **settings, **self._receiver.env(), **self._stubs.env()}
        self._registry = FunctionRegistry(environment, self._log_dir, self._function_timeout)
        polls = PollLog(self._registry, self._receiver.responses)
        self._poller = RulePoller(self._stubs, polls.invoke, self._poll_seconds, self._announce)
        self._poller.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._poller is not None:
            self._poller.stop()
        if self._registry is not None:
            self._registry.stop_running()
        if self._poller is not None:  # their polls.log lines are written once they end
            self._poller.join_invocations(STOPPED_POLLS_SECONDS)
        self._stubs.stop()
        self._receiver.stop()

    def add_functions(self, functions: Iterable[FunctionState], region: str) -> None:
        """Make functions invokable, in the stack's region."""
        assert self._registry is not None, "use CloudSession in a with block"
        for function in functions:
            self._registry.add(function, {"AWS_REGION": region, "AWS_DEFAULT_REGION": region})

    def sender(self, stack_id: str, abandon: Callable[[], bool]) -> Callable[[CustomResourceRequest],
                                                                             CustomResourceAnswer]:
        """CloudFormation's side of the protocol for one stack; it stops awaiting answers once abandon() is True."""
        return lambda request: self.send(stack_id, request, abandon)

    def send(self, stack_id: str, request: CustomResourceRequest, abandon: Callable[[], bool]) -> CustomResourceAnswer:
        """Invoke the request's function and wait for the answer, up to the resource's ServiceTimeout or until
        abandoned; no answer once the function has ended and polls no more is a failure, as is a bad answer."""
        assert self._registry is not None and self._poller is not None, "use CloudSession in a with block"
        if request.resource_type in WAIT_CONDITION_TYPES:
            return wait_conditions.play(request, self._receiver, abandon)
        registry, poller, request_id = self._registry, self._poller, request.request_id
        if not registry.knows(request.service_token):
            return request.failed(f"ServiceToken {request.service_token} is not a function of this app")
        event = custom_resource_event(request, stack_id, request_id, self._receiver.url_for(request_id))
        invocations: list[Invocation] = []
        finished = threading.Event()

        def run() -> None:
            try:
                invocations.append(registry.invoke(request.service_token, event))
            finally:
                finished.set()

        threading.Thread(target=run, name=f"invoke-{request.logical_id}", daemon=True).start()
        deadline, silent_since = time.monotonic() + request.timeout_seconds, None
        while time.monotonic() < deadline and not abandon():
            try:
                return answer_of(request, stack_id, self._receiver.wait_for(request_id, timeout=_CHECK_SECONDS))
            except TimeoutError:
                pass
            silent = finished.is_set() and not poller.busy_with(request_id)
            silent_since = (silent_since or time.monotonic()) if silent else None
            if silent_since is not None and time.monotonic() - silent_since >= _SILENCE_GRACE_SECONDS:
                break
        if abandon():
            return CustomResourceAnswer(False, poller.physical_id_of(request_id) or request.physical_id or "",
                                        "No answer before the command was interrupted", abandoned=True)
        detail = ""
        if invocations:
            first = invocations[0]
            detail = f" ({first.error}; log: {first.log_file})" if first.error else f" (log: {first.log_file})"
        if finished.is_set() and not poller.busy_with(request_id):
            return request.failed(f"The function ended without sending a response{detail}")
        return request.failed(f"CloudFormation did not receive a response from your Custom Resource within "
                              f"{request.timeout_seconds:g} s. Please check your logs for requestId [{request_id}]"
                              f"{detail}")

    def _announce(self, rule: RuleSnapshot, period: float) -> None:
        """Name the resource a new polling rule is for: its event's LogicalResourceId, else the rule; or the job
        a long wait's watcher looks at."""
        event = target_event(rule)
        watch = event.get(WATCH_KEY)
        if isinstance(watch, dict):
            self._say(f"  {watch.get('logical_id')}: a watcher looks at job {watch.get('job_id')} "
                      f"({rule.schedule_expression}; here every {period:g} s) and signals the WaitCondition when "
                      "it ends")
            return
        resource = event.get("LogicalResourceId") or rule.name
        self._say(f"  {resource}: the function handed over to polling ({rule.schedule_expression}); "
                  f"invoking it every {period:g} s until it answers")
