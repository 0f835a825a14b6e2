"""Settings shared by every test: no real AWS credentials or regions are ever used.

Under pytest-xdist, test files also run longest first. Each run keeps every test's duration in
pytest's cache (.pytest_cache, key DURATIONS_KEY). The next parallel run reads them once, in
the controller, and hands that one snapshot to every worker, which orders the collected test
files by them, longest first, the tests inside a file keeping their order (all workers must
collect the same order, so none reads the cache itself: another run may be writing it). With
`--dist loadfile --no-loadscope-reorder` (as `make test` runs them) the workers take the files
in that order, so a long file starts early instead of leaving one worker running alone at the
end. Files never timed keep their collection order, after the timed ones; a run without
workers keeps the collection order.

The test files that synthesize CDK apps in their own process (tests/constructs, tests/review) go to one
worker together, as one unit: each process that first uses aws-cdk-lib starts its JavaScript runtime and
loads the library (about 8 s of CPU), which the other workers are spared.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from typing import Any

import pytest

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): otherwise every
# pytest-xdist worker rewrites and compiles every test module anew (about 3 s of CPU each), and every Python
# process the tests start (the CLI, the local API) compiles the package again. __pycache__ is ignored by git.
sys.dont_write_bytecode = False
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))  # the helpers every test folder shares
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# A call of a deprecated aws-cdk-lib API fails the synth that makes it, here and in the apps the tests synthesize.
os.environ["JSII_DEPRECATED"] = "fail"
os.environ.pop("AWS_PROFILE", None)

DURATIONS_KEY = "neptune-ml-endpoint/test-durations"
DISTRIBUTION_KEY = "neptune-ml-endpoint/dist"
_KNOWN = pytest.StashKey[dict[str, float]]()
"""The durations the cache held when this session first asked (controller only)."""


CDK_TEST_FOLDERS = ("tests/constructs/", "tests/review/")
CDK_UNIT = "aws-cdk-lib"


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _unit_of(nodeid: str) -> str:
    """What one worker runs whole: the test's file, or every test file that synthesizes CDK apps."""
    file = _file_of(nodeid)
    return CDK_UNIT if file.startswith(CDK_TEST_FOLDERS) else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadfile hands out units (_unit_of) instead of files; any other --dist is xdist's own."""
    if config.option.dist != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadUnitScheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _unit_of(nodeid)

    return LoadUnitScheduling(config, log)


def _cache(config: pytest.Config) -> pytest.Cache | None:
    """pytest's cache; None when it is off (-p no:cacheprovider leaves no config.cache at all)."""
    return getattr(config, "cache", None)


def _known_durations(config: pytest.Config) -> dict[str, float]:
    if _KNOWN not in config.stash:
        cache = _cache(config)
        known = cache.get(DURATIONS_KEY, {}) if cache is not None else {}
        config.stash[_KNOWN] = known if isinstance(known, dict) else {}
    return config.stash[_KNOWN]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: every worker gets the same snapshot of the durations, and the run's
    --dist (a worker's own config.option.dist is "no"; tests/reliability/conftest.py reads it)."""
    node.workerinput[DURATIONS_KEY] = _known_durations(node.config)
    node.workerinput[DISTRIBUTION_KEY] = node.config.option.dist


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A pytest-xdist worker orders the units (_unit_of) by their tests' last durations, longest first."""
    durations: dict[str, float] = getattr(config, "workerinput", {}).get(DURATIONS_KEY) or {}
    if not durations:
        return
    per_unit: defaultdict[str, float] = defaultdict(float)
    for item in items:
        per_unit[_unit_of(item.nodeid)] += durations.get(item.nodeid, 0.0)
    # A stable sort: the tests of a unit stay together and in order, as do units of equal time.
    items.sort(key=lambda item: (-per_unit[_unit_of(item.nodeid)], _unit_of(item.nodeid)))


class _DurationRecorder:
    """Adds this session's test durations to the cache when it ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.measured: defaultdict[str, float] = defaultdict(float)
        """Seconds each test took (setup, call and teardown), by node id."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.measured[report.nodeid] += report.duration

    def pytest_sessionfinish(self) -> None:
        cache = _cache(self.config)
        if cache is None or not self.measured:
            return
        known = cache.get(DURATIONS_KEY, {})
        kept = {nodeid: seconds for nodeid, seconds in (known if isinstance(known, dict) else {}).items()
                if (self.config.rootpath / _file_of(nodeid)).exists()}
        kept.update((nodeid, round(seconds, 3)) for nodeid, seconds in self.measured.items())
        cache.set(DURATIONS_KEY, kept)


def pytest_configure(config: pytest.Config) -> None:
    """Record durations in the process that sees every report: the controller, or a run without workers."""
    if _cache(config) is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_DurationRecorder(config), "test-durations-recorder")
