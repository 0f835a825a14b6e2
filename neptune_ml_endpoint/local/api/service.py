"""LocalNeptuneMlApi: the local Neptune ML API, run in a background thread."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from neptune_ml_endpoint.local.api.dispatch import Dispatcher
from neptune_ml_endpoint.local.api.endpoints import EndpointStore, Timings
from neptune_ml_endpoint.local.api.faults import Fault, FaultPlan, RateLimiter
from neptune_ml_endpoint.local.api.jobs import JobStore
from neptune_ml_endpoint.local.api.model import service_model
from neptune_ml_endpoint.local.api.recording import RecordedRequest, RequestLog
from neptune_ml_endpoint.local.api.routes import JOB_KINDS, Resource
from neptune_ml_endpoint.local.api.server import ApiHttpServer


class LocalNeptuneMlApi:
    """The Neptune Data API's ML endpoint operations on a local HTTP(S) port.

    Point boto3 at it with `boto3.client("neptunedata", endpoint_url=api.url)`.
    """

    def __init__(
        self,
        timings: Timings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        account: str = "123456789012",
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        instance_token: str | None = None,
    ) -> None:
        """`clock` (seconds, monotonic) drives status transitions and the rate limit; with
        `instance_token`, GET /local-api/instance answers it and the process id."""
        self.host = host
        self.instance_token = instance_token
        self.port = port
        self.ssl_context = ssl_context
        timings = timings if timings is not None else Timings()
        self._store = EndpointStore(timings, region, account, clock)
        self._jobs = JobStore(timings, region, account, clock)
        self._faults = FaultPlan()
        self._limiter = RateLimiter(clock=clock)
        self._requests = RequestLog()
        self._stopping = threading.Event()
        self._server: ApiHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def timings(self) -> Timings:
        """How long transitions take; change its fields (or replace it) at any time."""
        return self._store.timings

    @timings.setter
    def timings(self, timings: Timings) -> None:
        self._store.timings = self._jobs.timings = timings

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:54321"."""
        if self._server is None:
            raise RuntimeError("the local Neptune ML API is not running; call start() first")
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        shown = "127.0.0.1" if host == "0.0.0.0" else f"[{host}]" if ":" in host else host
        return f"{'https' if self.ssl_context else 'http'}://{shown}:{port}"

    def start(self) -> Self:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the local Neptune ML API is already running")
        self._stopping.clear()
        service_model()  # loaded now rather than on the first error
        dispatcher = Dispatcher(self._store, self._jobs, self._faults, self._limiter)
        self._server = ApiHttpServer((self.host, self.port), dispatcher, self._requests,
                                     self.ssl_context, self._stopping, self.instance_token)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-neptune-ml-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and wake slow answers; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def endpoint_ids(self) -> list[str]:
        """Every endpoint not yet gone, whatever its status, oldest first."""
        return self._store.ids()

    def status(self, endpoint_id: str) -> str | None:
        """The endpoint's current status; None when it is gone or unknown."""
        return self._store.status(endpoint_id)

    def job_ids(self, kind: str) -> list[str]:
        """Every job of a kind ("dataprocessing", "modeltraining" or "modeltransform"), oldest first."""
        return self._jobs.ids(_job_kind(kind))

    def job_status(self, kind: str, job_id: str) -> str | None:
        """A job's current status; None when the API has never heard of it."""
        return self._jobs.status(_job_kind(kind), job_id)

    def job_request(self, kind: str, job_id: str) -> dict[str, Any] | None:
        """The fields a job's Start request sent (as the API read its JSON body); None for an unknown job."""
        return self._jobs.request_fields(_job_kind(kind), job_id)

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_rate_limit(self, requests_per_second: float | None) -> None:
        """Answer 429 above this many requests per second (all operations); None: no limit."""
        self._limiter.set_rate(requests_per_second)

    def requests(self) -> list[RecordedRequest]:
        """A copy of every request answered so far."""
        return self._requests.entries()


def _job_kind(name: str) -> Resource:
    for resource in JOB_KINDS:
        if resource.name == name:
            return resource
    raise ValueError(f"{name!r} is not a job kind; use dataprocessing, modeltraining or modeltransform")
