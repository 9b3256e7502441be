"""The org's exchange rates as last read from Salesforce, and when they were read and changed.

The sync replaces them whenever what Salesforce holds differs; `changed_at` tells an
incremental run that every converted deal must be recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from calc.currency import DatedRate, Rates
from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID

RATE = String(32)  # a Decimal as text: exact on SQLite and PostgreSQL alike


class CurrencyRate(Base):
    """One rate: units of `iso_code` per one corporate unit, from `start_date` on."""

    __tablename__ = "currency_rates"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    iso_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    start_date: Mapped[date] = mapped_column(Date, primary_key=True)
    rate: Mapped[str] = mapped_column(RATE)


class CurrencyRateSync(Base):
    """When the org's rates were last read, from where (`dated`, `static`, `none`), changed."""

    __tablename__ = "currency_rate_syncs"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


def _rows(session: Session, org_id: str) -> list[CurrencyRate]:
    query = select(CurrencyRate).where(CurrencyRate.org_id == org_id)
    return list(session.scalars(query.order_by(CurrencyRate.iso_code, CurrencyRate.start_date)))


def save_rates(
    session: Session, org_id: str, *, source: str, rows: Sequence[DatedRate], now: datetime
) -> bool:
    """Keep what was read (flushed, not committed); True when the rates changed."""
    old = {(r.iso_code, r.start_date, r.rate) for r in _rows(session, org_id)}
    new = {(r.currency, r.start, str(r.rate)) for r in rows}
    state = session.get(CurrencyRateSync, org_id)
    changed = old != new or state is None or state.source != source
    if old != new:
        session.execute(delete(CurrencyRate).where(CurrencyRate.org_id == org_id))
        session.add_all(
            CurrencyRate(org_id=org_id, iso_code=code, start_date=start, rate=rate)
            for code, start, rate in sorted(new)
        )
    if state is None:
        state = CurrencyRateSync(org_id=org_id, source=source, fetched_at=now, changed_at=now)
        session.add(state)
    state.source, state.fetched_at = source, now
    if changed:
        state.changed_at = now
    session.flush()
    return changed


def rate_sync(session: Session, org_id: str) -> CurrencyRateSync | None:
    """When the org's rates were last read and changed (None: never read)."""
    return session.get(CurrencyRateSync, org_id)


def stored_rates(session: Session, org_id: str) -> Rates | None:
    """The org's rates for calc (None when it has none: deals in other currencies are
    then unresolved)."""
    rows = _rows(session, org_id)
    if not rows:
        return None
    return Rates(DatedRate(r.iso_code, r.start_date, Decimal(r.rate)) for r in rows)
