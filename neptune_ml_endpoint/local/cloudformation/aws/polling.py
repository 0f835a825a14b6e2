"""EventBridge's part in crhelper's polling: invoke a rule's target on its (shortened) schedule.

crhelper puts a `rate(N minutes)` rule whose target's Input is the whole event; the player
invokes the function with that Input every `poll_seconds` (or the rule's own rate, when
shorter) until crhelper removes the rule. One invocation per rule runs at a time.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs, RuleSnapshot
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import Invocation

POLLS_LOG = "polls.log"
WATCH_KEY = "NeptuneMlWatch"
"""The Input key of a long wait's watcher rule (the handler's job_watcher.py)."""

Answers = Callable[[str], list[dict[str, Any]]]
"""answers(request_id): the answers delivered to the request's ResponseURL so far."""


class PolledFunctions(Protocol):
    def invoke(self, function_arn: str, event: Mapping[str, Any], capture_output: bool = False) -> Invocation: ...

    def log_dir(self, function_arn: str) -> Path: ...


class PollLog:
    """Invokes a polling rule's target with its output captured, then appends the poll's line."""

    def __init__(self, functions: PolledFunctions, answers: Answers) -> None:
        self._functions = functions
        self._answers = answers
        self._lock = threading.Lock()

    def invoke(self, function_arn: str, event: Mapping[str, Any]) -> Invocation:
        invocation = self._functions.invoke(function_arn, event, capture_output=True)
        entry = poll_entry(event, invocation, self._answers(str(event.get("RequestId", ""))))
        log_dir = self._functions.log_dir(function_arn)
        with self._lock:
            log_dir.mkdir(parents=True, exist_ok=True)
            with (log_dir / POLLS_LOG).open("a") as log:
                log.write(entry)
        return invocation


def poll_entry(event: Mapping[str, Any], invocation: Invocation, answers: list[dict[str, Any]]) -> str:
    """The poll's line (and, indented after it, whatever the poll wrote)."""
    clock = time.strftime("%Y-%m-%dT%H:%M:%S")
    watch = event.get(WATCH_KEY)
    if isinstance(watch, Mapping):  # a long wait's watcher tick: it answers no request, it signals a handle
        line = (f"{clock} {invocation.request_id} watcher tick for job {watch.get('job_id', '?')} of "
                f"{watch.get('logical_id', '?')}{': failed: ' + invocation.error if invocation.error else ''}\n")
    else:
        request = (f"{event.get('RequestType', '?')} {event.get('LogicalResourceId', '?')} "
                   f"(RequestId {event.get('RequestId', '?')})")
        line = f"{clock} {invocation.request_id} poll of {request}: {_seen(event, invocation, answers)}\n"
    written = [f"    {text}\n" for text in invocation.output.splitlines() if text.strip()]
    return line + "".join(written)


def _seen(event: Mapping[str, Any], invocation: Invocation, answers: list[dict[str, Any]]) -> str:
    if answers:
        answer = answers[0]
        reason = f": {answer['Reason']}" if answer.get("Status") == "FAILED" and answer.get("Reason") else ""
        return f"answered {answer.get('Status')} with physical id {answer.get('PhysicalResourceId')}{reason}"
    if invocation.error is not None:
        return f"the invocation failed ({invocation.error}) without an answer"
    data = event.get("CrHelperData")
    waiting_for = data.get("PhysicalResourceId") if isinstance(data, Mapping) else None
    return f"no answer yet (physical id {waiting_for or 'not known yet'}); the rule polls again"


DEFAULT_POLL_SECONDS = 2.0
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

Invoke = Callable[[str, Mapping[str, Any]], object]
"""invoke(function_arn, event): runs one invocation to its end."""
Announce = Callable[[RuleSnapshot, float], None]
"""announce(rule, period_seconds): called once for each new rule."""


