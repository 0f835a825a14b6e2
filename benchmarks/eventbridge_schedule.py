"""EventBridge's rate(1 minute) schedule, scaled down: each polling rule's target fires every period.

crhelper's polling puts a rule with ScheduleExpression rate(1 minute) and the whole event as
its target's Input. Here every rule found in LocalCloudStubs fires `period` seconds after it
was first seen, then every `period` seconds, by invoking the handler with the target's Input,
until the handler removes the rule. A period of 6 s stands for EventBridge's 60 s.
"""

from __future__ import annotations

import json
import threading
import time
from types import TracebackType
from typing import Self

from neptune_ml_endpoint.local.cloudformation.testing import LocalCloud

_LOOK_EVERY = 0.02


class ScaledRateSchedule:
    """Fires every polling rule's target every `period` seconds, in a background thread."""

    def __init__(self, cloud: LocalCloud, period: float) -> None:
        self.cloud = cloud
        self.period = period
        self.rule_seen_at: dict[str, float] = {}
        self.firings: dict[str, int] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scaled-rate-schedule", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(_LOOK_EVERY):
            now = time.time()
            for rule in self.cloud.stubs.rules():
                seen_at = self.rule_seen_at.setdefault(rule.name, now)
                fired = self.firings.get(rule.name, 0)
                if now < seen_at + (fired + 1) * self.period or not rule.targets:
                    continue
                self.firings[rule.name] = fired + 1
                target_input = rule.targets[0].input
                if target_input is not None:
                    self.cloud.invoke(json.loads(target_input), LocalCloud.LAMBDA_TIMEOUT_SECONDS)
