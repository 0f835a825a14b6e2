"""Ctrl-C while a command sends requests: stop sending, wait briefly for the answers in flight, then stop waiting.

    with Interruption(say=print) as interruption:
        ...   # check interruption.stopping before each new request; stop awaiting one once giving_up is set

The first SIGINT sets `stopping` (no new request is sent) and starts the grace period; when it
ends, or at a second SIGINT, `giving_up` is set (requests still unanswered are given up: the
state keeps them with their RequestId, and the next command sends them again). The handler is
installed only in the main thread and the previous one is put back on exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Self

GRACE_SECONDS = 10.0


class Interruption:
    """The SIGINT handler of one command's request phase, as two events other threads can read."""

    def __init__(self, say: Callable[[str], None], grace_seconds: float = GRACE_SECONDS) -> None:
        self.stopping = threading.Event()
        self.giving_up = threading.Event()
        self._say = say
        self._grace_seconds = grace_seconds
        self._timer: threading.Timer | None = None
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        if self._timer is not None:
            self._timer.cancel()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping.is_set():
            self.stopping.set()
            self._timer = threading.Timer(self._grace_seconds, self.giving_up.set)
            self._timer.daemon = True
            self._timer.start()
            self._say(f"\nInterrupted: no new request is sent; waiting up to {self._grace_seconds:g} s for the "
                      "answers of the requests in flight (Ctrl-C again to stop waiting).")
        elif not self.giving_up.is_set():
            self.giving_up.set()
            self._say("\nInterrupted again: no longer waiting; requests without an answer are kept in the state.")
