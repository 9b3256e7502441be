"""Alembic environment: run with a connection handed in by `connector.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from connector.store.base import Base, import_store_modules

config = context.config
# Importing every store module registers its tables on Base.metadata.
import_store_modules()
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
