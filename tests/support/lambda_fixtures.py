"""Session fixtures shared by tests/handler and tests/reliability (import them into a conftest).

`handler_module` is index.py imported from the handler's source folder, as Lambda imports it
from the asset. `receiver` answers CloudFormation's ResponseURLs (real HTTPS) and `stubs`
answers the EventBridge and Lambda calls of crhelper's polling (testing's doubles of them, which can
refuse deliveries and record calls). The two servers are started
once per test process and shared by every folder: crhelper makes its EventBridge and Lambda
clients on the handler's first invocation and keeps them, so every test in the process must
see the same stubs.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TypeVar

import pytest

from neptune_ml_endpoint.local.cloudformation.testing import HANDLER_DIR, RecordingStubs, RefusingReceiver

_Server = TypeVar("_Server", RefusingReceiver, RecordingStubs)
_started: dict[type, object] = {}


def _shared(kind: Callable[[], _Server]) -> _Server:
    """The one running server of this kind, started on first use and stopped when the process exits."""
    if kind not in _started:
        server = kind()
        server.start()
        atexit.register(server.stop)
        _started[kind] = server  # type: ignore[index]
    return _started[kind]  # type: ignore[index,return-value]


@pytest.fixture(scope="session")
def receiver() -> RefusingReceiver:
    return _shared(RefusingReceiver)


@pytest.fixture(scope="session")
def stubs() -> RecordingStubs:
    return _shared(RecordingStubs)


@pytest.fixture(scope="session")
def handler_module() -> Iterator[ModuleType]:
    """index.py imported from the handler's source folder, as Lambda imports it from the asset."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(HANDLER_DIR))
        import index

        yield index
