"""The figures the reliability tests measure, kept in a JSON file for the README's report.

Each test area records one section. Sections recorded in this session replace the same
sections in the file; others are kept, so running one test file updates only its figures.
"""

from __future__ import annotations

import json
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
        merged = {**read_figures(self.path), **stamped}
        self.path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")


def read_figures(path: Path) -> dict[str, dict[str, Any]]:
    """The sections in a figures file; empty when there is none yet."""
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return loaded
