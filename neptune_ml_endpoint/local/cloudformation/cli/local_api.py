"""The local Neptune ML API that stands in for the cluster: reach it, or start one in the background.

An API that `deploy` starts outlives the command; `destroy` stops it once it answers, on its instance
path, the random token and process id the state keeps (no /proc needed, so it works on macOS too).
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from neptune_ml_endpoint.local.api.server import INSTANCE_PATH
from neptune_ml_endpoint.local.cloudformation.engine.state import ApiProcess

HOST = "127.0.0.1"
START_SECONDS = 20.0
STOP_SECONDS = 5.0
MAX_LISTED = 1024
JOB_KINDS = ("data_processing", "model_training", "model_transform")
RUNNING = ("InProgress", "Stopping")
STOPPED, ALREADY_GONE, NOT_RECOGNISED = "stopped", "already gone", "not recognised"
_SERVE_MODULE = "neptune_ml_endpoint.local"
_LISTENING = re.compile(r"listening on (http://[^\s]+)")


class LocalApiError(RuntimeError):
    """The local Neptune ML API cannot be reached or started; the message says what to do."""


@functools.lru_cache(maxsize=8)
def _client(url: str) -> Any:
    """A neptunedata client of the API at url, made once (making one takes about a tenth of a second)."""
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name="us-east-1")
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5)
    return session.client("neptunedata", endpoint_url=url, config=config)


def _ask(url: str, ask: Callable[[Any], list[str]]) -> list[str]:
    """ask(neptunedata client of the API at url), sorted; LocalApiError when the API does not answer."""
    try:
        return sorted(ask(_client(url)))
    except (BotoCoreError, ClientError) as error:
        raise LocalApiError(f"The local Neptune ML API at {url} does not answer: {error}") from None


def endpoint_ids(url: str) -> list[str]:
    """The ids of every endpoint the API at url knows (ListMLEndpoints)."""
    return _ask(url, lambda client: [str(i) for i in client.list_ml_endpoints(maxItems=MAX_LISTED).get("ids", [])])


def running_jobs(url: str) -> list[str]:
    """The ids of the jobs the API at url still runs (InProgress or Stopping), every kind."""

    def running(client: Any) -> list[str]:
        return [str(job_id) for kind in JOB_KINDS
                for job_id in getattr(client, f"list_ml_{kind}_jobs")(maxItems=MAX_LISTED).get("ids", [])
                if getattr(client, f"get_ml_{kind}_job")(id=job_id).get("status") in RUNNING]

    return _ask(url, running)


def answers(url: str) -> bool:
    """True when an API at url answers ListMLEndpoints."""
    try:
        endpoint_ids(url)
    except LocalApiError:
        return False
    return True


def start_background_api(log_file: Path, *serve_options: str) -> ApiProcess:
    """Start `serve` (with serve_options) on a port the system picks, in its own session, logging to log_file,
    and wait until it answers at the address it logs."""
    token = secrets.token_hex(16)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a") as log:
        start = log.tell()
        process = subprocess.Popen(
            [sys.executable, "-m", _SERVE_MODULE, "serve", "--host", HOST, "--port", "0",
             "--instance-token", token, *serve_options],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + START_SECONDS
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalApiError(f"The local Neptune ML API stopped at start; see {log_file}")
            url = _listening_url(log_file, start)
            if url is not None and answers(url):
                return ApiProcess(url=url, pid=process.pid, log_file=str(log_file), token=token)
            time.sleep(0.2)
        raise LocalApiError(f"The local Neptune ML API did not answer within {START_SECONDS:g} s; see {log_file}")
    except BaseException:  # not started (Ctrl-C included): nothing would record its pid, so it goes now
        process.kill()
        process.wait()
        raise


def _listening_url(log_file: Path, start: int) -> str | None:
    """The address the API logged, after `start` in its log, once it listens."""
    with log_file.open("rb") as log:
        log.seek(start)
        found = _LISTENING.search(log.read().decode(errors="replace"))
    return found.group(1) if found else None


def stop_background_api(api: ApiProcess) -> str:
    """Stop an API this module started: STOPPED, ALREADY_GONE, or NOT_RECOGNISED when the process with its pid
    does not answer its instance token (another program, or an API it did not start)."""
    if not _alive(api.pid):
        return ALREADY_GONE
    if not is_our_server(api):
        return NOT_RECOGNISED
    os.kill(api.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        if not _alive(api.pid):
            return STOPPED
        time.sleep(0.1)
    os.kill(api.pid, signal.SIGKILL)
    time.sleep(0.1)
    return STOPPED if not _alive(api.pid) else NOT_RECOGNISED


def is_our_server(api: ApiProcess) -> bool:
    """True when the API at api.url answers api.token and api.pid on its instance path."""
    if not api.token:
        return False
    try:
        with urllib.request.urlopen(f"{api.url}{INSTANCE_PATH}", timeout=2) as answer:
            identity = json.loads(answer.read())
    except (OSError, ValueError):
        return False
    return bool(identity.get("token") == api.token and identity.get("pid") == api.pid)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
