"""The HTTP side: a ThreadingHTTPServer whose handler asks the Dispatcher and writes its Reply."""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from neptune_ml_endpoint.local.api.dispatch import Dispatcher, Reply
from neptune_ml_endpoint.local.api.errors import BAD_REQUEST, INTERNAL_FAILURE, ApiError
from neptune_ml_endpoint.local.api.recording import RecordedRequest, RequestLog

LOGGER = logging.getLogger("neptune_ml_endpoint.local.api")
INSTANCE_PATH = "/local-api/instance"
"""GET here answers {"token", "pid"} when the server was given an instance token: who it is, on any OS."""
MAX_BODY_BYTES = 1 << 20
IDLE_CONNECTION_SECONDS = 60.0


class ApiHttpServer(ThreadingHTTPServer):
    """Threaded server that can wrap connections in TLS and close them all on shutdown."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, request_log: RequestLog,
                 ssl_context: ssl.SSLContext | None, stopping: threading.Event,
                 instance_token: str | None = None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.dispatcher = dispatcher
        self.request_log = request_log
        self.ssl_context = ssl_context
        self.stopping = stopping
        self.instance_token = instance_token
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, ApiRequestHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host (slow where DNS is unreachable)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake happens in the connection's own thread, on its first read.
            connection = self.ssl_context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection, so idle keep-alive threads finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        LOGGER.warning("Connection from %s ended: %r", client_address[0], error)


class ApiRequestHandler(BaseHTTPRequestHandler):
    """One connection: each request goes to the Dispatcher, each Reply is written back."""

    server: ApiHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "NeptuneMlLocal/1.0"
    timeout = IDLE_CONNECTION_SECONDS
    disable_nagle_algorithm = True

    def __getattr__(self, name: str) -> Any:
        """Every method (do_GET, do_PUT, ...) is answered; unsupported ones get Neptune's error."""
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        if self.path == INSTANCE_PATH and self.command == "GET" and self.server.instance_token:
            self._read_body()
            body = {"token": self.server.instance_token, "pid": os.getpid()}
            self._send(Reply(200, body, None), str(uuid.uuid4()))
            return
        started = time.monotonic()
        arrived = self.server.dispatcher.store.clock()
        request_id = str(uuid.uuid4())
        try:
            reply = self.server.dispatcher.handle(self.command, self.path, self._read_body(), request_id)
        except ApiError as error:
            self.close_connection = True
            reply = Reply(error.status, error.body(request_id), None, error_code=error.code)
        except Exception:
            LOGGER.exception("%s %s failed", self.command, self.path)
            failure = ApiError(INTERNAL_FAILURE, "The local API failed; see its log")
            reply = Reply(failure.status, failure.body(request_id), None, error_code=failure.code)
        if reply.delay:
            self.server.stopping.wait(reply.delay)
        self._record(reply, arrived, time.monotonic() - started)  # before answering: clients may look
        self._send(reply, request_id)

    def _read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length", "0") or "0"
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            raise ApiError(BAD_REQUEST, f"Content-Length {length_text!r} is not a size up to {MAX_BODY_BYTES}")
        return self.rfile.read(int(length_text))

    def _send(self, reply: Reply, request_id: str) -> None:
        if reply.status is None:
            self._reset()
            return
        payload = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", request_id)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError as error:
            self.close_connection = True
            LOGGER.info("Client left before the answer to %s %s: %s", self.command, self.path, error)

    def _reset(self) -> None:
        """Close the connection at once with a TCP reset (SO_LINGER 0), sending nothing."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _record(self, reply: Reply, arrived: float, seconds: float) -> None:
        self.server.request_log.append(RecordedRequest(
            operation=reply.operation, endpoint_id=reply.endpoint_id, status_code=reply.status,
            at=arrived, fault=reply.fault, method=self.command, path=self.path, error_code=reply.error_code,
            trace_id=self.headers.get("X-Amzn-Trace-Id"),
        ))
        LOGGER.info("%s", _log_line(self.command, self.path, reply, seconds))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (bad request line, headers too long) also get a JSON error body."""
        self.close_connection = True
        error = ApiError(BAD_REQUEST, message or explain or "The request could not be read", status=code)
        request_id = str(uuid.uuid4())
        LOGGER.info("Malformed request from %s -> %d: %s", self.address_string(), code, error.message)
        self._send(Reply(code, error.body(request_id), None, error_code=error.code), request_id)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged once, by _record."""

    def log_message(self, format: str, *args: Any) -> None:
        LOGGER.debug("%s: " + format, self.address_string(), *args)


def _log_line(method: str, path: str, reply: Reply, seconds: float) -> str:
    """e.g. "POST /ml/endpoints CreateMLEndpoint id=demo -> 200 status=Creating (1.2 ms)"."""
    parts = [method, path, reply.operation or "-"]
    if reply.endpoint_id:
        parts.append(f"id={reply.endpoint_id}")
    parts.append(f"-> {reply.status if reply.status is not None else 'connection reset'}")
    if reply.error_code:
        parts.append(reply.error_code)
    elif reply.body and "status" in reply.body:
        parts.append(f"status={reply.body['status']}")
    if reply.fault:
        parts.append(f"[fault: {reply.fault}]")
    parts.append(f"({seconds * 1000:.1f} ms)")
    return " ".join(parts)