def schedule_seconds(expression: str | None) -> float | None:
    """The period of a rate() expression in seconds; None for anything else."""
    match = _RATE.match(expression or "")
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class RulePoller:
    """Watches the stubs' rules in a background thread and invokes their targets when due."""

    def __init__(self, stubs: LocalCloudStubs, invoke: Invoke, poll_seconds: float,
                 announce: Announce | None = None, scan_seconds: float = 0.1) -> None:
        self._stubs = stubs
        self._invoke = invoke
        self._announce = announce
        self._poll_seconds = poll_seconds
        self._scan_seconds = scan_seconds
        self._due: dict[str, float] = {}
        self._announced: set[str] = set()
        self._running: dict[str, str] = {}  # rule name -> RequestId of the running invocation
        self._firing: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rule-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Start no more invocations (those running go on)."""
        self._stopping.set()
        self._thread.join()

    def join_invocations(self, timeout: float) -> None:
        """Wait, up to timeout seconds in all, for the invocations still running to end."""
        deadline = time.monotonic() + timeout
        with self._lock:
            firing = list(self._firing)
        for thread in firing:
            thread.join(max(0.0, deadline - time.monotonic()))

    def busy_with(self, request_id: str) -> bool:
        """True while a rule for this request exists or one of its poll invocations runs."""
        with self._lock:
            if request_id in self._running.values():
                return True
        return any(_request_id(rule) == request_id for rule in self._stubs.rules())

    def physical_id_of(self, request_id: str) -> str | None:
        """The physical id the function froze into the polling rule for this request, if any.

        crhelper keeps the id the first invocation returned in the rule's event, under
        CrHelperData.PhysicalResourceId, until polling ends.
        """
        for rule in self._stubs.rules():
            event = target_event(rule)
            if event.get("RequestId") == request_id:
                data = event.get("CrHelperData")
                physical_id = data.get("PhysicalResourceId") if isinstance(data, dict) else None
                return str(physical_id) if physical_id else None
        return None

    def _watch(self) -> None:
        while not self._stopping.wait(self._scan_seconds):
            rules = {rule.name: rule for rule in self._stubs.rules() if rule.state == "ENABLED"}
            now = time.monotonic()
            with self._lock:
                for name in list(self._due):
                    if name not in rules:
                        del self._due[name]
                self._announced &= set(rules)
                for name, rule in rules.items():
                    if name not in self._announced and rule.targets and self._announce is not None:
                        self._announced.add(name)  # once its target (which names the request) is there
                        self._announce(rule, self._period(rule))
                    due = self._due.setdefault(name, now + self._period(rule))
                    if due <= now and name not in self._running and rule.targets:
                        self._running[name] = _request_id(rule) or ""
                        thread = threading.Thread(target=self._fire, args=(rule,), name=f"poll-{name}", daemon=True)
                        self._firing.add(thread)
                        thread.start()

    def _fire(self, rule: RuleSnapshot) -> None:
        try:
            for target in rule.targets:
                self._invoke(target.arn, json.loads(target.input or "{}"))
        finally:
            with self._lock:
                self._firing.discard(threading.current_thread())
                self._running.pop(rule.name, None)
                if rule.name in self._due:
                    self._due[rule.name] = time.monotonic() + self._period(rule)

    def _period(self, rule: RuleSnapshot) -> float:
        rate = schedule_seconds(rule.schedule_expression)
        return self._poll_seconds if rate is None else min(rate, self._poll_seconds)


def target_event(rule: RuleSnapshot) -> dict[str, Any]:
    """The event a rule's first target carries (crhelper's whole request event); {} if none."""
    for target in rule.targets:
        try:
            event = json.loads(target.input or "{}")
        except ValueError:
            return {}
        return event if isinstance(event, dict) else {}
    return {}


def _request_id(rule: RuleSnapshot) -> str | None:
    """The RequestId of the event a rule's first target carries, if any."""
    request_id = target_event(rule).get("RequestId")
    return None if request_id is None else str(request_id)
