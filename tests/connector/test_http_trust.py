"""The gateway's HTTP session trusts exactly SF_CA_BUNDLE: the devorg's CA is accepted, another
CA is refused, REQUESTS_CA_BUNDLE does not widen or replace it, and the CA file is read once
per session, not once per connection (the devorg, like werkzeug, closes every connection)."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connector.salesforce.http import make_http_session
from tests.connector.conftest import DevorgClient


def _other_ca(path: Path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2040, 1, 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_trusts_only_the_bundle(
    devorg: DevorgClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{devorg.info.instance_url}/services/data"
    other = _other_ca(tmp_path / "other.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other)
    loads: list[str] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(str(args[0] if args else kwargs.get("cafile")))
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    session = make_http_session(devorg.info.ca_cert)
    for _ in range(3):
        assert session.get(url, timeout=30).status_code == 200
    assert loads == [devorg.info.ca_cert]
    with pytest.raises(requests.exceptions.SSLError):
        make_http_session(other).get(url, timeout=30)
