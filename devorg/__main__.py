"""`python -m devorg serve [...]`: the devorg without the quotaflow CLI; `serve-many --count N`
runs N orgs in one process (data directories DATA_DIR/org0 ... org<N-1>)."""

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
    many = commands.add_parser("serve-many", help="run N orgs in one process, one port each")
    add_serve_arguments(many)
    many.add_argument("--count", type=int, required=True, help="number of orgs")
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.command == "serve-many":
        from devorg.multi import org_configs, serve_many

        try:
            configs = org_configs(config, root=config.data_dir, count=args.count)
        except ValueError as exc:
            parser.error(str(exc))
        return serve_many(configs)
    from devorg.runtime import serve

    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
