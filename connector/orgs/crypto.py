"""Encryption of stored secrets (refresh tokens, per-org consumer secrets) with MultiFernet.

`QUOTAFLOW_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated, newest first: new
values are encrypted with the first, and any of them decrypts. Rotation: put a new key first,
keep the old ones, run `quotaflow orgs rotate-key` (every stored value re-encrypted with the
first key), then drop the old keys.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from connector.errors import ConfigError

KEY_VARIABLE = "QUOTAFLOW_ENCRYPTION_KEY"


class SecretUnreadable(ConfigError):
    """A stored secret that none of the configured keys decrypts."""


def parse_keys(raw: str | None) -> tuple[str, ...]:
    """The comma-separated Fernet keys; ConfigError naming the variable for a bad one."""
    keys = tuple(k.strip() for k in (raw or "").split(",") if k.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"{KEY_VARIABLE}: key {position} is not a Fernet key (32 url-safe base64 "
                "bytes); generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
    return keys


class SecretBox:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError(
                f"{KEY_VARIABLE} is not set; it encrypts the refresh tokens of connected orgs"
            )
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, secret: str) -> str:
        """The secret encrypted with the first key."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; SecretUnreadable when no configured key opens it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"a stored secret cannot be decrypted with any key of {KEY_VARIABLE}: a key "
                "was dropped before `quotaflow orgs rotate-key` re-encrypted it"
            ) from None

    def reseal(self, sealed: str) -> str:
        """The same secret encrypted with the first key (rotation)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"a stored secret cannot be decrypted with any key of {KEY_VARIABLE}"
            ) from None
