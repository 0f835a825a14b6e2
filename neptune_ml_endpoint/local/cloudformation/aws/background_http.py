"""An HTTP server that serves from a daemon thread, started and stopped by `with`."""

from __future__ import annotations

import ssl
import sys
import threading
from http.server import ThreadingHTTPServer
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

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up or fail the TLS handshake; loud about anything else."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)
