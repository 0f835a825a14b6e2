"""The Lambda handler's asset, built locally: no Docker and no network at synth time.

The asset holds the handler's modules at its root, crhelper's installed package and a
minimal ``neptune_ml_endpoint`` package with only ``schema.py`` and the ``contract`` package. Importing this module has
no side effects beyond importing aws-cdk-lib; the local CloudFormation player reuses
:func:`build_handler_bundle` to run the same files the Lambda function would.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import crhelper
import jsii
from aws_cdk import aws_lambda as lambda_

from neptune_ml_endpoint import schema

HANDLER_SOURCE_DIR = Path(__file__).resolve().parent.parent / "lambda"
"""Where the handler's modules live (package data, not a package)."""

HANDLER_ENTRY = "index.handler"
"""The handler's entry point inside the asset."""

HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The Lambda runtime the asset is built for: the newest Python runtime in this aws-cdk-lib."""

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def build_handler_bundle(output_dir: Path) -> None:
    """Write the handler's Lambda asset into output_dir (created if missing)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for module in sorted(HANDLER_SOURCE_DIR.glob("*.py")):
        shutil.copy2(module, output_dir / module.name)
    crhelper_dir = Path(crhelper.__file__).resolve().parent
    shutil.copytree(crhelper_dir, output_dir / crhelper_dir.name, ignore=_IGNORED, dirs_exist_ok=True)
    package_dir = output_dir / "neptune_ml_endpoint"
    package_dir.mkdir(exist_ok=True)
    (package_dir / "__init__.py").write_text('"""The shared property schema, bundled for the handler."""\n')
    shutil.copy2(Path(schema.__file__), package_dir / "schema.py")
    contract_dir = Path(schema.__file__).with_name("contract")
    shutil.copytree(contract_dir, package_dir / "contract", ignore=_IGNORED, dirs_exist_ok=True)


@jsii.implements(cdk.ILocalBundling)
class _LocalHandlerBundling:
    """Bundles the handler asset in-process, so synth never starts a container."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        build_handler_bundle(Path(output_dir))
        return True


def handler_code() -> lambda_.Code:
    """The handler's Lambda code, hashed on the bundle's content (a new crhelper changes it)."""
    return lambda_.Code.from_asset(
        str(HANDLER_SOURCE_DIR),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            # Required by the API but never run: local bundling always succeeds.
            image=HANDLER_RUNTIME.bundling_image,
            local=_LocalHandlerBundling(),
        ),
    )
