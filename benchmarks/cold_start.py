"""Benchmark 3: the handler's cold start next to boto3's, and the size of its zipped asset.

Each run starts fresh interpreters (`python -I -B -c ...`, the environment's Python) with the
asset folder made by build_handler_bundle first on sys.path, as Lambda's runtime has it; -B
writes no bytecode into the asset, so its modules are compiled on every start, as in Lambda's
read-only /var/task:
- `import boto3` alone;
- `import index`, then `crhelper.CfnResource()`, which builds the Lambda, EventBridge and
  CloudWatch Logs clients crhelper makes before the first answer.
Runs alternate between the two so that changes in the machine's load hit both alike. The
times are measured inside the interpreter (perf_counter around the statements), so the
interpreter's own start-up is left out of both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.stats import Summary, ratio_of_medians
from benchmarks.table import Row
from neptune_ml_endpoint.constructs.bundling import build_handler_bundle
from neptune_ml_endpoint.local.cloudformation.testing import fake_aws_environment

_BOTO3_ONLY = """
import json, time
started = time.perf_counter()
import boto3
print(json.dumps({"import": time.perf_counter() - started}))
"""

_HANDLER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import index
imported = time.perf_counter()
import crhelper
crhelper.CfnResource(log_level="WARNING")
print(json.dumps({"import": imported - started, "clients": time.perf_counter() - imported,
                  "schema": sys.modules["neptune_ml_endpoint.schema"].__file__}))
"""


def run(runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as workdir:
        asset = Path(workdir) / "asset"
        build_handler_bundle(asset)
        zipped, unzipped, files = _zipped_size(asset, Path(workdir) / "asset.zip")
        boto3_imports: list[float] = []
        index_imports: list[float] = []
        cold_paths: list[float] = []
        for _ in range(runs):
            boto3_imports.append(float(_measure(_BOTO3_ONLY, asset)["import"]))
            handler = _measure(_HANDLER, asset)
            if not str(handler["schema"]).startswith(str(asset)):
                raise RuntimeError(f"index imported the schema from {handler['schema']}, not from the asset")
            index_imports.append(float(handler["import"]))
            cold_paths.append(float(handler["import"]) + float(handler["clients"]))
    name = "3 cold start (fresh interpreter)"
    return [
        Row(name, "import boto3", Summary.of(boto3_imports).describe("s", 3)),
        Row(name, "import index", Summary.of(index_imports).describe("s", 3)),
        Row(name, "import index + crhelper's clients", Summary.of(cold_paths).describe("s", 3)),
        Row(name, "ratio to import boto3 (medians)",
            f"import index {ratio_of_medians(index_imports, boto3_imports):.2f}x; "
            f"with crhelper's clients {ratio_of_medians(cold_paths, boto3_imports):.2f}x"),
        Row("3 handler asset", "zipped size (deflate)",
            f"{zipped / 1024:.1f} KiB ({unzipped / 1024:.1f} KiB in {files} files unzipped)"),
    ]


def _measure(code: str, asset: Path) -> dict[str, float | str]:
    """Run code in a fresh isolated interpreter; its one line of JSON output."""
    environment = {"PATH": os.environ.get("PATH", ""), **fake_aws_environment()}
    done = subprocess.run([sys.executable, "-I", "-B", "-c", code, str(asset)], env=environment,
                          capture_output=True, text=True, check=True, timeout=120)
    loaded: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _zipped_size(folder: Path, archive: Path) -> tuple[int, int, int]:
    """(zip bytes, unzipped bytes, files) of the folder zipped as CDK does for a Lambda asset."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for path in files:
            zipped.write(path, path.relative_to(folder))
    return archive.stat().st_size, sum(path.stat().st_size for path in files), len(files)
