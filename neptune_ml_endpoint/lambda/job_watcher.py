"""Waits past the custom resource's hour: a watcher that signals a WaitConditionHandle when a job ends.

A job resource given a `CompletionSignalUrl` answers CloudFormation once its job started; the
`AWS::CloudFormation::WaitCondition` after it holds the stack (up to 12 hours) until the handle is
signalled. The watcher is an EventBridge rule (every minute) that invokes this same function with a
`NeptuneMlWatch` event naming one job and one handle. Each tick makes one status check:

- `Completed`: signal SUCCESS (UniqueId and Data: the job id), then remove the rule.
- `Failed`, `Stopped` (or `Stopping`), or the job unknown: signal FAILURE with the job's Reason.
- Still running when the wait's time is nearly up: cancel the job, signal FAILURE saying so.

A tick that crashes is followed by the next one, so the wait is not lost. A crash between the
signal and the rule's removal makes the next tick signal again, with the same UniqueId: CloudFormation
counts one signal. Each watcher names its own job and handle; a replacement job has a new handle
and its own watcher, and the job resource's delete removes its job's watcher. The rule is named
`<LogicalResourceId>w<7 hex of the job id>`, inside the `rule/<LogicalResourceId>*` names the
function may manage. The handle's URL is a credential: it is never logged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

WATCH_KEY = "NeptuneMlWatch"
WATCHER_LOGICAL_ID_MAX = 64 - 8
"""EventBridge rule names stop at 64 characters; the watcher's adds 8 to the logical id."""
SCHEDULE = "rate(1 minute)"
SUCCESS, FAILURE = "SUCCESS", "FAILURE"
SIGNAL_TIMEOUT_SECONDS = 15
REASON_LIMIT = 4000


@dataclass(frozen=True)
class Watch:
    """One watcher's input: which job, on which cluster, and which handle to signal by when."""

    resource_type: str
    logical_id: str
    job_id: str
    neptune_endpoint: str
    role_arn: str
    signal_url: str
    give_up_at: float
    """Epoch seconds: a job still running then is cancelled and the wait fails."""

    @property
    def rule_name(self) -> str:
        return watcher_rule_name(self.logical_id, self.job_id)

    def to_event(self) -> dict[str, Any]:
        return {WATCH_KEY: asdict(self)}

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Watch:
        return cls(**event[WATCH_KEY])


def watcher_rule_name(logical_id: str, job_id: str) -> str:
    """`<logical id>w<7 hex>`: never crhelper's (8 upper-case characters) or a creation marker's (8 hex)."""
    return f"{logical_id}w{hashlib.sha256(job_id.encode()).hexdigest()[:7]}"


class WatchError(Exception):
    """The watcher could not be set up or removed; the message names the call that failed."""


class Scheduler(Protocol):
    """Where watchers run: put one (idempotent, by rule name) and remove one."""

    def put(self, watch: Watch, function_arn: str) -> None: ...

    def remove(self, rule_name: str, function_arn: str) -> None: ...


@functools.lru_cache(maxsize=1)
def _clients() -> tuple[Any, Any]:
    config = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=5, read_timeout=15)
    return boto3.client("events", config=config), boto3.client("lambda", config=config)


class EventBridgeScheduler:
    """A watcher as an EventBridge schedule rule that invokes the function, as crhelper's polling does."""

    def put(self, watch: Watch, function_arn: str) -> None:
        events, lambda_ = _clients()
        try:
            rule_arn = events.put_rule(Name=watch.rule_name, ScheduleExpression=SCHEDULE, State="ENABLED")["RuleArn"]
            try:
                lambda_.add_permission(FunctionName=function_arn, StatementId=watch.rule_name,
                                       Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                                       SourceArn=rule_arn)
            except ClientError as error:
                if _code(error) != "ResourceConflictException":  # the permission of an earlier try
                    raise
            events.put_targets(Rule=watch.rule_name,
                               Targets=[{"Id": "1", "Arn": function_arn, "Input": json.dumps(watch.to_event())}])
        except (ClientError, BotoCoreError) as error:
            raise WatchError(f"setting up the watcher {watch.rule_name} failed: {_described(error)}") from None

    def remove(self, rule_name: str, function_arn: str) -> None:
        events, lambda_ = _clients()
        calls: tuple[Callable[[], Any], ...] = (
            lambda: events.remove_targets(Rule=rule_name, Ids=["1"]),
            lambda: events.delete_rule(Name=rule_name),
            lambda: lambda_.remove_permission(FunctionName=function_arn, StatementId=rule_name),
        )
        for call in calls:
            try:
                call()
            except ClientError as error:
                if _code(error) != "ResourceNotFoundException":
                    raise WatchError(f"removing the watcher {rule_name} failed: {_described(error)}") from None
            except BotoCoreError as error:
                raise WatchError(f"removing the watcher {rule_name} failed: {_described(error)}") from None


def send_signal(url: str, status: str, reason: str, unique_id: str, data: str) -> None:
    """PUT a WaitCondition signal to the handle's presigned URL (an empty Content-Type, as S3 expects)."""
    body = json.dumps({"Status": status, "Reason": reason[:REASON_LIMIT], "UniqueId": unique_id,
                       "Data": data}).encode()
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(request, timeout=SIGNAL_TIMEOUT_SECONDS) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        raise WatchError(f"the WaitCondition signal was refused with HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise WatchError(f"the WaitCondition signal could not be sent: {type(error).__name__}") from None


Signal = Callable[[str, str, str, str, str], None]


@dataclass(frozen=True)
class TickResult:
    """What one tick did: the signal it sent (None while the job runs)."""

    signal: str | None
    reason: str = ""


def tick(watch: Watch, status_of: Callable[[], Any], cancel: Callable[[], None], signal: Signal = send_signal,
         clock: Callable[[], float] = time.time) -> TickResult:
    """One look at the job; a signal once it has ended (or its time is up). `status_of` returns a JobStatus or None."""
    status = status_of()
    if status is None:
        result = TickResult(FAILURE, f"Job {watch.job_id} is unknown to Neptune; was it removed outside "
                                     "CloudFormation?")
    elif status.status == "Completed":
        result = TickResult(SUCCESS, f"Job {watch.job_id} completed")
    elif status.status in ("Failed", "Stopped", "Stopping"):
        result = TickResult(FAILURE, f"Job {watch.job_id} ended {status.status}: {status.failure_text()}")
    elif clock() >= watch.give_up_at:
        cancel()
        result = TickResult(FAILURE, f"Job {watch.job_id} was still running when the wait's timeout was nearly up, "
                                     "so it was cancelled. Give the construct a longer timeout (the job's timeout, "
                                     "or NeptuneMlWorkflow's processing_timeout or training_timeout; at most "
                                     "12 hours)")
    else:
        logger.info("Watcher: job %s is %s", watch.job_id, status.status)
        return TickResult(None)
    assert result.signal is not None
    logger.info("Watcher: signalling %s for job %s", result.signal, watch.job_id)
    signal(watch.signal_url, result.signal, result.reason, watch.job_id, watch.job_id)
    return result


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def _described(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{_code(error)}: {error.response.get('Error', {}).get('Message', '')}"
    return type(error).__name__
