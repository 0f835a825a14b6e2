"""The `serve` command: run the local Neptune ML API in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import ssl
import threading
from pathlib import Path
from types import FrameType

from neptune_ml_endpoint.local.api.endpoints import Timings
from neptune_ml_endpoint.local.api.faults import FAULT_KINDS, Fault
from neptune_ml_endpoint.local.api.routes import OPERATIONS
from neptune_ml_endpoint.local.api.service import LocalNeptuneMlApi

LOGGER = logging.getLogger("neptune_ml_endpoint.local.api")
DEFAULT_PORT = 8182
TRANSITIONS = {
    "creating": "Creating -> InService",
    "updating": "Updating -> InService",
    "deleting": "Deleting -> gone",
    "processing": "data processing job InProgress -> Completed",
    "training": "model training job InProgress -> Completed",
    "transform": "model transform job InProgress -> Completed",
    "stopping": "cancelled job Stopping -> Stopped",
}
"""Timings field -> the transition its --<field>-seconds option times."""


def add_serve_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve` on the CLI's subparsers."""
    defaults = Timings()
    parser = subparsers.add_parser(
        "serve",
        help="run the local Neptune ML API",
        description=(
            "Serve the Neptune Data API's ML endpoint and ML job operations locally. Point boto3 at it "
            "with boto3.client('neptunedata', endpoint_url='http://HOST:PORT'). A training or transform "
            "job id starting with 'failing-' makes an endpoint end Failed; a job whose id, or a part of "
            "one of whose S3 locations, starts with 'failing-' ends Failed."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 for any (default %(default)s)")
    parser.add_argument("--region", default="us-east-1", help="region in ARNs (default %(default)s)")
    parser.add_argument("--account", default="123456789012", help="account in ARNs (default %(default)s)")
    for timing, transition in TRANSITIONS.items():
        parser.add_argument(f"--{timing}-seconds", type=_seconds, default=getattr(defaults, timing),
                            help=f"{transition} (default %(default)s)")
    parser.add_argument("--throttle-rps", type=_positive, default=None,
                        help="answer 429 TooManyRequestsException above this many requests per second")
    parser.add_argument(
        "--fault", action="append", default=[], type=_fault, metavar="KIND[,name=value...]",
        help=(f"inject a fault, repeatable; KIND is one of {', '.join(FAULT_KINDS)}; options "
              f"operation= ({', '.join(OPERATIONS)}; default any), count= (default 1, or all), "
              "skip= (default 0), delay= (seconds, for slow). Example: throttle,operation=GetMLEndpoint,count=2"),
    )
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert (if not in the same file)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--instance-token", default=None,
                        help="answer GET /local-api/instance with this token and the process id "
                             "(how deploy recognises the API it started, on any operating system)")
    parser.add_argument("--exit-when-missing", type=Path, default=None, metavar="PATH",
                        help="stop once PATH no longer exists (deploy gives its state folder, so that an API "
                             "whose state was deleted does not run on unseen)")
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    api = LocalNeptuneMlApi(
        timings=Timings(**{timing: getattr(args, f"{timing}_seconds") for timing in TRANSITIONS}),
        host=args.host, port=args.port, region=args.region, account=args.account,
        ssl_context=_tls_context(args.tls_cert, args.tls_key), instance_token=args.instance_token,
    )
    for fault in args.fault:
        api.add_fault(fault)
    api.set_rate_limit(args.throttle_rps)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Only flags: logging here could re-enter a stream write the main thread is in the middle of.
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with api:
            LOGGER.info("Local Neptune ML API listening on %s (%s)", api.url, _timings_text(api.timings))
            while not stop.wait(0.5):
                if args.exit_when_missing is not None and not args.exit_when_missing.exists():
                    LOGGER.info("%s is gone, stopping", args.exit_when_missing)
                    break
            else:
                LOGGER.info("Received %s, stopping", signal.Signals(received[0]).name)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    LOGGER.info("Stopped after %d requests", len(api.requests()))
    return 0


def _timings_text(timings: Timings) -> str:
    """e.g. "creating 3.0s, updating 2.0s, ..., stopping 1.0s"."""
    return ", ".join(f"{item.name} {getattr(timings, item.name)}s" for item in dataclasses.fields(timings))


def _tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("seconds cannot be negative")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _fault(text: str) -> Fault:
    try:
        return Fault.parse(text)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
