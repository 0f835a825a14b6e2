"""Build the wheel, install it alone in a new virtual environment outside the repository,
and synthesize the README's "Use it in your own CDK app" example, with its jobs and workflow examples
added, from a clean directory.

    python scripts/package_check.py        (make package-check)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_HEADING = "## Use it in your own CDK app"
JOBS_HEADING = "## Jobs: from exported graph data to a model"
WORKFLOW_HEADING = "## From graph data to a serving endpoint: `NeptuneMlWorkflow`"
EXPECTED_TYPES = ("Custom::NeptuneMlEndpoint", "Custom::NeptuneMlDataProcessingJob", "Custom::NeptuneMlModelTrainingJob",
                  "AWS::CloudFormation::WaitCondition")
REQUIRED_IN_WHEEL = (
    "neptune_ml_endpoint/lambda/index.py",
    "neptune_ml_endpoint/schema.py",
    "neptune_ml_endpoint/py.typed",
    "neptune_ml_endpoint/local/api/__init__.py",
    "neptune_ml_endpoint/local/cloudformation/__init__.py",
)


def readme_block(heading: str) -> str:
    """The first Python code block under a README heading."""
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    if match is None:
        raise SystemExit(f"no Python code block under {heading!r} in README.md")
    return match.group(1)


def readme_example() -> str:
    """The README's first example with its jobs and workflow examples added to the same stack, before app.synth()."""
    first = readme_block(README_HEADING)
    head, synth, tail = first.rpartition("app.synth()")
    if not synth:
        raise SystemExit(f"the example under {README_HEADING!r} does not end with app.synth()")
    return head + readme_block(JOBS_HEADING) + "\n" + readme_block(WORKFLOW_HEADING) + "\n" + synth + tail


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, env=env, check=True)


def build_wheel(out: Path) -> Path:
    build_dir_existed = (ROOT / "build").exists()
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], cwd=ROOT)
    if not build_dir_existed:  # setuptools' scratch folder, left in the source tree
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    wheel = next(out.glob("neptune_ml_endpoint-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in REQUIRED_IN_WHEEL if name not in names]
    if missing:
        raise SystemExit(f"the wheel lacks {missing}")
    return wheel


def synth_warnings(assembly_dir: Path) -> list[str]:
    """The warnings and errors CDK recorded in the cloud assembly (annotations such as a missing routeTableId)."""
    from aws_cdk import cx_api

    assembly = cx_api.CloudAssembly(str(assembly_dir))
    return [f"{message.id}: {message.entry.data}" for stack in assembly.stacks_recursively
            for message in stack.messages if message.level != cx_api.SynthesisMessageLevel.INFO]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="neptune-ml-package-check-") as scratch:
        work = Path(scratch)
        wheel = build_wheel(work / "dist")
        env_dir = work / "venv"
        venv.create(env_dir, with_pip=True)
        python = str(env_dir / "bin" / "python")
        run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-c", str(ROOT / "constraints.txt"), str(wheel)], cwd=work)
        user_app = work / "user-app"
        user_app.mkdir()
        (user_app / "app.py").write_text(readme_example())
        env = {**os.environ, "CDK_OUTDIR": str(user_app / "cdk.out")}
        run([python, "app.py"], cwd=user_app, env=env)
        templates = list((user_app / "cdk.out").glob("*.template.json"))
        resources = [r for t in templates for r in json.loads(t.read_text())["Resources"].values()]
        endpoints = [r for r in resources if r["Type"] == "Custom::NeptuneMlEndpoint"]
        missing = [kind for kind in EXPECTED_TYPES if not any(r["Type"] == kind for r in resources)]
        if missing:
            raise SystemExit(f"the README examples synthesized no {', '.join(missing)}")
        warnings = synth_warnings(user_app / "cdk.out")
        if warnings:
            raise SystemExit("the README example synthesizes with warnings:\n" + "\n".join(warnings))
        run([str(env_dir / "bin" / "neptune-ml-local"), "serve", "--help"], cwd=user_app, env=env)
        print(f"package check passed: {wheel.name} installed alone; the README examples synthesized "
              f"{len(endpoints)} endpoint(s) and {len({r['Type'] for r in resources if r['Type'].endswith('Job')})} "
              "job type(s) in "
              f"{len(templates)} template(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
