"""The figures the reliability tests measure, kept in a JSON file for the README's report.

Each test area records one section. Sections recorded in this session replace the same
sections in the file; others are kept, so running one test file updates only its figures.
When pytest-xdist runs the tests, each worker writes the sections of the test files it ran:
the file is read, merged and replaced under an exclusive lock (figures.json.lock beside it),
so workers ending together keep each other's sections. A section must come whole from one
worker, which `--dist loadfile` ensures (a test file's tests all run on one worker).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

FIGURES_PATH = Path(__file__).with_name("figures.json")


class FiguresFile:
    """Sections of figures (name -> values), written to one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sections: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def record(self, section: str, **values: Any) -> None:
        """Add or replace values in a section."""
        with self._lock:
            self._sections.setdefault(section, {}).update(values)

    def section(self, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._sections.get(name, {}))

    def write(self) -> None:
        """Merge this session's sections into the file; nothing is written if none was recorded."""
        with self._lock:
            if not self._sections:
                return
            stamped = {name: {**values, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                       for name, values in self._sections.items()}
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            merged = {**read_figures(self.path), **stamped}
            written = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            written.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
            os.replace(written, self.path)


def read_figures(path: Path) -> dict[str, dict[str, Any]]:
    """The sections in a figures file; empty when there is none yet."""
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return loaded
