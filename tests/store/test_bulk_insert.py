"""`insert_rows` (driver executemany on SQLite, COPY on PostgreSQL) stores what Core would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from connector.settings import Settings
from connector.store.bulk import insert_rows
from connector.store.canonical import CanonicalDeal
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.models import RawRecord

NOW = datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC)
# Text that a COPY stream must escape, and a payload JSON must keep as it is.
AWKWARD = 'tab\there, newline\nthere, back\\slash, "quotes", \\N, é, 😀'


def _raw(record_id: str, stamp: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "object_name": "Opportunity",
        "record_id": record_id,
        "system_modstamp": stamp,
        "payload": payload,
        "input_hash": None,
        "payload_hash": "p" * 64,
        "last_run_id": None,
        "updated_at": NOW,
    }  # is_deleted left out: its Python-side default (False) is filled in


def test_inserted_rows_read_back_as_given(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    later = NOW.astimezone(timezone(timedelta(hours=-5))) + timedelta(seconds=1)
    rows = [
        _raw("006A", NOW, {"Name": AWKWARD, "Amount": 12.5, "Nested": {"a": [1, None]}}),
        _raw("006B", later, {"Name": None, "Amount": 0}),
    ]
    deal = {
        "id": "006A",
        "payload": {"amount": {"$decimal": "12.50"}},
        "deleted": False,
        "input_hash": "h" * 64,
        "mapping_version_id": None,
        "changed_run_id": None,
        "updated_at": NOW,
        "owner_id": "005X",
        "close_date": date(2026, 2, 28),
    }
    with sessions() as session:
        insert_rows(session, RawRecord, org_id="00DA", rows=rows)
        insert_rows(session, RawRecord, org_id="00DB", rows=rows[:1])
        insert_rows(session, CanonicalDeal, org_id="00DA", rows=[deal])
        session.commit()
    with sessions() as session:
        stored = session.execute(
            select(
                RawRecord.record_id,
                RawRecord.system_modstamp,
                RawRecord.payload,
                RawRecord.is_deleted,
                RawRecord.updated_at,
            )
            .where(RawRecord.org_id == "00DA")
            .order_by(RawRecord.record_id)
        ).all()
        assert [tuple(r) for r in stored] == [
            ("006A", NOW, rows[0]["payload"], False, NOW),
            ("006B", later.astimezone(UTC), rows[1]["payload"], False, NOW),
        ]
        other = session.scalars(select(RawRecord.record_id).where(RawRecord.org_id == "00DB"))
        assert list(other) == ["006A"]
        kept = session.execute(
            select(CanonicalDeal.payload, CanonicalDeal.owner_id, CanonicalDeal.close_date).where(
                CanonicalDeal.org_id == "00DA"
            )
        ).one()
        assert tuple(kept) == (deal["payload"], "005X", date(2026, 2, 28))
    engine.dispose()


def test_sqlite_stores_the_text_the_driver_adapters_wrote(store_settings: Settings) -> None:
    """Stored stamps keep their text (`isoformat(" ")`, what the sqlite3 module's adapters
    wrote before insert_rows converted them itself): SQL compares them as text."""
    if not store_settings.database_url.startswith("sqlite"):
        return  # PostgreSQL stores timestamps, not text
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    whole = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)  # a whole second: no fraction written
    deal = {
        "id": "006A", "payload": {}, "deleted": False, "input_hash": None,
        "mapping_version_id": None, "changed_run_id": None, "updated_at": whole,
        "owner_id": None, "close_date": date(2026, 2, 28),
    }  # fmt: skip
    with sessions() as session:
        insert_rows(session, RawRecord, org_id="00DA", rows=[_raw("006A", NOW, {})])
        insert_rows(session, CanonicalDeal, org_id="00DA", rows=[deal])
        session.commit()
    with engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT system_modstamp, updated_at FROM raw_records")
        assert list(raw) == [("2026-03-01 12:30:05.123000", "2026-03-01 12:30:05.123000")]
        canonical = connection.exec_driver_sql("SELECT close_date, updated_at FROM canonical_deals")
        assert list(canonical) == [("2026-02-28", "2026-03-01 12:30:05")]
    engine.dispose()


def test_update_many_stores_what_core_would_and_the_payload_text_is_orjsons(
    store_settings: Settings,
) -> None:
    """`update_many` (driver executemany) leaves the same rows as Core's `update_rows`, only
    in the org asked for; `stored_states` reads the payload as the text `dump_json` wrote,
    which the pull's echo path compares byte for byte."""
    from connector.store.bulk import update_many, update_rows
    from connector.store.engine import dump_json
    from connector.store.repositories import stored_states

    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    rows = [_raw(f"006{i}", NOW, {"Id": f"006{i}", "Amount": 1.5}) for i in range(3)]
    with sessions() as session:
        for org in ("00DA", "00DB", "00DC"):
            insert_rows(session, RawRecord, org_id=org, rows=rows)
        session.commit()
    later = NOW + timedelta(seconds=7)
    keys = ("org_id", "object_name", "record_id")
    payload = {"Id": "0060", "Name": AWKWARD, "Amount": 2, "Nested": {"b": True, "a": None}}
    change = [{"object_name": "Opportunity", "record_id": "0060", "system_modstamp": later,
               "payload": payload, "payload_hash": None},
              {"object_name": "Opportunity", "record_id": "0061", "system_modstamp": later,
               "payload": {"Id": "0061"}, "payload_hash": "q" * 64}]  # fmt: skip
    with sessions() as session:
        update_many(session, RawRecord, org_id="00DA", keys=keys, rows=change)
        update_rows(session, RawRecord, org_id="00DB", keys=keys, rows=change)
        session.commit()

    def read(org: str) -> list[tuple[Any, ...]]:
        with sessions() as session:
            found = session.execute(
                select(
                    RawRecord.record_id,
                    RawRecord.system_modstamp,
                    RawRecord.payload,
                    RawRecord.payload_hash,
                )
                .where(RawRecord.org_id == org)
                .order_by(RawRecord.record_id)
            )
            return [tuple(r) for r in found]

    assert read("00DA") == read("00DB")
    assert read("00DA")[0] == ("0060", later, payload, None)
    assert read("00DC") == [(f"006{i}", NOW, {"Id": f"006{i}", "Amount": 1.5}, "p" * 64)
                            for i in range(3)]  # fmt: skip
    with sessions() as session:
        states = stored_states(session, org_id="00DA", object_name="Opportunity", ids=["0060"])
    assert states["0060"].payload == dump_json(payload)
    engine.dispose()
