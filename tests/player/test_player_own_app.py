"""A person's own CDK app in a folder of its own: the README's app and cdk.json deploy locally as they are,
and without a CDK CLI the message says what to install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from player_support import POLL_SECONDS

from neptune_ml_endpoint.local.__main__ import main
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi
from neptune_ml_endpoint.local.cloudformation.cli.synth import PINNED_CDK_CLI

ROOT = Path(__file__).resolve().parents[2]
README_SECTION = "## Use it in your own CDK app"


def readme_block(language: str) -> str:
    """The first code block of a language in the README's section on using the construct in an app."""
    section = (ROOT / "README.md").read_text().split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no {language} block under {README_SECTION!r}"
    return match.group(1)


def test_the_readme_app_with_the_readme_cdk_json_deploys_and_destroys_locally(
        api: LocalNeptuneMlApi, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text(readme_block("python"))
    (tmp_path / "cdk.json").write_text(readme_block("json"))
    monkeypatch.chdir(tmp_path)
    common = ["--api-url", api.url, "--poll-seconds", POLL_SECONDS]

    deployed = main(["deploy", *common])

    output = capsys.readouterr().out
    assert deployed == 0, output
    assert len(api.endpoint_ids()) == 1
    assert f"NeptuneMlInference.EndpointId = {api.endpoint_ids()[0]}" in output
    assert main(["destroy", *common]) == 0
    assert api.endpoint_ids() == []


def test_the_cli_release_named_in_messages_is_the_one_package_json_pins() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]

    assert PINNED_CDK_CLI == f"aws-cdk@{pinned}"


def test_without_a_cdk_cli_deploy_says_what_to_install_in_the_apps_folder(tmp_path: Path) -> None:
    # The package as an installed copy (no checkout with node_modules beside it), and no cdk on PATH.
    site = tmp_path / "site"
    shutil.copytree(ROOT / "neptune_ml_endpoint", site / "neptune_ml_endpoint",
                    ignore=shutil.ignore_patterns("__pycache__"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "cdk.json").write_text(readme_block("json"))
    empty = tmp_path / "bin"
    empty.mkdir()
    environment = {**os.environ, "PATH": str(empty), "PYTHONPATH": str(site)}

    completed = subprocess.run([sys.executable, "-m", "neptune_ml_endpoint.local", "deploy"], cwd=app,
                               env=environment, capture_output=True, text=True, timeout=120, check=False)

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"The AWS CDK CLI was not found in {app}/node_modules or on PATH" in completed.stdout
    assert f"npm install --save-exact {PINNED_CDK_CLI}` in {app}" in completed.stdout
    assert "make install" not in completed.stdout
    assert not (app / ".local-deploy").exists()
