"""Waiting for an endpoint inside one Lambda invocation, bounded by the time the invocation has left.

Status checks start a short pause apart and the pause grows to a ceiling, so a ready endpoint
is answered within seconds: the 4 s ceiling keeps the answer under 5 s after the endpoint is
ready (CDK's Provider framework checks every 5 s) at about 15 checks a minute. The wait stops a safety margin before the invocation's end, which
leaves time to hand over to crhelper's polling and to send the answer.

Environment variables (optional; names in neptune_ml_endpoint.schema):
  NEPTUNE_ML_ENDPOINT_WAIT_FIRST_SECONDS     first pause between status checks (default 1)
  NEPTUNE_ML_ENDPOINT_WAIT_MAX_SECONDS       longest pause between status checks (default 4)
  NEPTUNE_ML_ENDPOINT_SAFETY_MARGIN_SECONDS  invocation time kept back from waiting (default 120;
                                             covers a slow API call with its retries)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from custom_resource import NeptuneMlResource, Outcome, Wait
from neptune_data_client import env_number

from neptune_ml_endpoint.schema import ENV_SAFETY_MARGIN_SECONDS, ENV_WAIT_FIRST_SECONDS, ENV_WAIT_MAX_SECONDS

_GROWTH = 1.5


@dataclass(frozen=True)
class WaitSettings:
    """Pauses between status checks and the time kept back at the end of an invocation."""

    first_pause: float = 1.0
    max_pause: float = 4.0
    safety_margin: float = 120.0

    @classmethod
    def from_environment(cls) -> WaitSettings:
        defaults = cls()
        return cls(
            first_pause=env_number(ENV_WAIT_FIRST_SECONDS, defaults.first_pause),
            max_pause=env_number(ENV_WAIT_MAX_SECONDS, defaults.max_pause),
            safety_margin=env_number(ENV_SAFETY_MARGIN_SECONDS, defaults.safety_margin),
        )


class Deadline:
    """The moment waiting must stop: the invocation's end less the safety margin."""

    def __init__(self, context: Any, safety_margin: float) -> None:
        remaining = context.get_remaining_time_in_millis() / 1000.0
        self._end: float = time.monotonic() + remaining - safety_margin

    def seconds_left(self) -> float:
        return self._end - time.monotonic()


def wait_in_invocation(resource: NeptuneMlResource[Any, Any], outcome: Outcome, deadline: Deadline,
                       settings: WaitSettings, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Check again and again while the outcome is a Wait and the deadline allows another pause."""
    pause = settings.first_pause
    while isinstance(outcome, Wait) and deadline.seconds_left() > pause:
        sleep(pause)
        pause = min(pause * _GROWTH, settings.max_pause)
        outcome = resource.check(outcome)
    return outcome
