"""graph-notebook's own virtual environment, .venv/graph-notebook, made on first use.

graph-notebook (AWS's Neptune notebook client: `graph_notebook.neptune.client` and the
`%neptune_ml` magics) pulls in Jupyter, pandas and older pins of requests and IPython, so it does
not share the project's environment: `make install` (or the first test that needs it) makes one
for it, with the version constraints.txt names and every other package pinned by
graph-notebook-constraints.txt beside this file. About 700 MB and two minutes, once.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = ROOT / ".venv" / "graph-notebook"
PYTHON = ENV / "bin" / "python"
LOCK_FILE = Path(__file__).with_name("graph-notebook-constraints.txt")


def pinned_version() -> str:
    match = re.search(r"^graph-notebook==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert match, "constraints.txt pins graph-notebook"
    return match.group(1)


def marker() -> Path:
    """The file that says the environment holds this version with these pins."""
    pins = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:12]
    return ENV / f".installed-{pinned_version()}-{pins}"


def graph_notebook_python() -> Path:
    """The interpreter of graph-notebook's environment, made first if it is missing or out of date."""
    installed = marker()
    ENV.parent.mkdir(exist_ok=True)
    with open(ENV.parent / "graph-notebook.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be making the same environment
        if not installed.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(ENV)], check=True)
            subprocess.run(
                [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-c", str(LOCK_FILE), f"graph-notebook=={pinned_version()}"],
                check=True, timeout=1200,
            )
            installed.touch()
    return PYTHON


if __name__ == "__main__":  # make install: python tests/local_api/graph_notebook_env.py
    print(graph_notebook_python())
