"""the journal of REST write-back batches, so a run killed after a call and before settling
it does not send it again

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writeback_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_run_id", sa.Integer(), nullable=True),
        sa.Column("made", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_batches")),
    )
    with op.batch_alter_table("writeback_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_writeback_batches_org_id_settled_at"),
            ["org_id", "settled_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_writeback_batches_org_id_counted_run_id"),
            ["org_id", "counted_run_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("writeback_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writeback_batches_org_id_counted_run_id"))
        batch_op.drop_index(batch_op.f("ix_writeback_batches_org_id_settled_at"))
    op.drop_table("writeback_batches")
