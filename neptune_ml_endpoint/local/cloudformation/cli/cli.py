"""The `deploy`, `update` and `destroy` commands of `neptune-ml-local`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from neptune_ml_endpoint.local import COMMAND
from neptune_ml_endpoint.local.cloudformation.aws.polling import DEFAULT_POLL_SECONDS
from neptune_ml_endpoint.local.cloudformation.cli.synth import QUIET_JSII
from neptune_ml_endpoint.local.cloudformation.engine.state import DEFAULT_STATE_DIR

_COMMANDS = {
    "deploy": ("deploy the CDK app locally against the local Neptune ML API",
               ("Synthesize the CDK app and play CloudFormation's side of every Custom::NeptuneMlEndpoint: the "
                "bundled handler runs locally, the Neptune cluster is simulated by the local Neptune ML API "
                "(started in the background unless --api-url is given). A second deploy updates.")),
    "update": ("like deploy, but only when the app is already deployed",
               "Deploy the changed app over an existing local deployment (fails if there is none)."),
    "destroy": ("delete what deploy created and forget the local deployment",
                ("Delete every deployed resource (resources with DeletionPolicy Retain are kept), remove the "
                 "state, and stop the local Neptune ML API that deploy started.")),
}


def add_player_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register deploy, update and destroy on the CLI's subparsers."""
    for command, (summary, description) in _COMMANDS.items():
        parser = subparsers.add_parser(command, help=summary, description=description)
        parser.set_defaults(func=_run)
        parser.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to act on (default: all)")
        parser.add_argument("--api-url", help="use the local Neptune ML API at this address")
        parser.add_argument("--poll-seconds", type=_positive, default=DEFAULT_POLL_SECONDS,
                            help="run crhelper's polling rules this often instead of every minute "
                                 "(default %(default)s)")
        parser.add_argument("--function-timeout", type=_positive, default=None, metavar="SECONDS",
                            help="the handler's timeout instead of the function's Timeout")
        parser.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR),
                            help="where the deployment is remembered (default %(default)s)")
        unused = "accepted as cdk destroy takes it; destroy works from the state, so it changes nothing"
        parser.add_argument("--app", help=unused if command == "destroy" else (
            "the CDK app's command, or a synthesized cloud assembly folder (default: the app of ./cdk.json)"))
        parser.add_argument("-c", "--context", action="append", default=[], type=_pair, metavar="KEY=VALUE",
                            help=unused if command == "destroy" else "CDK context for synthesis, repeatable")
        if command == "destroy":
            continue
        parser.add_argument("--parameters", action="append", default=[], type=_parameter,
                            metavar="[STACK:]NAME=VALUE", help="a CloudFormation parameter's value, for every "
                            "stack that declares NAME or for STACK only; repeatable")


def _run(args: argparse.Namespace) -> int:
    try:
        import trustme  # noqa: F401 - the local extra (the HTTPS ResponseURLs), checked before anything changes

        from neptune_ml_endpoint.local.cloudformation.cli.commands import Player, PlayerOptions
    except ModuleNotFoundError as missing:
        print(f"❌  {COMMAND} deploy, update and destroy need the package {missing.name!r} of the package's local "
              "extra: pip install 'neptune-ml-endpoint[local]' (from a wheel: pip install '<wheel file>[local]')",
              file=sys.stderr)
        return 1
    sys.unraisablehook = _quiet_about_a_stopped_aws_cdk_runtime(sys.unraisablehook)
    for name, value in QUIET_JSII.items():  # before aws-cdk-lib starts its JavaScript runtime
        os.environ.setdefault(name, value)
    destroying = args.command == "destroy"
    player = Player(PlayerOptions(
        project_dir=Path.cwd(), state_dir=args.state_dir, app=None if destroying else args.app,
        context={} if destroying else dict(args.context), parameters=dict(getattr(args, "parameters", [])),
        stacks=tuple(args.stacks), api_url=args.api_url, poll_seconds=args.poll_seconds,
        function_timeout=args.function_timeout))
    try:
        if destroying:
            if args.app or args.context:
                print("destroy deletes what the state records, without the app: --app and -c change nothing")
            return player.destroy()
        return player.deploy(require_existing=args.command == "update")
    except KeyboardInterrupt:  # outside the requests, which handle Ctrl-C themselves and record every resource
        print("\nInterrupted while no resource request was under way; the state holds everything deployed.",
              file=sys.stderr)
        return 130


def _quiet_about_a_stopped_aws_cdk_runtime(
        default: Callable[[sys.UnraisableHookArgs], object]) -> Callable[[sys.UnraisableHookArgs], object]:
    """A Ctrl-C in a terminal also stops the JavaScript runtime aws-cdk-lib started to read the assembly; its
    stop at exit then finds the pipe closed. That is expected, not an error to print after the command's own
    messages; anything else goes to `default`."""

    def hook(unraisable: sys.UnraisableHookArgs) -> object:
        stopping = getattr(unraisable.object, "__qualname__", "") == "_NodeProcess.stop"
        if stopping and issubclass(unraisable.exc_type, OSError):
            return None
        return default(unraisable)

    return hook


def _parameter(text: str) -> tuple[str, str]:
    key, value = _pair(text)
    stack, separator, name = key.rpartition(":")
    if not name or (separator and not stack):
        raise argparse.ArgumentTypeError(f"{text!r} is not [STACK:]NAME=VALUE")
    return key, value


def _pair(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value
