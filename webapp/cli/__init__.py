"""The `quotaflow` command line: the composition root for every process.

Each sub-command lives in its own module with a `register(subparsers)` function that
adds its parser and sets `handler` (args -> exit status). Modules import their heavy
dependencies inside the handler, so `quotaflow calc` never loads Flask or SQLAlchemy.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Sub-command modules, in the order `quotaflow --help` lists them.
COMMAND_MODULES = (
    "webapp.cli.demo_cmd",
    "webapp.cli.serve_cmd",
    "webapp.cli.sync_cmd",
    "webapp.cli.clock_cmd",
    "webapp.cli.worker_cmd",
    "webapp.cli.db_cmd",
    "webapp.cli.orgs_cmd",
    "webapp.cli.calc_cmd",
    "webapp.cli.plans_cmd",
    "webapp.cli.adjustments_cmd",
    "webapp.cli.mappings_cmd",
    "webapp.cli.devorg_cmd",
)


class CliError(Exception):
    """A bad input or configuration: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="quotaflow", description="Incentive compensation for Salesforce."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `quotaflow` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from connector.errors import ConfigError

    try:
        status: int = args.handler(args)
    except (CliError, ConfigError) as exc:
        print(f"quotaflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`quotaflow sync --dry-run | head`): stop quietly.
        sys.stderr.close()
        return 141
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
