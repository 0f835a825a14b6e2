"""make demo's first run installs for a while: make says what it installs before each install."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_each_install_is_announced_before_it_runs() -> None:
    # -n prints the recipes without running them; -B as on a fresh clone, where nothing is installed yet.
    planned = subprocess.run(["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, check=True).stdout.splitlines()

    def first(text: str) -> int:
        return next(index for index, line in enumerate(planned) if text in line)

    assert first('echo "Installing Python packages into .venv') < first("pip install") \
        < first('echo "Installing the AWS CDK CLI pinned in package.json') < first("npm ci --")
