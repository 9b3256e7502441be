"""stored rep pages: each rep's page data, computed once per committed calculation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rep_pages",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("calc_run_id", sa.Integer(), nullable=False),
        sa.Column("plan_checksum", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("deal_ids", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "rep_id", name=op.f("pk_rep_pages")),
    )


def downgrade() -> None:
    op.drop_table("rep_pages")
