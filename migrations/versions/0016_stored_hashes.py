"""digests beside stored results and write-back values, so an incremental store compares
and re-checks only what changed; the write-back journal indexed by run

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("period_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_hash", sa.String(length=32), nullable=True))
    with op.batch_alter_table("writeback_values", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crm_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("writeback_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_writeback_batches_org_id_run_id"), ["org_id", "run_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("writeback_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writeback_batches_org_id_run_id"))
    with op.batch_alter_table("writeback_values", schema=None) as batch_op:
        batch_op.drop_column("crm_hash")
    with op.batch_alter_table("period_results", schema=None) as batch_op:
        batch_op.drop_column("result_hash")
