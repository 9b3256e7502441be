"""Sample raw records of an org (for previewing a mapping on real data)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.store.models import RawRecord


def sample_raw_records(
    session: Session, *, org_id: str, object_name: str, limit: int = 5
) -> Sequence[RawRecord]:
    """The `limit` most recently changed live records of one object (case-insensitive name)."""
    query = (
        select(RawRecord)
        .where(
            RawRecord.org_id == org_id,
            func.lower(RawRecord.object_name) == object_name.lower(),
            RawRecord.is_deleted.is_(False),
        )
        .order_by(RawRecord.system_modstamp.desc(), RawRecord.record_id)
        .limit(limit)
    )
    return session.scalars(query).all()
