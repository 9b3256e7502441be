"""Settings are read once from the environment; every error names the variable."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.settings import Settings, load_settings, sqlite_path


def test_defaults_match_design() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///instance/quotaflow.db"
    assert settings.sf_auth == "jwt"
    assert settings.sf_api_version == "62.0"
    assert settings.sync_interval == 60
    assert settings.frame_ancestors == ()


def test_every_variable_is_read() -> None:
    env = {
        "QUOTAFLOW_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "QUOTAFLOW_SECRET_KEY": "s3cret",
        "SF_LOGIN_URL": "https://login.salesforce.com",
        "SF_AUTH": "client_credentials",
        "SF_CLIENT_ID": "cid",
        "SF_CLIENT_SECRET": "csec",
        "SF_USERNAME": "int@example.com",
        "SF_PASSWORD": "pw",
        "SF_PRIVATE_KEY_FILE": "/keys/jwt.pem",
        "SF_CA_BUNDLE": "/certs/ca.pem",
        "SF_API_VERSION": "v61.0",
        "SF_CANVAS_SECRET": "canvas",
        "QUOTAFLOW_SYNC_INTERVAL": "15",
        "QUOTAFLOW_FRAME_ANCESTORS": "https://acme.lightning.force.com https://acme.my.salesforce.com",
    }
    s = load_settings(env)
    assert (s.database_url, s.secret_key, s.sf_login_url) == (
        "postgresql+psycopg://u@h/db",
        "s3cret",
        "https://login.salesforce.com",
    )
    assert (s.sf_auth, s.sf_client_id, s.sf_client_secret) == ("client_credentials", "cid", "csec")
    assert (s.sf_username, s.sf_password, s.sf_private_key_file) == (
        "int@example.com",
        "pw",
        "/keys/jwt.pem",
    )
    assert (s.sf_ca_bundle, s.sf_api_version, s.sf_canvas_secret) == (
        "/certs/ca.pem",
        "61.0",
        "canvas",
    )
    assert s.sync_interval == 15
    assert s.frame_ancestors == (
        "https://acme.lightning.force.com",
        "https://acme.my.salesforce.com",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SF_AUTH": "oauth"}, "SF_AUTH"),
        ({"QUOTAFLOW_SYNC_INTERVAL": "soon"}, "QUOTAFLOW_SYNC_INTERVAL"),
        ({"QUOTAFLOW_SYNC_INTERVAL": "0"}, "QUOTAFLOW_SYNC_INTERVAL"),
        ({"SF_API_VERSION": "latest"}, "SF_API_VERSION"),
        ({"QUOTAFLOW_BULK_THRESHOLD": "-1"}, "QUOTAFLOW_BULK_THRESHOLD"),
        ({"QUOTAFLOW_BULK_WRITE_THRESHOLD": "many"}, "QUOTAFLOW_BULK_WRITE_THRESHOLD"),
        ({"QUOTAFLOW_BULK_TIMEOUT": "0"}, "QUOTAFLOW_BULK_TIMEOUT"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_bulk_thresholds_reach_the_gateway_and_zero_turns_bulk_off() -> None:
    from connector.deps import bulk_options

    env = {
        "QUOTAFLOW_BULK_THRESHOLD": "0",
        "QUOTAFLOW_BULK_WRITE_THRESHOLD": "250",
        "QUOTAFLOW_BULK_TIMEOUT": "90",
    }
    options = bulk_options(load_settings(env))
    assert (options.query_threshold, options.ingest_threshold) == (0, 250)
    assert options.timeout_seconds == 90.0
    assert not options.use_query(10**9)
    assert (options.use_ingest(249), options.use_ingest(250)) == (False, True)
    defaults = bulk_options(load_settings({}))
    assert (defaults.query_threshold, defaults.ingest_threshold) == (50_000, 10_000)


def test_secret_key_required_outside_demo() -> None:
    with pytest.raises(ConfigError, match="QUOTAFLOW_SECRET_KEY"):
        Settings().require_secret_key()
    assert Settings(demo_mode=True).require_secret_key()
    assert Settings(secret_key="k" * 32).require_secret_key() == "k" * 32


def test_settings_are_frozen() -> None:
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.database_url = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///instance/quotaflow.db", "instance/quotaflow.db"),
        ("sqlite:////tmp/q.db", "/tmp/q.db"),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://h/db", None),
    ],
)
def test_sqlite_path(url: str, path: str | None) -> None:
    result = sqlite_path(url)
    assert (str(result) if result else None) == path
