"""Synthesize a CDK app into a cloud assembly with the project's pinned CDK CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_ANNOTATION_ERROR = re.compile(r"^\[Error at (?P<path>[^\]]+)\] (?P<message>.+)$")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(?P<kind>[A-Za-z_]\w*(?:Error|Exception)): (?P<message>.+)$")
_NOISE = ("Traceback (most recent call last)", "Subprocess exited with error", "File \"")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_LIBRARY_FOLDERS = (str(Path(__file__).resolve().parents[3]), "site-packages", "/lib/python", "<frozen ")
"""Where frames are not the app's own: this package, installed packages, the standard library."""


QUIET_JSII = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20,22",
              "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
"""jsii's banners about the Node.js release, which say nothing about the app: off for the app's synth and for the
aws-cdk-lib the commands read the cloud assembly with."""

PINNED_CDK_CLI = "aws-cdk@2.1148.1"
"""The CDK CLI release the project is tested with (package.json pins the same)."""


class SynthError(RuntimeError):
    """Synthesis failed; the message is what a person needs to fix it."""


def cdk_cli(project_dir: Path) -> str:
    """The pinned CLI (node_modules/.bin/cdk of the project or of this package's checkout), else `cdk` on PATH."""
    project_dir = Path(project_dir).resolve()
    checkout = Path(__file__).resolve().parents[4]
    for folder in (project_dir, *project_dir.parents, checkout):
        pinned = folder / "node_modules" / ".bin" / "cdk"
        if pinned.is_file():
            return str(pinned)
    found = shutil.which("cdk")
    if found is None:
        raise SynthError(
            f"The AWS CDK CLI was not found in {project_dir}/node_modules or on PATH: run "
            f"`npm install --save-exact {PINNED_CDK_CLI}` in {project_dir} (a 2.x release; 3.0.0 cannot read "
            "aws-cdk-lib's output), or put a `cdk` 2.x on PATH")
    return found


def synth_environment() -> dict[str, str]:
    """The environment for the CLI and the app: no telemetry or notices, this Python first on PATH."""
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    environment["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    environment.update(QUIET_JSII)
    return environment


def check_app(project_dir: Path, app: str | None) -> None:
    """SynthError unless there is an app to synthesize: --app, or the cdk.json of project_dir."""
    if app is None and not (Path(project_dir) / "cdk.json").is_file():
        raise SynthError(f"No CDK app: {project_dir} has no cdk.json; give the app's command with --app")


def synthesize(project_dir: Path, output_dir: Path, app: str | None = None,
               context: Mapping[str, str] | None = None) -> Path:
    """Run `cdk synth` into output_dir (emptied first); returns the assembly folder."""
    project_dir, output_dir = Path(project_dir), Path(output_dir)
    check_app(project_dir, app)
    shutil.rmtree(output_dir, ignore_errors=True)
    command = [cdk_cli(project_dir), "synth", "--quiet", "--no-notices", "--output", str(output_dir)]
    if app is not None:
        command += ["--app", app]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    completed = subprocess.run(command, cwd=project_dir, env=synth_environment(), capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, check=False)
    if completed.returncode != 0:
        raise SynthError(failure_message(completed.stderr + "\n" + completed.stdout))
    return output_dir


def failure_message(output: str) -> str:
    """The error a failed synth reports, without tracebacks or the CLI's own noise."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    annotations = [f"{m['path']}: {m['message']}" for m in map(_ANNOTATION_ERROR.match, lines) if m]
    if annotations:
        return "\n".join(dict.fromkeys(annotations))
    exceptions = [m for m in map(_EXCEPTION_LINE.match, lines) if m]
    if exceptions:
        app_frames = [m for m in map(_FRAME.match, lines) if m and not any(f in m["file"] for f in _LIBRARY_FOLDERS)]
        where = f" ({Path(app_frames[-1]['file']).name}, line {app_frames[-1]['line']})" if app_frames else ""
        return exceptions[-1]["message"] + where
    meaningful = [line for line in lines if not line.startswith((" ", "\t")) and not line.startswith(_NOISE)]
    return "\n".join(meaningful[-10:]) or "cdk synth failed without a message"
