"""HTTP servers that serve from a background thread, and a mixin that starts them with `with`."""

from __future__ import annotations

import ssl
import sys
import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class BackgroundHttpServer(ThreadingHTTPServer):
    """A threading HTTP server on a daemon thread; `port` is known once constructed."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler_class: Any) -> None:
        super().__init__(address, handler_class)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=type(self).__name__, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up or fail the TLS handshake; loud about anything else."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)


class ServedInBackground:
    """start(), stop() and `with` for a class whose server is a BackgroundHttpServer in `_server`."""

    _server: BackgroundHttpServer

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
