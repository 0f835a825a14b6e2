"""CloudFormation's side of a custom resource's answer: pre-signed-looking HTTPS URLs that take a PUT.

The certificate comes from a throwaway trustme CA; crhelper's ssl.create_default_context() reads
SSL_CERT_FILE, so env() makes it trust the receiver with verification left on.
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
from typing import Any, cast
from urllib.parse import quote, unquote, urlsplit

from neptune_ml_endpoint.local.cloudformation.aws.background_http import BackgroundHttpServer

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedResponse:
    """One delivered answer."""

    path: str
    body: dict[str, Any]
    received_at: float


class ResponseReceiver(BackgroundHttpServer):
    """An HTTPS server recording CloudFormation-style response PUTs, keyed by URL path."""

    def __init__(self, port: int = 0) -> None:
        import trustme  # the local extra: pip install 'neptune-ml-endpoint[local]'

        super().__init__((HOST, port), _PutHandler)
        ca = trustme.CA()
        self._workdir = tempfile.TemporaryDirectory(prefix="response-receiver-")
        self.ca_bundle_path = str(Path(self._workdir.name) / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_bundle_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST, "localhost").configure_cert(context)
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self._records: list[ReceivedResponse] = []
        self._changed = threading.Condition()

    def stop(self) -> None:
        super().stop()
        self._workdir.cleanup()

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
        with self._changed:
            if not self._changed.wait_for(lambda: self.records(key), timeout):
                raise TimeoutError(f"no response for {key!r} within {timeout} s")
            return self.records(key)[0].body

    def _accepts(self) -> bool:
        """Whether to take the delivery now arriving (testing.RefusingReceiver loses some)."""
        return True

    def _record(self, path: str, body: dict[str, Any]) -> None:
        with self._changed:
            self._records.append(ReceivedResponse(path, body, time.time()))
            self._changed.notify_all()


class _PutHandler(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        receiver = cast(ResponseReceiver, self.server)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
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
