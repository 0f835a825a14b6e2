"""Lambda entry point of every resource type (the endpoint and the three jobs): crhelper glue only.

A request's first invocation runs its first step here, waiting for the endpoint or job while the
invocation has time. Then crhelper answers: a finished (or failed) request goes to a
CfnResource without poll functions, which replays the outcome and sends the answer at once; a
request still waiting goes to a CfnResource with poll functions, which replays the outcome and
sets up crhelper's polling (an EventBridge rule every minute). Each poll invocation makes one
status check; the last one answers and removes the rule and the permission.
Neither the event, its ResponseURL nor credentials are ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from crhelper import CfnResource, log_helper
from custom_resource import Finished, NeptuneMlResource, Outcome, Request, RequestFailed, Wait
from job_watcher import WATCH_KEY
from ml_endpoint_waiter import Deadline, WaitSettings, wait_in_invocation
from ml_job_resource import watch_once
from resource_types import resource_for

logger = logging.getLogger(__name__)

LOG_LEVEL = "INFO"
BOTO_LOG_LEVEL = "CRITICAL"
# The Lambda runtime's root logger starts at WARNING; set the level now, not when the first
# CfnResource is made, so the first step's decisions reach the log too.
log_helper.setup(LOG_LEVEL, formatter_cls=None, boto_level=BOTO_LOG_LEVEL)

# crhelper names its rule LogicalResourceId + 8 characters; EventBridge allows 64.
POLLING_LOGICAL_ID_MAX = 64 - 8

Answer = Outcome | RequestFailed
CrhelperFunction = Callable[[dict[str, Any], Any], "str | None"]


class _FirstStep:
    """The outcome this invocation already reached, for crhelper's create/update/delete function."""

    outcome: Answer | None = None

    def take(self) -> Answer:
        outcome, self.outcome = self.outcome, None
        if outcome is None:
            raise RequestFailed("No outcome to answer with; the handler was not entered by index.handler", None)
        return outcome


class _Polled:
    """The resource whose poll invocation answered its request, if this one did."""

    answered_by: NeptuneMlResource[Any, Any] | None = None
    answered_id: str | None = None


_first_step = _FirstStep()
_polled = _Polled()
_helpers: dict[bool, CfnResource] = {}


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler: CloudFormation's requests, crhelper's poll invocations, and job watchers' ticks."""
    if WATCH_KEY in event:
        watch_once(event, _function_arn(context))
        return
    if "CrHelperPoll" in event:
        _polled.answered_by = None
        _helper(polling=True)(event, context)
        if _polled.answered_by is not None:
            _polled.answered_by.forget_marker(_polled.answered_id)
        return
    resource, first = _run_first_step(event, context)
    outcome = _hand_over_or_fail(first, event, resource)
    _first_step.outcome = outcome
    try:
        _helper(polling=isinstance(outcome, Wait))(event, context)
    finally:
        _first_step.outcome = None
    if resource is not None and not isinstance(outcome, Wait):
        # Only once the answer is sent: a retry before then still finds the marker.
        resource.forget_marker(outcome.physical_id)


def _run_first_step(event: dict[str, Any], context: Any) -> tuple[NeptuneMlResource[Any, Any] | None, Answer]:
    """Start the request and wait in this invocation; every exception becomes a failure."""
    resource: NeptuneMlResource[Any, Any] | None = None
    try:
        resource = resource_for(Request.from_event(event), _function_arn(context))
        settings = WaitSettings.from_environment()
        deadline = Deadline(context, settings.safety_margin)
        return resource, wait_in_invocation(resource, resource.start(), deadline, settings)
    except RequestFailed as failed:
        return resource, failed
    except Exception as error:
        logger.exception("Unexpected %s in the first step", type(error).__name__)
        physical_id = resource.physical_id_on_failure(None) if resource else None
        return resource, RequestFailed(f"Unexpected {type(error).__name__}: {error}", physical_id)


