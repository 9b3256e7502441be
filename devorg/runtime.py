"""Start a devorg: prepare the data directory (keys, credentials, database, seed), then
serve HTTPS until SIGTERM/SIGINT, announcing itself with one JSON line on stdout."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import ssl
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from devorg import auth, oauth_authorize, records, schema, store
from devorg.config import DevorgConfig
from devorg.credentials import Credentials, ensure_credentials
from devorg.locators import Locators
from devorg.state import ApiUsage, Org
from devorg.tls import ensure_key_material


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _seeded(db_path: Path) -> bool:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_devorg_meta'"
        ).fetchone()
        return row is not None and bool(
            conn.execute("SELECT 1 FROM _devorg_meta WHERE key = 'seeded'").fetchone()
        )
    finally:
        conn.close()


def _seed(conn: Any, config: DevorgConfig) -> dict[str, Any]:
    """Seed a new org; returns {"seconds", "counts"} for `/__devorg/stats`."""
    now_ms = int(time.time() * 1000)
    if config.seed == "empty":
        return {"seconds": 0.0, "counts": {}}
    from devorg import seed

    if config.reps is not None and config.deals is not None:
        summary = seed.seed_scaled(conn, reps=config.reps, deals=config.deals, now_ms=now_ms)
    else:
        summary = seed.seed_demo(conn, now_ms=now_ms)
    return {"seconds": round(summary.seconds, 3), "counts": dict(summary.counts)}


def _ensure_login_user(db: store.Database, creds: Credentials) -> None:
    """The integration user the credentials log in as (seeds create it; an empty org needs it)."""
    with db.write() as conn:
        found = conn.execute(
            'SELECT 1 FROM "User" WHERE lower(Username) = lower(?)', (creds.username,)
        ).fetchone()
        if found:
            return
        ctx = records.WriteContext(stamp=db.stamp(), user_id=None, faults=None)
        profile_id = records.create(
            conn, schema.OBJECTS["Profile"], {"Name": "Integration User"}, ctx
        )
        records.create(
            conn,
            schema.OBJECTS["User"],
            {
                "Username": creds.username,
                "FirstName": "Quotaflow",
                "LastName": "Integration",
                "Email": creds.username,
                "IsActive": True,
                "ProfileId": profile_id,
                "TimeZoneSidKey": "America/Los_Angeles",
            },
            ctx,
        )


# The org's one Organization record (its Id is the org id of the credentials). A new org is a
# Developer Edition production org with the standard fiscal year (January, named by the year
# it ends in); `POST /__devorg/organization` changes the settings as Setup would.
ORGANIZATION_DEFAULTS: dict[str, Any] = {
    "Name": "Quotaflow Devorg",
    "Division": None,
    "Country": "United States",
    "DefaultLocaleSidKey": "en_US",
    "LanguageLocaleKey": "en_US",
    "TimeZoneSidKey": "America/Los_Angeles",
    "FiscalYearStartMonth": 1,
    "UsesStartDateAsFiscalYearName": 0,
    "IsSandbox": 0,
    "OrganizationType": "Developer Edition",
    "InstanceName": "USA1",
    "NamespacePrefix": None,
    "TrialExpirationDate": None,
    "DefaultOpportunityAccess": "None",
}


def _ensure_organization(db: store.Database, creds: Credentials) -> None:
    """Insert the Organization record if the database has none."""
    with db.write() as conn:
        if conn.execute('SELECT 1 FROM "Organization"').fetchone():
            return
        stamp = db.stamp()
        row = {"Id": creds.org_id, **ORGANIZATION_DEFAULTS}
        row |= dict.fromkeys(("CreatedDate", "LastModifiedDate", "SystemModstamp"), stamp)
        first = conn.execute('SELECT Id FROM "User" ORDER BY Id LIMIT 1').fetchone()
        row |= dict.fromkeys(("CreatedById", "LastModifiedById"), first[0] if first else None)
        cols = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" * len(row))
        conn.execute(f'INSERT INTO "Organization" ({cols}) VALUES ({marks})', list(row.values()))


def open_org(config: DevorgConfig) -> Org:
    """Prepare the data directory and return the org state (seeding a new directory)."""
    data_dir = config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "devorg.db"
    # A database without the "seeded" mark was interrupted mid-seed: start it over.
    if config.reseed or (db_path.exists() and not _seeded(db_path)):
        _remove_db(db_path)
    fresh = not db_path.exists()
    tls = ensure_key_material(data_dir, config.tls_names)
    creds = ensure_credentials(data_dir)
    conn = store.connect(db_path)
    try:
        schema.create_tables(conn)
        auth.create_session_table(conn)
        oauth_authorize.create_tables(conn)
        seeded = _seed(conn, config) if fresh else None
        if fresh:
            conn.execute("CREATE TABLE _devorg_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT INTO _devorg_meta VALUES ('seeded', ?)", (json.dumps(seeded),))
    except BaseException:
        conn.close()
        if fresh:
            _remove_db(db_path)
        raise
    conn.close()
    db = store.Database(db_path)
    _ensure_login_user(db, creds)
    _ensure_organization(db, creds)
    org = Org(
        config=config,
        db=db,
        creds=creds,
        tls=tls,
        locators=Locators(data_dir / "locators.db"),
        usage=ApiUsage(config.api_limit),
        seeded=seeded,
    )
    org.faults.apply(config.faults)
    if config.callback_urls:
        oauth_authorize.set_callback_urls(org, list(config.callback_urls))
    return org


class _Handler(WSGIRequestHandler):
    def setup(self) -> None:
        """Set TCP_NODELAY on the accepted connection."""
        super().setup()
        # Headers and body leave in separate writes: without NODELAY, Nagle's algorithm and
        # the client's delayed ACK stall every keep-alive response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _QuietHandler(_Handler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing (pass --verbose for werkzeug's access log)."""
        return None


def announcement(org: Org) -> dict[str, str]:
    """The JSON line printed once the server listens."""
    return {
        "instance_url": org.base_url,
        "login_url": org.base_url,
        "ca_cert": str(org.tls.ca_cert.resolve()),
        "client_id": org.creds.client_id,
        "client_secret": org.creds.client_secret,
        "username": org.creds.username,
        "password": org.creds.password,
        "security_token": org.creds.security_token,
        # Canvas signed requests are signed with the connected app's consumer secret.
        "canvas_secret": org.creds.client_secret,
        "jwt_key_file": str(org.tls.jwt_key.resolve()),
        "org_id": org.creds.org_id,
        "data_dir": str(org.config.data_dir.resolve()),
    }


def build_server(org: Org) -> BaseWSGIServer:
    """A threaded HTTPS server bound as configured (port 0: a free port)."""
    from devorg.server import create_app

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(org.tls.server_cert, org.tls.server_key)
    handler = _Handler if org.config.verbose else _QuietHandler
    server = make_server(
        org.config.host,
        org.config.port,
        create_app(org),
        threaded=True,
        request_handler=handler,
        ssl_context=context,
    )
    host = "127.0.0.1" if org.config.host in ("127.0.0.1", "0.0.0.0") else org.config.host
    org.base_url = f"https://{host}:{server.server_port}"
    return server


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(config: DevorgConfig) -> int:
    """Run the devorg until SIGTERM/SIGINT; 0 on a clean stop."""
    org = open_org(config)
    server = build_server(org)
    signal.signal(signal.SIGTERM, _stop)
    print(json.dumps(announcement(org)), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        org.locators.close()
        org.db.close()
        print("devorg: stopped", file=sys.stderr, flush=True)
    return 0
