"""Wiring for the sync process: `build_sync_deps(settings)` builds everything, nothing at import."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.salesforce.auth import Authenticator
from connector.salesforce.bulk_options import BulkOptions
from connector.salesforce.gateway import Gateway, GatewayOptions
from connector.salesforce.http import make_http_session
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.repositories import DbEngine, SessionFactory
from connector.store.unit import OrgUnit
from mappings.compile import CompiledMapping, compile_mapping
from mappings.defaults import default_mapping
from mappings.schema import MappingDocument


@dataclass(frozen=True, slots=True)
class ActiveMapping:
    """The mapping a run uses: its stored version id (None for the shipped default)."""

    version_id: int | None
    document: MappingDocument
    compiled: CompiledMapping


@dataclass(frozen=True, slots=True)
class PullOptions:
    """Tunables of the pull."""

    # Late-committing transactions show up with a SystemModstamp older than what was already
    # served; re-reading this far behind the watermark catches them (duplicates cost nothing).
    lookback: timedelta = timedelta(minutes=5)


MappingSource = Callable[[str], ActiveMapping]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class KeptState:
    """Calculation state a long-lived process (the clock, a worker) keeps between runs.

    One entry per org, owned by `connector.sync.state`: the inputs of the last committed
    calculation, so the next incremental run reads only the records changed since.
    A process that runs once (the CLI) never reuses it.
    """

    by_org: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enabled: bool = True


@dataclass(frozen=True)
class SyncDeps:
    """What a sync run needs; tests build their own with fakes or a devorg-backed gateway."""

    settings: Settings
    engine: DbEngine
    sessions: SessionFactory
    gateway: Gateway
    mapping_source: MappingSource
    options: PullOptions = field(default_factory=PullOptions)
    clock: Callable[[], datetime] = _utcnow
    kept: KeptState = field(default_factory=KeptState)

    def unit(self, org_id: str) -> OrgUnit:
        """A unit of work of the org (`with deps.unit(org) as unit: ...; unit.commit()`)."""
        return OrgUnit(self.sessions, org_id)


def default_mapping_source() -> MappingSource:
    """The shipped default mapping, compiled once (tests and tools without a store)."""
    doc = default_mapping()
    active = ActiveMapping(None, doc, compile_mapping(doc))
    return lambda _org_id: active


def stored_mapping_source(
    sessions: SessionFactory, *, clock: Callable[[], datetime] = _utcnow
) -> MappingSource:
    """The org's active stored mapping version, parsed and compiled once per version (a run
    asks once per pulled object; parsing the YAML each time was most of a small run's CPU)."""
    compiled: dict[tuple[int, str], ActiveMapping] = {}

    def source(org_id: str) -> ActiveMapping:
        with OrgUnit(sessions, org_id) as unit:
            version = unit.mappings.ensure_active(now=clock())
            key = (version.id, version.checksum)
            found = compiled.get(key)
            if found is None:
                doc = version.load()
                found = compiled[key] = ActiveMapping(key[0], doc, compile_mapping(doc))
            unit.commit()
        return found

    return source


def build_gateway(
    settings: Settings,
    *,
    options: GatewayOptions | None = None,
    retry: RetryPolicy | None = None,
) -> Gateway:
    """An authenticated gateway for the settings' org (logs in lazily, on first call)."""
    session = make_http_session(settings.sf_ca_bundle)
    options = options or GatewayOptions()
    if options.bulk is None:
        options = replace(options, bulk=bulk_options(settings))
    auth = Authenticator(settings, session=session, retry=retry)
    return Gateway(
        auth, session=session, api_version=settings.sf_api_version, options=options, retry=retry
    )


def bulk_options(settings: Settings) -> BulkOptions:
    """The Bulk API 2.0 thresholds and timeout of the settings."""
    return BulkOptions(
        query_threshold=settings.bulk_threshold,
        ingest_threshold=settings.bulk_write_threshold,
        timeout_seconds=float(settings.bulk_timeout),
    )


def build_sync_deps(
    settings: Settings,
    *,
    gateway_options: GatewayOptions | None = None,
    pull_options: PullOptions | None = None,
    retry: RetryPolicy | None = None,
    mapping_source: MappingSource | None = None,
    engine: DbEngine | None = None,
) -> SyncDeps:
    """Engine, session factory, gateway and mapping source for one sync process."""
    engine = engine or make_engine(settings)
    sessions = make_session_factory(engine)
    return SyncDeps(
        settings=settings,
        engine=engine,
        sessions=sessions,
        gateway=build_gateway(settings, options=gateway_options, retry=retry),
        mapping_source=mapping_source or stored_mapping_source(sessions),
        options=pull_options or PullOptions(),
    )
