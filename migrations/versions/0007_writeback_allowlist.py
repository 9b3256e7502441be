"""write-back allow-list: fields an admin added per org, and the audit of every change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writeback_fields",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("field_name", sa.String(length=80), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "object_name", "field_name", name=op.f("pk_writeback_fields")
        ),
    )
    op.create_table(
        "writeback_field_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("field_name", sa.String(length=80), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_field_events")),
    )
    with op.batch_alter_table("writeback_field_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_writeback_field_events_org_id_at"), ["org_id", "at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("writeback_field_events")
    op.drop_table("writeback_fields")
