"""CloudFormation's side of a custom resource's answer: pre-signed HTTPS URLs that take a PUT.

    with ResponseReceiver() as receiver:
        url = receiver.url_for("demo-Endpoint-1")          # the event's ResponseURL
        os.environ.update(receiver.env())                  # SSL_CERT_FILE: trust the receiver
        ...                                                # run the handler
        answer = receiver.wait_for("demo-Endpoint-1", timeout=10)
        answer["Status"], answer["PhysicalResourceId"], answer["Data"]

The server listens on 127.0.0.1 with a certificate from a throwaway CA made by trustme.
crhelper sends with ssl.create_default_context(), which reads the SSL_CERT_FILE environment
variable, so pointing that at `ca_bundle_path` makes it trust the receiver with verification
left on. Each PUT on any path is recorded with its parsed JSON body and arrival time.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from neptune_ml_endpoint.local.cloudformation.aws.background_http import (
    BackgroundHttpServer,
    ServedInBackground,
)

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedResponse:
    """One delivered answer."""

    path: str
    body: dict[str, Any]
    received_at: float


class ResponseReceiver(ServedInBackground):
    """An HTTPS server recording CloudFormation-style response PUTs, keyed by URL path."""

    def __init__(self, port: int = 0) -> None:
        import trustme  # the local extra: pip install 'neptune-ml-endpoint[local]'

        self._ca = trustme.CA()
        self._workdir = tempfile.TemporaryDirectory(prefix="response-receiver-")
        self.ca_bundle_path = str(Path(self._workdir.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_bundle_path)
        self._records: list[ReceivedResponse] = []
        self._changed = threading.Condition()
        self._server = BackgroundHttpServer((HOST, port), self._handler_class())
        self._server.socket = self._server_tls().wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False)

    def stop(self) -> None:
        super().stop()
        self._workdir.cleanup()

    # --- what callers use -----------------------------------------------------------

    def url_for(self, key: str) -> str:
        """A pre-signed-looking URL whose path is the key; its query carries a fake signature."""
        query = (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host"
            f"&X-Amz-Expires=7200&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
            f"&X-Amz-Signature={self.signature_for(key)}"
        )
        return f"https://{HOST}:{self.port}/{quote(key, safe='')}?{query}"

    @staticmethod
    def signature_for(key: str) -> str:
        """The secret part of url_for(key): it must never appear in a log."""
        return hashlib.sha256(f"signature:{key}".encode()).hexdigest()

    def env(self) -> dict[str, str]:
        """Environment variables that make crhelper (and Python's ssl defaults) trust the receiver."""
        return {"SSL_CERT_FILE": self.ca_bundle_path}

    def records(self, key: str | None = None) -> list[ReceivedResponse]:
        """Every delivered answer, or those for one key, oldest first."""
        with self._changed:
            return [r for r in self._records if key is None or r.path == key]

    def responses(self, key: str) -> list[dict[str, Any]]:
        """The bodies delivered for a key, oldest first."""
        return [record.body for record in self.records(key)]

    def wait_for(self, key: str, timeout: float) -> dict[str, Any]:
        """The first body delivered for a key, waiting up to `timeout` seconds; TimeoutError if none."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r.body for r in self._records if r.path == key]
                if found:
                    return found[0]
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no response for {key!r} within {timeout} s")
                self._changed.wait(left)

    # --- the server -----------------------------------------------------------------

    def _server_tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(HOST, "localhost").configure_cert(context)
        return context

    def _accepts(self) -> bool:
        """Whether to take the delivery now arriving (testing.RefusingReceiver loses some)."""
        return True

    def _record(self, path: str, body: dict[str, Any]) -> None:
        with self._changed:
            self._records.append(ReceivedResponse(path, body, time.time()))
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class PutHandler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not receiver._accepts():
                    self.close_connection = True
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self.send_error(400, "The body is not JSON")
                    return
                receiver._record(unquote(urlsplit(self.path).path.lstrip("/")), body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: request lines hold the pre-signed URL."""

        return PutHandler
