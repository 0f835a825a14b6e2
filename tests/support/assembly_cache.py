"""Cloud assemblies the pinned CDK CLI synthesized, kept between test runs while nothing they are made of changes.

A synthesis through the CLI costs about 15 s of CPU (the CLI, the app's own aws-cdk-lib runtime). Its output
depends only on the files it reads, the CDK versions, the Python that ran the app and the command line, so it is
kept under build/test-assemblies/, keyed by all of them; pytest-xdist workers share it (the first takes the lock
and synthesizes, the others wait). Delete build/ to synthesize everything anew.
"""

from __future__ import annotations

import contextlib
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
ASSEMBLY_CACHE = ROOT / "build" / "test-assemblies"


def package_sources() -> list[Path]:
    """The files of the package a synthesis reads: all but the local tools (local/)."""
    package = Path(neptune_ml_endpoint.__file__).parent
    return sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and package / "local" not in p.parents)


def cached_assembly(name: str, inputs: Iterable[Path], command: str,
                    synthesize: Callable[[Path], None]) -> Path:
    """The cloud assembly synthesize(output folder) writes, made once while none of `inputs`, the CDK
    versions, this Python and `command` (what else the synthesis depends on, as text) change."""
    key = hashlib.sha256(f"{importlib.metadata.version('aws-cdk-lib')} {PINNED_CDK_CLI} {sys.executable} "
                         f"{command}".encode())
    for source in inputs:
        key.update(str(source.relative_to(ROOT)).encode() + b"\0" + source.read_bytes())
    folder = ASSEMBLY_CACHE / f"{name}-{key.hexdigest()[:16]}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "cdk.out" / "manifest.json").is_file():
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(folder)
            folder.mkdir()
            synthesize(folder / "cdk.out.partial")
            (folder / "cdk.out.partial").rename(folder / "cdk.out")
            for older in folder.parent.glob(f"{name}-*"):  # made from sources that have changed since
                if older.is_dir() and older != folder:
                    shutil.rmtree(older, ignore_errors=True)
    return folder / "cdk.out"
