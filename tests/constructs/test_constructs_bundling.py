"""The handler asset: built locally, self-contained, hashed on its content."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import sys
from pathlib import Path

import crhelper
import pytest
from constructs_support import new_stack, run_command

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs import bundling


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bundle")
    bundling.build_handler_bundle(output)
    return output


def test_bundle_holds_the_handler_modules_at_its_root(bundle: Path) -> None:
    sources = sorted(p.name for p in bundling.HANDLER_SOURCE_DIR.glob("*.py"))
    assert "index.py" in sources
    for name in sources:
        assert filecmp.cmp(bundling.HANDLER_SOURCE_DIR / name, bundle / name, shallow=False)


def test_bundle_holds_crhelper_without_caches(bundle: Path) -> None:
    installed = Path(crhelper.__file__).parent
    assert filecmp.cmp(
        installed / "resource_helper.py", bundle / "crhelper" / "resource_helper.py", shallow=False
    )
    assert not list(bundle.rglob("__pycache__"))
    assert not list(bundle.rglob("*.pyc"))


def test_bundle_holds_only_the_schema_and_contracts_of_the_package(bundle: Path) -> None:
    package = bundle / "neptune_ml_endpoint"
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "contract", "schema.py"]
    assert filecmp.cmp(Path(schema.__file__), package / "schema.py", shallow=False)
    contracts = Path(schema.__file__).with_name("contract")
    assert sorted(p.name for p in (package / "contract").iterdir()) == sorted(p.name for p in contracts.glob("*.py"))
    for module in contracts.glob("*.py"):
        assert filecmp.cmp(module, package / "contract" / module.name, shallow=False)


def test_handler_imports_from_the_bundle(bundle: Path) -> None:
    probe = (
        "import json, sys; sys.path.insert(0, '.'); import index, crhelper, neptune_ml_endpoint.schema as s; "
        "print(json.dumps([crhelper.__file__, s.__file__, callable(index.handler)]))"
    )
    env = {**os.environ, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    result = run_command([sys.executable, "-I", "-c", probe], cwd=bundle, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    crhelper_file, schema_file, has_handler = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(crhelper_file).resolve().is_relative_to(bundle.resolve())
    assert Path(schema_file).resolve().is_relative_to(bundle.resolve())
    assert has_handler


def test_asset_hash_follows_the_bundled_crhelper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def asset_key() -> str:
        location = bundling.handler_code().bind(new_stack()).s3_location
        assert location is not None
        return location.object_key

    before = asset_key()
    assert asset_key() == before
    newer_crhelper = tmp_path / "crhelper"
    shutil.copytree(
        Path(crhelper.__file__).parent, newer_crhelper, ignore=shutil.ignore_patterns("__pycache__")
    )
    (newer_crhelper / "utils.py").write_text(
        (newer_crhelper / "utils.py").read_text() + "\n# newer release\n"
    )
    monkeypatch.setattr(crhelper, "__file__", str(newer_crhelper / "__init__.py"))
    assert asset_key() != before
