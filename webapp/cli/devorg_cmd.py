"""`quotaflow devorg serve`: the local Salesforce emulator (devorg) on loopback HTTPS."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add `devorg serve`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "devorg", help="run the local Salesforce emulator"
    )
    commands = parser.add_subparsers(dest="devorg_command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve", help="serve the emulator; prints one JSON line with its URL and credentials"
    )
    # The same flags as `python -m devorg serve` (devorg.config.add_serve_arguments);
    # devorg is only imported when the command runs.
    serve.add_argument("--host", default="127.0.0.1", help="interface (default loopback)")
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    serve.add_argument("--seed", choices=("demo", "empty"), default="demo")
    serve.add_argument("--reps", type=int, help="scaled seed: number of users")
    serve.add_argument("--deals", type=int, help="scaled seed: number of opportunities")
    serve.add_argument("--data-dir", type=Path, default=Path("instance/devorg"))
    serve.add_argument("--reseed", action="store_true", help="wipe the org and seed again")
    serve.add_argument("--api-limit", type=int, default=100_000, help="daily API calls")
    serve.add_argument("--token-ttl", type=int, default=7200, help="session lifetime, seconds")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    serve.add_argument(
        "--canvas-url", help="Canvas app URL the /lightning pages frame ($QUOTAFLOW_CANVAS_URL)"
    )
    serve.add_argument(
        "--tls-name",
        action="append",
        default=[],
        metavar="DNS_NAME",
        help="an extra DNS name for the HTTPS certificate (repeatable)",
    )
    serve.add_argument(
        "--callback-url",
        action="append",
        default=[],
        metavar="URL",
        help="a callback URL of the connected app, for the OAuth web-server flow (repeatable)",
    )
    faults = serve.add_argument_group("fault injection (see POST /__devorg/faults)")
    faults.add_argument("--faults", help="a JSON object in the POST /__devorg/faults shape")
    faults.add_argument("--expire-sessions-every", type=float, metavar="SECONDS")
    faults.add_argument("--request-limit-calls", type=int, metavar="N")
    faults.add_argument("--unavailable-calls", type=int, metavar="N", help="503 burst")
    faults.add_argument("--latency-ms", type=int, metavar="MS")
    faults.add_argument("--latency-jitter-ms", type=int, metavar="MS")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from devorg.config import config_from_args
    from devorg.runtime import serve
    from webapp.cli import CliError

    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    return serve(config)
