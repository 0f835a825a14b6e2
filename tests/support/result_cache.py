"""Slow results the tests make from files alone, kept between test runs while none of those files changes.

A synthesis through the pinned CDK CLI costs about 15 s of CPU (the CLI, the app's own aws-cdk-lib runtime) and
a checkov run about 10 s. Each depends only on what it reads (the app's files, the templates), the tools'
versions, the Python and the command line, so its output is kept under build/test-cache/, keyed by all of them;
pytest-xdist workers share it (the first takes the lock and makes it, the others wait). Delete build/ to make
everything anew.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import neptune_ml_endpoint
from neptune_ml_endpoint.local.cloudformation.cli.synth import PINNED_CDK_CLI

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "test-cache"


def package_sources() -> list[Path]:
    """The files of the package a synthesis reads: all but the local tools (local/)."""
    package = Path(neptune_ml_endpoint.__file__).parent
    return sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and package / "local" not in p.parents)


def cached_folder(name: str, key: Iterable[bytes], make: Callable[[Path], None]) -> Path:
    """The folder make(folder) fills, made once for each `key` (everything its content depends on); the folders
    of `name` made for other keys are removed."""
    digest = hashlib.sha256()
    for part in key:
        digest.update(hashlib.sha256(part).digest())
    folder = CACHE / f"{name}-{digest.hexdigest()[:16]}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{folder.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.is_dir():
            partial = folder.with_name(f"{folder.name}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            make(partial)
            partial.rename(folder)
            for older in CACHE.glob(f"{name}-*"):
                if older.is_dir() and older.name != folder.name and not older.name.endswith(".partial"):
                    shutil.rmtree(older, ignore_errors=True)
    return folder


def cached_assembly(name: str, inputs: Iterable[Path], command: str,
                    synthesize: Callable[[Path], None]) -> Path:
    """The cloud assembly synthesize(output folder) writes, made once while none of `inputs`, the CDK
    versions, this Python and `command` (what else the synthesis depends on, as text) change."""
    versions = f"{importlib.metadata.version('aws-cdk-lib')} {PINNED_CDK_CLI} {sys.executable} {command}"
    key = [versions.encode(), *(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() for p in inputs)]
    return cached_folder(name, key, lambda folder: synthesize(folder / "cdk.out")) / "cdk.out"
