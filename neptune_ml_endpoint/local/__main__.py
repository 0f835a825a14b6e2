"""Command line: `neptune-ml-local <command>` (also `python -m neptune_ml_endpoint.local`), one subparser each."""

from __future__ import annotations

import argparse

from neptune_ml_endpoint.local import COMMAND
from neptune_ml_endpoint.local.api.cli import add_serve_command
from neptune_ml_endpoint.local.cloudformation.cli.cli import add_player_commands


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser; each command sets `func(args) -> int` as its default."""
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Run Neptune ML endpoints offline.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(subparsers)
    add_player_commands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
