"""Settings of one devorg process, parsed from `python -m devorg serve` flags."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATA_DIR = Path("instance/devorg")
DEFAULT_API_LIMIT = 100_000
# Salesforce's default session timeout is two hours.
DEFAULT_TOKEN_TTL_SECONDS = 7200
API_VERSION = "62.0"
CANVAS_URL_ENV = "QUOTAFLOW_CANVAS_URL"


@dataclass(frozen=True)
class DevorgConfig:
    """Everything a devorg process needs to start."""

    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 0
    seed: str = "demo"
    reps: int | None = None
    deals: int | None = None
    reseed: bool = False
    api_limit: int = DEFAULT_API_LIMIT
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    faults: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    # Where the Lightning host pages POST the Canvas signed request (None: not configured).
    canvas_url: str | None = None
    # Extra DNS names for the HTTPS certificate (a client that only talks to
    # login.salesforce.com reaches the devorg through a proxy that maps the name here).
    tls_names: tuple[str, ...] = ()
    # The connected app's callback URLs for the web-server flow (redirect_uri must equal one).
    callback_urls: tuple[str, ...] = ()


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `serve` flags (shared by `python -m devorg` and `quotaflow devorg`)."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--seed", choices=("demo", "empty"), default="demo")
    parser.add_argument("--reps", type=int, help="scaled seed: number of users")
    parser.add_argument("--deals", type=int, help="scaled seed: number of opportunities")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--reseed", action="store_true", help="wipe the org and seed again")
    parser.add_argument("--api-limit", type=int, default=DEFAULT_API_LIMIT)
    parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL_SECONDS)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--canvas-url",
        help=f"the Canvas app URL the /lightning pages frame (default ${CANVAS_URL_ENV})",
    )
    parser.add_argument(
        "--tls-name",
        action="append",
        default=[],
        metavar="DNS_NAME",
        help="an extra DNS name for the HTTPS certificate (repeatable)",
    )
    parser.add_argument(
        "--callback-url",
        action="append",
        default=[],
        metavar="URL",
        help="a callback URL of the connected app, for the OAuth web-server flow (repeatable)",
    )
    faults = parser.add_argument_group("fault injection (see POST /__devorg/faults)")
    faults.add_argument("--faults", help="a JSON object in the POST /__devorg/faults shape")
    faults.add_argument("--expire-sessions-every", type=float, metavar="SECONDS")
    faults.add_argument("--request-limit-calls", type=int, metavar="N")
    faults.add_argument("--unavailable-calls", type=int, metavar="N", help="503 burst")
    faults.add_argument("--latency-ms", type=int, metavar="MS")
    faults.add_argument("--latency-jitter-ms", type=int, metavar="MS")


def config_from_args(args: argparse.Namespace) -> DevorgConfig:
    """Build the config from parsed `serve` flags; ValueError on bad combinations."""
    if (args.reps is None) != (args.deals is None):
        raise ValueError("--reps and --deals go together")
    faults: dict[str, Any] = json.loads(args.faults) if args.faults else {}
    if not isinstance(faults, dict):
        raise ValueError("--faults must be a JSON object")
    if args.expire_sessions_every:
        faults["expire_sessions_every"] = args.expire_sessions_every
    if args.request_limit_calls:
        faults["request_limit_exceeded"] = {"calls": args.request_limit_calls}
    if args.unavailable_calls:
        faults["unavailable"] = {"calls": args.unavailable_calls}
    if args.latency_ms:
        faults["latency"] = {"ms": args.latency_ms, "jitter_ms": args.latency_jitter_ms or 0}
    return DevorgConfig(
        data_dir=Path(args.data_dir),
        host=args.host,
        port=args.port,
        seed=args.seed,
        reps=args.reps,
        deals=args.deals,
        reseed=args.reseed,
        api_limit=args.api_limit,
        token_ttl_seconds=args.token_ttl,
        faults=faults,
        verbose=args.verbose,
        canvas_url=canvas_url_from(getattr(args, "canvas_url", None)),
        tls_names=tuple(check_dns_name(n) for n in getattr(args, "tls_name", None) or ()),
        callback_urls=tuple(getattr(args, "callback_url", None) or ()),
    )


def check_dns_name(name: str) -> str:
    """`name` lower-cased if it is a plain DNS name (letters, digits, hyphens, dots)."""
    labels = name.lower().split(".")
    ok = len(name) <= 253 and all(
        0 < len(label) <= 63
        and label.replace("-", "").isalnum()
        and label.isascii()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )
    if not ok:
        raise ValueError(f"--tls-name must be a DNS name, got {name!r}")
    return name.lower()


def canvas_url_from(flag: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The Canvas app URL: the flag, else $QUOTAFLOW_CANVAS_URL; ValueError unless http(s)."""
    url = flag or (os.environ if env is None else env).get(CANVAS_URL_ENV) or None
    if url is not None:
        check_canvas_url(url)
    return url


def check_canvas_url(url: str) -> None:
    """ValueError unless `url` is an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"canvas URL must be an absolute http(s) URL, got {url!r}")
