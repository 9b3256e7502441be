"""Bulk API 2.0 ingest jobs a write-back opened and has not settled yet

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_ingest_jobs",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("job_id", sa.String(length=18), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "job_id", name=op.f("pk_bulk_ingest_jobs")),
    )


def downgrade() -> None:
    op.drop_table("bulk_ingest_jobs")
