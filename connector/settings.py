"""Settings: the environment read once into a frozen object that is passed around."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from connector.errors import ConfigError
from connector.orgs.crypto import parse_keys
from connector.salesforce.origins import https_origin

AuthFlow = Literal["jwt", "password", "client_credentials"]
AUTH_FLOWS: tuple[AuthFlow, ...] = ("jwt", "password", "client_credentials")
DEFAULT_DATABASE_URL = "sqlite:///instance/quotaflow.db"
DEFAULT_API_VERSION = "62.0"
DEFAULT_SYNC_INTERVAL = 60
DEFAULT_BULK_THRESHOLD = 50_000
DEFAULT_BULK_WRITE_THRESHOLD = 10_000
DEFAULT_BULK_TIMEOUT = 1800
# An HMAC key shorter than this is guessable offline from one signed session token.
MIN_SECRET_KEY = 32


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable `load_settings` reads, as the documentation lists it."""

    name: str
    meaning: str
    default: str


# Every variable `load_settings` reads (tests/test_docs.py checks the two agree); the docs'
# settings reference is generated from this table.
VARIABLES: tuple[Variable, ...] = (
    Variable(
        "QUOTAFLOW_DATABASE_URL",
        "SQLAlchemy URL of the store (`sqlite:///...` or `postgresql+psycopg://...`)",
        f"`{DEFAULT_DATABASE_URL}`",
    ),
    Variable(
        "QUOTAFLOW_SECRET_KEY",
        "signs embedded sessions and CSRF tokens; at least 32 characters",
        "generated per instance by `quotaflow demo`; required otherwise",
    ),
    Variable(
        "SF_LOGIN_URL",
        "OAuth token endpoint host: `https://login.salesforce.com`, "
        "`https://test.salesforce.com` or your My Domain",
        "none (needed to sync)",
    ),
    Variable("SF_AUTH", "OAuth flow: `jwt`, `password` or `client_credentials`", "`jwt`"),
    Variable("SF_CLIENT_ID", "the connected app's consumer key (every flow)", "none"),
    Variable(
        "SF_CLIENT_SECRET",
        "the connected app's consumer secret (`password`, `client_credentials`)",
        "none",
    ),
    Variable("SF_USERNAME", "the integration user's username (`jwt`, `password`)", "none"),
    Variable(
        "SF_PASSWORD",
        "the integration user's password, with the security token appended if the org asks "
        "for one (`password`)",
        "none",
    ),
    Variable(
        "SF_PRIVATE_KEY_FILE", "PEM file of the key that signs the JWT assertion (`jwt`)", "none"
    ),
    Variable(
        "SF_CA_BUNDLE",
        "CA file to trust for Salesforce's HTTPS (the devorg's self-signed CA)",
        "the system store",
    ),
    Variable("SF_API_VERSION", "REST API version", f"`{DEFAULT_API_VERSION}`"),
    Variable(
        "SF_CANVAS_SECRET",
        "the connected app's consumer secret, which signs Canvas requests",
        "none (needed by the web app)",
    ),
    Variable(
        "SF_ORG_HOSTS",
        "comma-separated `https://` origins of the org that may answer the identity check of "
        "a Canvas user's token, besides the instance the integration login reports "
        "(docs/security-identity.md)",
        "none (only the learned instance)",
    ),
    Variable(
        "QUOTAFLOW_ENCRYPTION_KEY",
        "comma-separated Fernet keys, newest first, that encrypt connected orgs' refresh "
        "tokens (rotation: docs/orgs.md)",
        "none (needed to connect orgs at `/connect`)",
    ),
    Variable(
        "QUOTAFLOW_PUBLIC_URL",
        "the web app's own https URL as browsers reach it; `/connect`'s callback is "
        "`<URL>/connect/callback`, which the connected app must list",
        "none (needed to connect orgs at `/connect`)",
    ),
    Variable(
        "QUOTAFLOW_CONNECT_LOGIN_URLS",
        "comma-separated https origins `/connect` may also send admins to, besides "
        "production, sandbox and `*.my.salesforce.com` (a devorg)",
        "none",
    ),
    Variable(
        "QUOTAFLOW_SYNC_INTERVAL",
        "seconds between the clock's incremental syncs",
        f"`{DEFAULT_SYNC_INTERVAL}`",
    ),
    Variable(
        "QUOTAFLOW_BULK_THRESHOLD",
        "rows of one object a pull expects (the first REST page's `totalSize`) at or above "
        "which it reads them through a Bulk API 2.0 query job; `0` never does "
        "(docs/bulk-api.md)",
        f"`{DEFAULT_BULK_THRESHOLD}`",
    ),
    Variable(
        "QUOTAFLOW_BULK_WRITE_THRESHOLD",
        "records of one object a write-back sends at or above which it writes them through a "
        "Bulk API 2.0 ingest job; `0` never does",
        f"`{DEFAULT_BULK_WRITE_THRESHOLD}`",
    ),
    Variable(
        "QUOTAFLOW_BULK_TIMEOUT",
        "seconds a Bulk API 2.0 job may stay queued or in progress before it is aborted "
        "(the pull then reads through REST; the write-back reports what is left)",
        f"`{DEFAULT_BULK_TIMEOUT}`",
    ),
    Variable(
        "QUOTAFLOW_FRAME_ANCESTORS",
        "space-separated hosts allowed to frame the web app (Content-Security-Policy "
        "`frame-ancestors`)",
        "Salesforce's Lightning, My Domain and Visualforce hosts",
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, from the variables in `VARIABLES`."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    sf_login_url: str | None = None
    sf_auth: AuthFlow = "jwt"
    sf_client_id: str | None = None
    sf_client_secret: str | None = None
    sf_username: str | None = None
    sf_password: str | None = None
    sf_private_key_file: str | None = None
    sf_ca_bundle: str | None = None
    sf_api_version: str = DEFAULT_API_VERSION
    sf_canvas_secret: str | None = None
    # The org's own https origins, besides the instance the integration login reports.
    sf_org_hosts: tuple[str, ...] = ()
    sync_interval: int = DEFAULT_SYNC_INTERVAL
    encryption_keys: tuple[str, ...] = ()
    public_url: str | None = None
    connect_login_urls: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ()
    bulk_threshold: int = DEFAULT_BULK_THRESHOLD
    bulk_write_threshold: int = DEFAULT_BULK_WRITE_THRESHOLD
    bulk_timeout: int = DEFAULT_BULK_TIMEOUT
    demo_mode: bool = False

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some values replaced (tests and the demo build their own)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def require_secret_key(self) -> str:
        """The signing key (at least 32 characters); generated per instance in demo mode,
        required otherwise."""
        if self.secret_key:
            if len(self.secret_key) < MIN_SECRET_KEY:
                raise ConfigError(
                    f"QUOTAFLOW_SECRET_KEY: must be at least {MIN_SECRET_KEY} characters, got "
                    f"{len(self.secret_key)}; generate one with: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'"
                )
            return self.secret_key
        if self.demo_mode:
            return secrets.token_urlsafe(32)
        raise ConfigError("QUOTAFLOW_SECRET_KEY is not set; it signs sessions and tokens")


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than 0, got {value}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _optional(env, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name}: expected a whole number of rows (0 turns it off), got {raw!r}")
    return int(raw)


def _auth_flow(env: Mapping[str, str]) -> AuthFlow:
    raw = (_optional(env, "SF_AUTH") or "jwt").lower()
    for flow in AUTH_FLOWS:
        if raw == flow:
            return flow
    raise ConfigError(f"SF_AUTH: expected one of {', '.join(AUTH_FLOWS)}, got {raw!r}")


def _api_version(env: Mapping[str, str]) -> str:
    raw = _optional(env, "SF_API_VERSION") or DEFAULT_API_VERSION
    raw = raw.lstrip("vV")
    major, dot, minor = raw.partition(".")
    if not (major.isdigit() and dot and minor.isdigit()):
        raise ConfigError(f"SF_API_VERSION: expected a version like 62.0, got {raw!r}")
    return raw


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    found: list[str] = []
    for entry in (_optional(env, name) or "").split(","):
        if not entry.strip():
            continue
        origin = https_origin(entry.strip())
        if origin is None:
            raise ConfigError(
                f"{name}: expected comma-separated https origins such as "
                f"https://acme.my.salesforce.com, got {entry.strip()!r}"
            )
        found.append(origin)
    return tuple(dict.fromkeys(found))


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = _optional(env, "QUOTAFLOW_PUBLIC_URL")
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"QUOTAFLOW_PUBLIC_URL: expected the app's URL such as https://quotaflow.example.com, "
            f"got {raw!r}"
        )
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment once; every error names the variable."""
    env = os.environ if env is None else env
    ancestors = tuple((_optional(env, "QUOTAFLOW_FRAME_ANCESTORS") or "").split())
    return Settings(
        database_url=_optional(env, "QUOTAFLOW_DATABASE_URL") or DEFAULT_DATABASE_URL,
        secret_key=_optional(env, "QUOTAFLOW_SECRET_KEY"),
        sf_login_url=_optional(env, "SF_LOGIN_URL"),
        sf_auth=_auth_flow(env),
        sf_client_id=_optional(env, "SF_CLIENT_ID"),
        sf_client_secret=_optional(env, "SF_CLIENT_SECRET"),
        sf_username=_optional(env, "SF_USERNAME"),
        sf_password=_optional(env, "SF_PASSWORD"),
        sf_private_key_file=_optional(env, "SF_PRIVATE_KEY_FILE"),
        sf_ca_bundle=_optional(env, "SF_CA_BUNDLE"),
        sf_api_version=_api_version(env),
        sf_canvas_secret=_optional(env, "SF_CANVAS_SECRET"),
        sf_org_hosts=_origins(env, "SF_ORG_HOSTS"),
        encryption_keys=parse_keys(_optional(env, "QUOTAFLOW_ENCRYPTION_KEY")),
        public_url=_public_url(env),
        connect_login_urls=_origins(env, "QUOTAFLOW_CONNECT_LOGIN_URLS"),
        sync_interval=_positive_int(env, "QUOTAFLOW_SYNC_INTERVAL", DEFAULT_SYNC_INTERVAL),
        frame_ancestors=ancestors,
        bulk_threshold=_count(env, "QUOTAFLOW_BULK_THRESHOLD", DEFAULT_BULK_THRESHOLD),
        bulk_write_threshold=_count(
            env, "QUOTAFLOW_BULK_WRITE_THRESHOLD", DEFAULT_BULK_WRITE_THRESHOLD
        ),
        bulk_timeout=_positive_int(env, "QUOTAFLOW_BULK_TIMEOUT", DEFAULT_BULK_TIMEOUT),
    )


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a file-based SQLite URL (to create its folder), else None."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    path = database_url[len(prefix) :].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)
