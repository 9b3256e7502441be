"""Stored secrets: MultiFernet with rotation; unreadable secrets and bad keys named clearly."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from connector.errors import ConfigError
from connector.orgs.crypto import SecretBox, SecretUnreadable, parse_keys
from connector.settings import load_settings


def test_rotation_keeps_secrets_readable_then_drops_the_old_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox((old,)).seal("5Aep861-refresh")
    both = SecretBox((new, old))
    assert both.open(sealed) == "5Aep861-refresh"
    resealed = both.reseal(sealed)
    assert SecretBox((new,)).open(resealed) == "5Aep861-refresh"
    with pytest.raises(SecretUnreadable, match="rotate-key"):
        SecretBox((new,)).open(sealed)


def test_keys_from_the_environment() -> None:
    a, b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = load_settings({"QUOTAFLOW_ENCRYPTION_KEY": f" {a}, {b} ,"})
    assert settings.encryption_keys == (a, b)
    with pytest.raises(ConfigError, match="QUOTAFLOW_ENCRYPTION_KEY: key 2 is not a Fernet key"):
        parse_keys(f"{a},not-a-key")
    with pytest.raises(ConfigError, match="QUOTAFLOW_ENCRYPTION_KEY is not set"):
        SecretBox(())


def test_tampered_secret_is_unreadable() -> None:
    key = Fernet.generate_key().decode()
    sealed = SecretBox((key,)).seal("token")
    with pytest.raises(SecretUnreadable):
        SecretBox((key,)).open(sealed[:-4] + "AAAA")
