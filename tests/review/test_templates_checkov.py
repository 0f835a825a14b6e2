"""checkov finds nothing unacknowledged in the example app's template, in one using every prop, or in one
chaining the job constructs into endpoints.

checkov pins boto3 and packaging to versions older than this project's, so it runs from its own
virtual environment (.venv/checkov, made on first use with the version pinned in constraints.txt)
and offline: no API key, no mapping or policy downloads.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from result_cache import cached_folder
from review_support import ROOT, every_prop_stack, example_app, jobs_stack

CHECKOV_ENV = ROOT / ".venv" / "checkov"
CHECKOV = CHECKOV_ENV / "bin" / "checkov"
MIN_REASON_LENGTH = 40


def pinned_checkov_version() -> str:
    match = re.search(r"^checkov==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert match, "constraints.txt pins checkov"
    return match.group(1)


def checkov_executable() -> Path:
    """checkov at the pinned version, installed in its own environment if it is not there yet."""
    version = pinned_checkov_version()
    installed = CHECKOV_ENV / f".installed-{version}"
    CHECKOV_ENV.parent.mkdir(exist_ok=True)
    with open(CHECKOV_ENV.parent / "checkov.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be making the same environment
        if not installed.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHECKOV_ENV)], check=True)
            subprocess.run(
                [str(CHECKOV_ENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", f"checkov=={version}"],
                check=True, timeout=900,
            )
            installed.touch()
    return CHECKOV


def template_file(stack: cdk.Stack) -> Path:
    assembly = cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    return Path(assembly.get_stack_by_name(stack.stack_name).template_full_path)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    app = example_app(tmp_path_factory.mktemp("example"))
    endpoints_stack, workflow_stack = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    return {
        "example": template_file(endpoints_stack),
        "example workflow": template_file(workflow_stack),
        "every prop": template_file(every_prop_stack(tmp_path_factory.mktemp("every-prop"))),
        "jobs": template_file(jobs_stack(tmp_path_factory.mktemp("jobs"))),
    }


@pytest.fixture(scope="module")
def reports(templates: dict[str, Path]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """checkov's passed, failed and skipped checks of each template, from one offline run (kept in the test
    cache while the templates and checkov's version are the same)."""
    executable = checkov_executable()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BC_", "PRISMA_"))}
    env["BC_SKIP_MAPPING"] = "TRUE"
    options = ["--framework", "cloudformation", "--output", "json", "--compact", "--skip-download"]
    copies = {name: f"{name.replace(' ', '-')}.template.json" for name in templates}

    def run_checkov(folder: Path) -> None:
        command = [str(executable), *options]
        for name, path in templates.items():
            (folder / copies[name]).write_bytes(path.read_bytes())
            command += ["--file", str(folder / copies[name])]
        started = time.monotonic()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False,
                                cwd=folder)
        print(f"checkov {pinned_checkov_version()} on {len(templates)} templates: "
              f"{time.monotonic() - started:.1f} s")
        assert result.returncode in (0, 1), result.stderr[-3000:]
        (folder / "report.json").write_text(result.stdout)

    key = [pinned_checkov_version().encode(), " ".join(options).encode(),
           *(copies[name].encode() + b"\0" + path.read_bytes() for name, path in templates.items())]
    folder = cached_folder("checkov", key, run_checkov)
    report = json.loads((folder / "report.json").read_text())
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    by_template: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in templates:
        by_template[name] = {
            outcome: [check for check in report["results"].get(f"{outcome}_checks", [])
                      if Path(check["file_abs_path"]).name == copies[name]]
            for outcome in ("passed", "failed", "skipped")
        }
    return by_template


def described(checks: list[dict[str, Any]]) -> list[str]:
    return [f"{check['check_id']} {check['resource']}: {check['check_name']}" for check in checks]


@pytest.mark.parametrize("template", ["example", "example workflow", "every prop", "jobs"])
def test_no_failed_checks(reports: dict[str, dict[str, list[dict[str, Any]]]], template: str) -> None:
    checks = reports[template]
    failed = described(checks["failed"])
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    scanned = {check["resource"].split(".")[0] for check in checks["passed"] + checks["skipped"]}
    assert {"AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::SQS::Queue"} <= scanned


@pytest.mark.parametrize("template", ["example", "example workflow", "every prop", "jobs"])
def test_every_skip_gives_a_reason(reports: dict[str, dict[str, list[dict[str, Any]]]], template: str) -> None:
    skipped = reports[template]["skipped"]
    assert skipped, "the handler's reserved concurrency is acknowledged"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) >= MIN_REASON_LENGTH, check["check_id"]


def test_the_construct_skips_only_reserved_concurrency_and_a_log_group_without_key(
    templates: dict[str, Path], reports: dict[str, dict[str, list[dict[str, Any]]]]
) -> None:
    resources = json.loads(templates["every prop"].read_text())["Resources"]
    functions = [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    log_groups_without_key = [
        logical_id for logical_id, r in resources.items()
        if r["Type"] == "AWS::Logs::LogGroup" and "KmsKeyId" not in r["Properties"]
    ]
    network_policies = [logical_id for logical_id, r in resources.items()
                        if r["Type"] == "AWS::IAM::Policy" and "NetworkInterfacePolicy" in logical_id]
    assert len(functions) == 2 and len(log_groups_without_key) == 1 and len(network_policies) == 2
    skipped = {(check["resource"].split(".", 1)[1], check["check_id"]) for check in reports["every prop"]["skipped"]}
    assert skipped == ({(f, "CKV_AWS_115") for f in functions} | {(g, "CKV_AWS_158") for g in log_groups_without_key}
                       | {(p, "CKV_AWS_111") for p in network_policies})


def test_the_job_constructs_add_no_skips_of_their_own(
    templates: dict[str, Path], reports: dict[str, dict[str, list[dict[str, Any]]]]
) -> None:
    """The jobs' template skips only what the shared handler skips; its jobs, keys, roles and wait condition
    pass every check that applies to them."""
    resources = json.loads(templates["jobs"].read_text())["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert {"Custom::NeptuneMlDataProcessingJob", "Custom::NeptuneMlModelTrainingJob",
            "Custom::NeptuneMlModelTransformJob", "AWS::CloudFormation::WaitCondition"} <= types
    [function] = [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    [log_group] = [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"]
    [network_policy] = [logical_id for logical_id, r in resources.items()
                        if r["Type"] == "AWS::IAM::Policy" and "NetworkInterfacePolicy" in logical_id]
    skipped = {(check["resource"].split(".", 1)[1], check["check_id"]) for check in reports["jobs"]["skipped"]}
    assert skipped == {(function, "CKV_AWS_115"), (log_group, "CKV_AWS_158"), (network_policy, "CKV_AWS_111")}
    passed = {check["resource"].split(".")[0] for check in reports["jobs"]["passed"]}
    assert {"AWS::KMS::Key", "AWS::IAM::Policy"} <= passed