def _hand_over_or_fail(outcome: Answer, event: dict[str, Any],
                       resource: NeptuneMlResource[Any, Any] | None = None) -> Answer:
    """A Wait that polling can carry on with goes to polling; other Waits fail with the reason why."""
    if not isinstance(outcome, Wait):
        return outcome
    request_type = event["RequestType"]
    if outcome.kind == Wait.SETTLED:
        return RequestFailed(
            f"Update: endpoint {outcome.endpoint_id} was still busy with an earlier change when this "
            "invocation ran out of time, so the update was not sent. Update the stack again once it is "
            "InService", str(event.get("PhysicalResourceId") or "") or None)
    noun = "endpoint" if resource is None else resource.noun
    if len(str(event["LogicalResourceId"])) > POLLING_LOGICAL_ID_MAX:
        replacing = request_type == "Update" and outcome.endpoint_id != event.get("PhysicalResourceId")
        if replacing and resource is not None:
            resource.discard_replacement(outcome.endpoint_id)  # the failed Update reports the old id
        return RequestFailed(
            f"{request_type}: {noun} {outcome.endpoint_id} is not ready yet and the logical id is longer "
            f"than the {POLLING_LOGICAL_ID_MAX} characters crhelper's polling allows"
            f"{'; the new ' + noun + ' was removed' if replacing else ''}. Shorten the logical id",
            outcome.endpoint_id if request_type != "Update" else event.get("PhysicalResourceId"))
    logger.info("%s: %s %s is not done within this invocation; polling every minute",
                request_type, noun, outcome.endpoint_id)
    return outcome


def _function_arn(context: Any) -> str:
    return str(getattr(context, "invoked_function_arn", "") or "")


def _helper(polling: bool) -> CfnResource:
    """The CfnResource that answers at once, or the one that polls; each made on first use."""
    if polling not in _helpers:
        helper = CfnResource(log_level=LOG_LEVEL, boto_level=BOTO_LOG_LEVEL, sleep_on_delete=0,
                             polling_interval=1)
        replay = _replay_first_step(helper)
        helper.create(replay)
        helper.update(replay)
        helper.delete(replay)
        if polling:
            poll = _poll_once(helper)
            helper.poll_create(poll)
            helper.poll_update(poll)
            helper.poll_delete(poll)
        _helpers[polling] = helper
    return _helpers[polling]


def _replay_first_step(helper: CfnResource) -> CrhelperFunction:
    def replay(event: dict[str, Any], context: Any) -> str | None:
        return _answer(helper, _first_step.take())
    return replay


def _poll_once(helper: CfnResource) -> CrhelperFunction:
    def poll(event: dict[str, Any], context: Any) -> str | None:
        resource = resource_for(Request.from_event(event), _function_arn(context))
        try:
            wait = Wait.from_data(helper.Data)
            outcome: Answer = resource.check(wait)
        except RequestFailed as failed:
            outcome = failed
        except Exception as error:
            logger.exception("Unexpected %s while polling", type(error).__name__)
            endpoint_id = helper.Data.get("PhysicalResourceId") or None
            outcome = RequestFailed(f"Unexpected {type(error).__name__}: {error}",
                                    resource.physical_id_on_failure(endpoint_id))
        if isinstance(outcome, Wait):
            return None
        _polled.answered_by, _polled.answered_id = resource, outcome.physical_id
        return _answer(helper, outcome)
    return poll


def _answer(helper: CfnResource, outcome: Answer) -> str | None:
    """Put the outcome into crhelper's shape: Data and the physical id, or a raised failure."""
    if isinstance(outcome, RequestFailed):
        helper.Data = {}
        if outcome.physical_id:
            helper.PhysicalResourceId = outcome.physical_id
        raise outcome
    if isinstance(outcome, Wait):
        helper.Data = outcome.to_data()
        return outcome.endpoint_id
    assert isinstance(outcome, Finished)
    helper.Data = dict(outcome.attributes)
    return outcome.physical_id
