"""Drive graph-notebook's real client from the tests: graph_notebook_driver.py in its own environment.

`GraphNotebook` is one driver process (graph_notebook_env.py makes its environment on first use);
tests connect it to a local API and make client calls or run `%neptune_ml` magics through it.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph_notebook_env import graph_notebook_python, pinned_version

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

DRIVER = Path(__file__).with_name("graph_notebook_driver.py")
ANSWER_SECONDS = 120.0


class GraphNotebook:
    """A graph-notebook client in another process, answering one JSON request at a time."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [str(graph_notebook_python()), str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._answer()
        self.signed = False
        """Whether the client signs its requests with SigV4 (connected with iam=True)."""
        assert self.ready.get("version") == pinned_version(), self.ready

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put("")

    def _answer(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=ANSWER_SECONDS)
        except queue.Empty:
            raise AssertionError(f"graph-notebook's driver did not answer in {ANSWER_SECONDS} s") from None
        if not line:
            assert self._process.stderr is not None
            raise AssertionError(f"graph-notebook's driver ended: {self._process.stderr.read()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _ask(self, **request: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return self._answer()

    def connect(self, api: LocalNeptuneMlApi, iam: bool = False, ssl_verify: bool | str = True) -> None:
        """Point the client at the API as a notebook's config would (host, port, tls, auth_mode IAM)."""
        scheme, _, address = api.url.partition("://")
        host, port = address.rsplit(":", 1)
        answer = self._ask(op="connect", host=host, port=int(port), ssl=scheme == "https",
                           ssl_verify=ssl_verify, iam=iam, region="us-east-1")
        assert answer["iam_enabled"] is iam, answer
        self.signed = iam

    def call(self, method: str, *args: Any, **kwargs: Any) -> Exchange:
        """A Client method's HTTP exchange; raises ClientRaised when the client itself raised."""
        answer = self._ask(op="call", method=method, args=list(args), kwargs=kwargs)
        if "exception" in answer:
            raise ClientRaised(answer["exception"])
        return Exchange(answer["exchange"])

    def magic(self, line: str, cell: str = "") -> MagicRun:
        """`%neptune_ml <line>` (and its cell) as graph-notebook's magic runs it."""
        return MagicRun(self._ask(op="magic", line=line, cell=cell))

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class Exchange:
    """One request as graph-notebook sent it and the answer it got."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.status: int = data["status"]
        self.body: Any = data["body"]
        self.method: str = data["request"]["method"]
        self.url: str = data["request"]["url"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in data["request"]["headers"].items()}
        self.request_body: str | None = data["request"]["body"]

    @property
    def target(self) -> str:
        """The path and query the client sent, e.g. /ml/modeltraining/job-1?clean=FALSE."""
        return "/" + self.url.split("://", 1)[1].split("/", 1)[1]

    @property
    def sent(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def error(self, status: int) -> tuple[str, str]:
        """(code, detailedMessage) of a Neptune error answer with this HTTP status."""
        assert self.status == status, (self.status, self.body)
        assert set(self.body) == {"requestId", "code", "detailedMessage"}, self.body
        return self.body["code"], self.body["detailedMessage"]


class MagicRun:
    """What a `%neptune_ml` magic returned, printed and raised."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.result: Any = data.get("result")
        self.result_type: str | None = data.get("result_type")
        self.printed: str = data["printed"]
        self.exception: dict[str, Any] | None = data.get("exception")

    def http_error(self, status: int) -> tuple[str, str]:
        """(code, detailedMessage) of the Neptune error the magic's raise_for_status raised."""
        assert self.exception is not None and self.exception["type"] == "HTTPError", self.exception
        return Exchange(self.exception["exchange"]).error(status)

    def ok(self) -> Any:
        assert self.exception is None, self.exception
        return self.result


class ClientRaised(Exception):
    """graph-notebook's client raised before or instead of answering."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(f"{details['type']}: {details['message']}")
        self.details = details


def when_requested(api: LocalNeptuneMlApi, operation: str, then: Callable[[], None],
                   timeout: float = 60.0) -> threading.Thread:
    """Once the API has recorded a request for `operation`, run `then` (in a thread of its own)."""
    seen = threading.Event()

    def watch() -> None:
        waited = 0.0
        while waited < timeout:
            if any(record.operation == operation for record in api.requests()):
                seen.set()
                then()
                return
            threading.Event().wait(0.02)
            waited += 0.02

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
