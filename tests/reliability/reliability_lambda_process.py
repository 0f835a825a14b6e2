"""The handler in processes of its own, as Lambda runs it: one execution environment per process.

    python reliability_lambda_process.py SECONDS < event.json
        Runs one invocation; prints {"calls": {operation: count}}.
    python reliability_lambda_process.py SECONDS --concurrent < events.json
        Imports the handler once, then forks one process per event (a list), all at once, each
        its own environment with its own module state; prints a list of {"calls": ...}.

Calls are the Neptune Data API requests the process sent, retries included, counted with
botocore's before-send event. The environment (addresses, settings) comes from the caller.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handler"))

import boto3
from handler_driver import HANDLER_DIR, LambdaContext

sys.path.insert(0, str(HANDLER_DIR))

import index

_calls: Counter[str] = Counter()


def _count_call(event_name: str, **_: Any) -> None:
    _calls[event_name.rsplit(".", 1)[-1]] += 1


def invoke(event: dict[str, Any], seconds: float) -> dict[str, Any]:
    """One invocation; the API calls it made."""
    _calls.clear()
    index.handler(event, LambdaContext(seconds))
    return {"calls": dict(_calls)}


def invoke_concurrently(events: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """Fork one process per event (this process has no threads, so forking is safe); gather results."""
    children: list[tuple[int, int]] = []
    for event in events:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            result: dict[str, Any] = {"calls": {}, "error": "the invocation raised; see stderr"}
            try:
                result = invoke(event, seconds)
            except Exception:
                traceback.print_exc()
                raise
            finally:  # the child always reports and ends here, never returning into the parent's code
                with os.fdopen(write_end, "w") as pipe:
                    json.dump(result, pipe)
                os._exit(0)
        os.close(write_end)
        children.append((pid, read_end))
    results = []
    for pid, read_end in children:
        with os.fdopen(read_end) as pipe:
            results.append(json.loads(pipe.read() or '{"error": "no result"}'))
        os.waitpid(pid, 0)
    return results


def main(argv: list[str]) -> int:
    seconds = float(argv[0])
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-send.neptunedata", _count_call)
    for service in ("neptunedata", "lambda", "events", "logs"):  # models loaded once, before any fork
        boto3.client(service, endpoint_url="http://127.0.0.1:9")
    loaded = json.load(sys.stdin)
    if "--concurrent" in argv:
        print(json.dumps(invoke_concurrently(loaded, seconds)))
    else:
        print(json.dumps(invoke(loaded, seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
