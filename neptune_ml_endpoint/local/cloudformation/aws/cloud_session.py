"""The local cloud one player run needs: response URLs, EventBridge and Lambda stubs, functions, polling."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs, RuleSnapshot
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import FunctionRegistry
from neptune_ml_endpoint.local.cloudformation.aws.polling import PollLog, RulePoller, target_event
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.engine.protocol import CloudFormationSide
from neptune_ml_endpoint.local.cloudformation.engine.state import FunctionState
from neptune_ml_endpoint.schema import ENV_WAIT_FIRST_SECONDS, ENV_WAIT_MAX_SECONDS

LOCAL_HANDLER_SETTINGS = {ENV_WAIT_FIRST_SECONDS: "0.2", ENV_WAIT_MAX_SECONDS: "1"}
"""Status checks 0.2 s apart, growing to 1 s: the local API answers in seconds, not minutes."""
NOWHERE = "http://127.0.0.1:9"
"""Where AWS clients without a local stand-in are sent, so that none reaches AWS."""

STOPPED_POLLS_SECONDS = 5.0
"""How long a session's end waits for the poll invocations it stopped (or that were just starting)."""

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
        self._rules_file = rules_file
        self._poll_seconds = poll_seconds
        self._function_timeout = function_timeout
        self._say = say
        self._receiver = ResponseReceiver()
        self._stubs = LocalCloudStubs()
        self._registry: FunctionRegistry | None = None
        self._poller: RulePoller | None = None

    def __enter__(self) -> Self:
        self._receiver.start()
        self._stubs.start()
        if self._rules_file is not None and self._rules_file.exists():
            self._stubs.put_rules(json.loads(self._rules_file.read_text()))
        environment = {**fake_credentials(), **LOCAL_HANDLER_SETTINGS, **self._receiver.env(), **self._stubs.env()}
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
        self._save_rules()
        self._stubs.stop()
        self._receiver.stop()

    def _save_rules(self) -> None:
        if self._rules_file is None:
            return
        kept = self._stubs.rules_without_targets()
        if kept:
            self._rules_file.parent.mkdir(parents=True, exist_ok=True)
            self._rules_file.write_text(json.dumps(kept, indent=1))
        else:
            self._rules_file.unlink(missing_ok=True)

    def add_functions(self, functions: Iterable[FunctionState], region: str) -> None:
        """Make functions invokable, in the stack's region."""
        assert self._registry is not None, "use CloudSession in a with block"
        for function in functions:
            self._registry.add(function, {"AWS_REGION": region, "AWS_DEFAULT_REGION": region})

    def cloudformation(self, stack_id: str, abandon: Callable[[], bool] = lambda: False) -> CloudFormationSide:
        """CloudFormation's side of the protocol for one stack; it stops awaiting answers once abandon() is True."""
        assert self._registry is not None and self._poller is not None, "use CloudSession in a with block"
        return CloudFormationSide(stack_id, self._receiver, self._registry, self._poller.busy_with, abandon,
                                  self._poller.physical_id_of)

    def _announce(self, rule: RuleSnapshot, period: float) -> None:
        """Name the resource a new polling rule is for: its event's LogicalResourceId, else the rule."""
        resource = target_event(rule).get("LogicalResourceId") or rule.name
        self._say(f"  {resource}: the function handed over to polling ({rule.schedule_expression}); "
                  f"invoking it every {period:g} s until it answers")
