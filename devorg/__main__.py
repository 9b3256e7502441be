"""`python -m devorg serve [...]`: the devorg without the quotaflow CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from devorg.config import add_serve_arguments, config_from_args


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `serve` flags and run the devorg until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m devorg")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(commands.add_parser("serve", help="run the emulator"))
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    from devorg.runtime import serve

    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
