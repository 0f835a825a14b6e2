"""Deployment progress in the style of `cdk deploy`: one line per event, a spinner while waiting."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Self, TextIO

from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import STACK_TYPE

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_TERMINAL_SUFFIXES = ("_COMPLETE", "_FAILED", "_SKIPPED")
_COLOURS = {"FAILED": "\x1b[31m", "COMPLETE": "\x1b[32m", "SKIPPED": "\x1b[33m", "IN_PROGRESS": "\x1b[36m"}
_RESET = "\x1b[0m"
_CLEAR_LINE = "\r\x1b[K"


class ProgressPrinter:
    """Prints resource events as they happen, thread-safe; the resources in progress are on a spinner line on
    a terminal, elsewhere on a plain line every `heartbeat_seconds`."""

    def __init__(self, stream: TextIO | None = None, is_tty: bool | None = None,
                 heartbeat_seconds: float = 5.0, spinner_seconds: float = 0.1) -> None:
        self._stream = stream or sys.stdout
        self._tty = self._stream.isatty() if is_tty is None else is_tty
        self._interval = spinner_seconds if self._tty else heartbeat_seconds
        self._lock = threading.RLock()
        self._running: dict[tuple[str, str], tuple[str, float]] = {}  # (stack, logical id) -> (status, since)
        self._counters: dict[str, tuple[set[str], set[str], int, float]] = {}
        """stack -> (resources finished, resources started, the total expected, when it began)"""
        self._frame = 0
        self._status_shown = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._clear_status()

    def begin_stack(self, stack_name: str, total: int) -> None:
        """Start counting a stack operation over `total` resources."""
        with self._lock:
            self._counters[stack_name] = (set(), set(), total, time.monotonic())

    def event(self, stack_name: str, status: str, resource_type: str, logical_id: str, reason: str = "") -> None:
        """One resource (or stack) event line."""
        with self._lock:
            finished, begun, total, started = self._counters.setdefault(
                stack_name, (set(), set(), 0, time.monotonic()))
            key = (stack_name, logical_id)
            if resource_type != STACK_TYPE and status.endswith(_TERMINAL_SUFFIXES):
                finished.add(logical_id)
                self._running.pop(key, None)
            elif resource_type != STACK_TYPE and status.endswith("_IN_PROGRESS"):
                begun.add(logical_id)
                self._running[key] = (status, time.monotonic())
            elapsed = time.monotonic() - started
            clock = time.strftime("%I:%M:%S %p")
            shown_status = self._coloured(status) + " " * max(0, 28 - len(status))
            done = len(finished)
            # A resource the estimate left out (one whose properties changed with an upstream one's new id)
            # counts from when it starts, so the total is never reached while something is still under way.
            text = (f"{stack_name} | {done}/{max(total, len(finished | begun))} | {clock} | {shown_status} | "
                    f"{resource_type:<26} | {logical_id}")
            if reason:
                text += f" {reason}"
            self._print(f"{text} ({elapsed:.1f}s)")

    def message(self, text: str = "") -> None:
        """A plain line (notes, outputs, summaries)."""
        with self._lock:
            self._print(text)

    def _print(self, text: str) -> None:
        self._clear_status()
        self._stream.write(text + "\n")
        self._draw_status()
        self._stream.flush()

    def _coloured(self, status: str) -> str:
        if not self._tty:
            return status
        for word, colour in _COLOURS.items():
            if status.endswith(word):
                return f"{colour}{status}{_RESET}"
        return status

    def _waiting(self) -> str:
        now = time.monotonic()
        return ", ".join(f"{lid} {status} {now - since:.0f}s" for (_, lid), (status, since) in self._running.items())

    def _clear_status(self) -> None:
        if self._status_shown:
            self._stream.write(_CLEAR_LINE)
            self._status_shown = False

    def _draw_status(self) -> None:
        if self._tty and self._running:
            width = shutil.get_terminal_size().columns - 1
            self._stream.write(f"{SPINNER[self._frame % len(SPINNER)]} waiting for {self._waiting()}"[:width])
            self._status_shown = True

    def _tick(self) -> None:
        while not self._stopping.wait(self._interval):
            with self._lock:
                if not self._running:
                    continue
                if self._tty:
                    self._frame += 1
                    self._clear_status()
                    self._draw_status()
                else:
                    self._stream.write(f"  ... still waiting for {self._waiting()}\n")
                self._stream.flush()
