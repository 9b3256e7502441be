"""`quotaflow serve`: the web app on Flask's development server (Procfile `web` uses gunicorn)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add `serve`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="run the web app (development server)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from webapp import create_app

    app = create_app()
    print(f"Quotaflow web app on http://{args.host}:{args.port}/healthz", flush=True)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0
