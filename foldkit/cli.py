"""The ``foldkit`` command: one entry point, one module per subcommand.

Each subcommand lives in ``foldkit/commands/<name>.py`` and provides
``add_parser(subparsers)`` (which sets ``func``) so this file stays thin.
Errors derived from :class:`foldkit.errors.FoldkitError` become one line on
stderr and exit code 2; Ctrl-C exits with 130 without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from foldkit import __version__
from foldkit.errors import FoldkitError

# Subcommand modules under foldkit.commands, in the order --help lists them.
COMMANDS = (
    "predict",
    "relax",
    "msa",
    "score",
    "score_set",
    "check",
    "info",
    "params",
    "train",
    "evaluate",
    "view",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="foldkit",
        description="Protein structure prediction (AlphaFold2-compatible), CASP-grade scoring and views.",
    )
    parser.add_argument("--version", action="version", version=f"foldkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"foldkit.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"foldkit.commands.{name}":
                continue  # subcommand not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except FoldkitError as exc:
        print(f"foldkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"foldkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
