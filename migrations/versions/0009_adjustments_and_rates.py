"""adjustments (paid to or taken back from a rep's period, with who entered them) and the
org's exchange rates as last read from Salesforce

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("component", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustments_org_id_rep_id_period"),
            ["org_id", "rep_id", "period"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_adjustments_org_id_source_reference"),
            ["org_id", "source", "reference"],
            unique=True,
        )

    op.create_table(
        "currency_rate_syncs",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_currency_rate_syncs")),
    )
    op.create_table(
        "currency_rates",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("iso_code", sa.String(length=3), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "iso_code", "start_date", name=op.f("pk_currency_rates")),
    )


def downgrade() -> None:
    op.drop_table("currency_rates")
    op.drop_table("currency_rate_syncs")
    op.drop_table("adjustments")
