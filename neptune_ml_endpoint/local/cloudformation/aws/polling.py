"""EventBridge's part in crhelper's polling: invoke each rule's target every `poll_seconds` (or at the rule's
own rate, when shorter) until the rule is removed, one invocation per rule at a time; polls.log records each."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs, RuleSnapshot
from neptune_ml_endpoint.local.cloudformation.aws.lambda_runtime import FunctionRegistry, Invocation

POLLS_LOG = "polls.log"
WATCH_KEY = "NeptuneMlWatch"
"""The Input key of a long wait's watcher rule (the handler's job_watcher.py)."""
DEFAULT_POLL_SECONDS = 2.0
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

Invoke = Callable[[str, Mapping[str, Any]], object]
"""invoke(function_arn, event): runs one invocation to its end."""
Announce = Callable[[RuleSnapshot, float], None]
"""announce(rule, period_seconds): called once for each new rule."""


class PollLog:
    """Invokes a polling rule's target with its output captured, then appends the poll's line."""

    def __init__(self, functions: FunctionRegistry, answers: Callable[[str], list[dict[str, Any]]]) -> None:
        self._functions = functions
        self._answers = answers  # answers(request_id): the bodies delivered to its ResponseURL so far
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
    return line + "".join(f"    {text}\n" for text in invocation.output.splitlines() if text.strip())


def _seen(event: Mapping[str, Any], invocation: Invocation, answers: list[dict[str, Any]]) -> str:
    if answers:
        answer = answers[0]
        reason = f": {answer['Reason']}" if answer.get("Status") == "FAILED" and answer.get("Reason") else ""
        return f"answered {answer.get('Status')} with physical id {answer.get('PhysicalResourceId')}{reason}"
    if invocation.error is not None:
        return f"the invocation failed ({invocation.error}) without an answer"
    return f"no answer yet (physical id {_frozen_physical_id(event) or 'not known yet'}); the rule polls again"


def schedule_seconds(expression: str | None) -> float | None:
    """The period of a rate() expression in seconds; None for anything else."""
    match = _RATE.match(expression or "")
    return None if match is None else int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


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
        return any(target_event(rule).get("RequestId") == request_id for rule in self._stubs.rules())

    def physical_id_of(self, request_id: str) -> str | None:
        """The physical id crhelper froze into the polling rule's event for this request, if any."""
        events = [target_event(rule) for rule in self._stubs.rules()]
        return next((_frozen_physical_id(e) for e in events if e.get("RequestId") == request_id), None)

    def _watch(self) -> None:
        while not self._stopping.wait(self._scan_seconds):
            rules = {rule.name: rule for rule in self._stubs.rules() if rule.state == "ENABLED"}
            now = time.monotonic()
            with self._lock:
                self._due = {name: due for name, due in self._due.items() if name in rules}
                self._announced &= set(rules)
                for name, rule in rules.items():
                    if name not in self._announced and rule.targets and self._announce is not None:
                        self._announced.add(name)  # once its target (which names the request) is there
                        self._announce(rule, self._period(rule))
                    due = self._due.setdefault(name, now + self._period(rule))
                    if due <= now and name not in self._running and rule.targets:
                        self._running[name] = str(target_event(rule).get("RequestId", ""))
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
    try:
        event = json.loads(rule.targets[0].input or "{}") if rule.targets else {}
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _frozen_physical_id(event: Mapping[str, Any]) -> str | None:
    """The physical id crhelper keeps in a polling event's CrHelperData until polling ends."""
    data = event.get("CrHelperData")
    physical_id = data.get("PhysicalResourceId") if isinstance(data, Mapping) else None
    return str(physical_id) if physical_id else None
