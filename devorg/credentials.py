"""The connected app and login credentials of one devorg, kept in `credentials.json`."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import asdict, dataclass
from pathlib import Path

from devorg.schema import id_suffix

INTEGRATION_USERNAME = "integration@quotaflow.devorg"
# The seeded System Administrator (demo and scaled seeds). Every seeded user signs in with the
# org's password; tests and benchmarks edit CRM data as this user, because the integration
# user may only edit the write-back fields its permission set grants.
ADMIN_USERNAME = "admin@quotaflow.devorg"


@dataclass(frozen=True)
class Credentials:
    """Secrets generated once per data directory."""

    org_id: str
    client_id: str
    client_secret: str
    username: str
    password: str
    security_token: str


def _token(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ensure_credentials(data_dir: Path) -> Credentials:
    """Load `credentials.json`, creating it with fresh secrets the first time."""
    path = data_dir / "credentials.json"
    if path.exists():
        return Credentials(**json.loads(path.read_text()))
    org15 = "00D" + _token(12).upper()
    creds = Credentials(
        # Like every Salesforce id, the 18-character form ends in the case checksum.
        org_id=org15 + id_suffix(org15),
        # Connected app consumer keys start with 3MVG9 in real orgs.
        client_id="3MVG9" + _token(80),
        client_secret=secrets.token_hex(32).upper(),
        username=INTEGRATION_USERNAME,
        password="Qf-" + _token(16),
        security_token=_token(24),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(creds), handle, indent=2)
    return creds
