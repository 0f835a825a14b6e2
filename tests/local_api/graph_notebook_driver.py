"""Runs inside graph-notebook's environment (.venv/graph-notebook): AWS's notebook client, unchanged.

The tests (graph_notebook_support.py) start this script and send it one JSON object a line:
  {"op": "connect", "host", "port", "ssl", "ssl_verify", "iam", "region"}
      builds graph_notebook.neptune.client.Client with ClientBuilder, as the Graph magic does
      for a Neptune host (with_iam(botocore's session) when "iam": SigV4-signed requests);
  {"op": "call", "method", "args", "kwargs"}
      calls that Client method and answers the HTTP exchange: the request as the client sent it
      (method, url, headers, body) and the response (status, JSON body);
  {"op": "magic", "line", "cell"}
      runs `%neptune_ml <line>` as Graph.neptune_ml does: graph-notebook's own argument parser,
      then neptune_ml_magic_handler with the client and an ipywidgets Output; answers what it
      returned, what it printed, and the exception it raised (requests' HTTPError included).
Each answer is one JSON line on the standard output; what graph-notebook prints is captured.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from typing import Any

import botocore.session
import graph_notebook
import requests
from graph_notebook.magics.ml import generate_neptune_ml_parser, neptune_ml_magic_handler
from graph_notebook.neptune import client as client_module
from graph_notebook.neptune.client import Client, ClientBuilder
from ipywidgets import widgets

_client: Client | None = None


def connect(host: str, port: int, ssl: bool, ssl_verify: bool | str, iam: bool, region: str) -> dict[str, Any]:
    global _client
    if _client is not None:
        _client.close()
    builder = (ClientBuilder().with_host(host).with_port(port).with_region(region)
               .with_tls(ssl).with_ssl_verify(ssl_verify).with_neptune_service("neptune-db"))
    if iam:
        builder = builder.with_iam(botocore.session.get_session())
    _client = builder.build()
    return {"iam_enabled": _client.iam_enabled}


def exchange(response: requests.Response) -> dict[str, Any]:
    request = response.request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return {"status": response.status_code, "body": answer, "text": response.text,
            "request": {"method": request.method, "url": request.url, "headers": dict(request.headers),
                        "body": body}}


def failure(error: BaseException) -> dict[str, Any]:
    details: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, requests.HTTPError) and error.response is not None:
        details["exchange"] = exchange(error.response)
    elif not isinstance(error, (ValueError, SystemExit)):
        details["traceback"] = traceback.format_exc()
    return details


def call(method: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    assert _client is not None, "connect first"
    try:
        return {"exchange": exchange(getattr(_client, method)(*args, **kwargs))}
    except Exception as error:  # noqa: BLE001 - the test reads what the client raised
        return {"exception": failure(error)}


def magic(line: str, cell: str) -> dict[str, Any]:
    """What Graph.neptune_ml does with `%neptune_ml <line>` (its decorators only print and store)."""
    assert _client is not None, "connect first"
    answer: dict[str, Any] = {}
    try:
        args = generate_neptune_ml_parser().parse_args(line.split())
        result = neptune_ml_magic_handler(args, _client, widgets.Output(), cell)
        answer["result"] = result
        answer["result_type"] = type(result).__name__
    except BaseException as error:  # noqa: BLE001 - argparse exits; HTTPError; anything else
        answer["exception"] = failure(error)
    return answer


def main() -> None:
    out = sys.stdout
    out.write(json.dumps({"ready": True, "version": graph_notebook.__version__,
                          "client_module": client_module.__file__}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            op = request.pop("op")
            if op == "connect":
                answer = connect(**request)
            elif op == "call":
                answer = call(request["method"], request.get("args", []), request.get("kwargs", {}))
            elif op == "magic":
                answer = magic(request["line"], request.get("cell", ""))
            else:
                answer = {"exception": {"type": "UnknownOp", "message": op}}
        answer["printed"] = printed.getvalue()
        out.write(json.dumps(answer, default=repr) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
