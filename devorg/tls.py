"""Key material kept in the data directory: a private CA, the HTTPS certificate it signs
for 127.0.0.1/localhost (plus any `--tls-name`), and the connected app's JWT signing key
and certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the generated PEM files."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    jwt_key: Path
    jwt_cert: Path


def ensure_key_material(data_dir: Path, extra_names: Sequence[str] = ()) -> TlsFiles:
    """Create the CA, server certificate and JWT key pair once; reuse them afterwards.

    `extra_names` are DNS names the server certificate must also carry; a certificate
    without one of them is issued again (with a new CA: the CA key is never kept).
    """
    files = TlsFiles(
        ca_cert=data_dir / "ca.pem",
        server_cert=data_dir / "server.pem",
        server_key=data_dir / "server-key.pem",
        jwt_key=data_dir / "jwt-key.pem",
        jwt_cert=data_dir / "jwt-cert.pem",
    )
    present = files.ca_cert.exists() and files.server_cert.exists() and files.server_key.exists()
    if not present or not set(extra_names) <= server_dns_names(files):
        _write_ca_and_server(files, extra_names)
    if not (files.jwt_key.exists() and files.jwt_cert.exists()):
        _write_jwt_pair(files)
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quotaflow devorg"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def server_dns_names(files: TlsFiles) -> set[str]:
    """The DNS names in the server certificate's subjectAltName."""
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName))


def _write_ca_and_server(files: TlsFiles, extra_names: Sequence[str]) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Quotaflow devorg local CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _server_cert(ca_key, ca_name, key, now, extra_names)
    _write_private(files.server_key, _pem_key(key))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))


def _server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
    extra_names: Sequence[str],
) -> x509.Certificate:
    names = ["localhost", *sorted(set(extra_names) - {"localhost"})]
    san = x509.SubjectAlternativeName(
        [
            *(x509.DNSName(n) for n in names),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _write_jwt_pair(files: TlsFiles) -> None:
    # The connected app's "digital certificate": clients sign JWT assertions with the key.
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("Quotaflow devorg connected app")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.jwt_key, _pem_key(key))
    files.jwt_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def jwt_public_key(files: TlsFiles) -> rsa.RSAPublicKey:
    """The public key of the connected app's certificate (verifies JWT assertions)."""
    cert = x509.load_pem_x509_certificate(files.jwt_cert.read_bytes())
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("JWT certificate must hold an RSA key")
    return key
