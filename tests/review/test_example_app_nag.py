"""cdk-nag's AwsSolutions pack passes on the example app: every finding fixed or acknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
import pytest

import app as example_app

ROOT = Path(__file__).resolve().parents[2]
MIN_REASON_LENGTH = 40


def _violations(report_file: Path) -> list[str]:
    """The rule and construct path of every violation in a validation report."""
    if not report_file.exists():
        return []
    report = json.loads(report_file.read_text())
    return [
        f"{violation.get('ruleName')}: {construct.get('constructPath')}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]


@pytest.fixture(scope="module")
def nagged_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.App, Path]:
    outdir = tmp_path_factory.mktemp("nag")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context=context, outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())
    return example_app.build_app(app), outdir


def test_example_app_has_no_unacknowledged_findings(nagged_app: tuple[cdk.App, Path]) -> None:
    app, outdir = nagged_app
    try:
        app.synth()
    except RuntimeError as error:  # the validation plugin fails synthesis on any violation
        pytest.fail("cdk-nag AwsSolutions findings:\n" + ("\n".join(_violations(outdir / "validation-report.json"))
                                                         or str(error)))
    assert _violations(outdir / "validation-report.json") == []


def test_every_acknowledgement_in_the_example_gives_a_reason(nagged_app: tuple[cdk.App, Path]) -> None:
    app, _ = nagged_app
    reasons: dict[str, str] = {}
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                reasons.update(entry.data)
    nag_reasons = {rule: reason for rule, reason in reasons.items() if rule.startswith("AwsSolutions::")}
    assert nag_reasons, "the construct acknowledges its deliberate wildcards"
    for rule, reason in nag_reasons.items():
        assert len(reason) >= MIN_REASON_LENGTH, (rule, reason)
