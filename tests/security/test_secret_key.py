"""Issue 13 item 10: a guessable session key is refused, and the Canvas algorithm is exact.

Replays the report: `QUOTAFLOW_SECRET_KEY=a` was accepted (anyone could brute-force it from
one session token and mint an admin session), and `algorithm: "hmacsha256"` passed a
case-insensitive comparison.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.settings import MIN_SECRET_KEY, Settings, load_settings
from webapp import create_app
from webapp.auth.canvas import CanvasRefused, verify_signed_request

SECRET = "canvas-consumer-secret"
USER = "0055g000000000DAAQ"


@pytest.mark.parametrize("key", ["a", "k" * (MIN_SECRET_KEY - 1), "short-but-not-empty"])
def test_a_short_secret_key_is_refused_in_one_line(key: str, tmp_path: Path) -> None:
    settings = load_settings(
        {"QUOTAFLOW_SECRET_KEY": key, "QUOTAFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/q.db"}
    )
    with pytest.raises(ConfigError) as caught:
        create_app(settings)
    message = str(caught.value)
    assert message.startswith("QUOTAFLOW_SECRET_KEY: must be at least 32 characters")
    # One line, and the key itself is not echoed (only its length).
    assert "\n" not in message and f"got {len(key)};" in message
    assert len(key) < 4 or key not in message


def test_a_long_enough_key_and_the_demo_key_are_accepted() -> None:
    assert Settings(secret_key="k" * MIN_SECRET_KEY).require_secret_key() == "k" * MIN_SECRET_KEY
    # The demo needs no setup: it generates a key per instance, long enough.
    generated = Settings(demo_mode=True).require_secret_key()
    assert len(generated) >= MIN_SECRET_KEY
    assert Settings(demo_mode=True).require_secret_key() != generated


def test_serve_refuses_a_short_key_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUOTAFLOW_", "SF_"))} | {
        "QUOTAFLOW_SECRET_KEY": "a",
        "QUOTAFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/q.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "quotaflow serve: error: QUOTAFLOW_SECRET_KEY: must be at least 32 characters, got 1; "
        "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    ]


def _signed(doc: Any) -> str:
    encoded = base64.b64encode(json.dumps(doc).encode()).decode()
    digest = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode() + "." + encoded


def _envelope(algorithm: object) -> dict[str, Any]:
    return {
        "algorithm": algorithm,
        "userId": USER,
        "client": {"oauthToken": "t", "instanceUrl": "https://acme.my.salesforce.com"},
        "context": {
            "user": {"userId": USER},
            "organization": {"organizationId": "00D5g000000AbCdEAK"},
        },
    }


@pytest.mark.parametrize(
    "algorithm",
    [
        "hmacsha256",
        "HmacSHA256",
        "HMACSHA256 ",
        " HMACSHA256",
        "HMACSHA256\x00",
        "HMAC-SHA256",
        "ＨMACSHA256",
        ["HMACSHA256"],
        None,
    ],
)
def test_the_canvas_algorithm_must_be_exactly_hmacsha256(algorithm: object) -> None:
    with pytest.raises(CanvasRefused, match="algorithm must be HMACSHA256"):
        verify_signed_request(_signed(_envelope(algorithm)), secret=SECRET)


def test_the_exact_algorithm_is_accepted() -> None:
    verified = verify_signed_request(_signed(_envelope("HMACSHA256")), secret=SECRET)
    assert verified.user_id == USER
