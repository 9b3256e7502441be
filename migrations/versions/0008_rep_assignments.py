"""assignment history: each rep's plan, manager, quota over time, and effective-date corrections

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rep_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("plan_id", sa.Text(), nullable=True),
        sa.Column("manager_id", sa.String(length=18), nullable=True),
        sa.Column("quota", sa.Text(), nullable=True),
        sa.Column("target_incentive", sa.Text(), nullable=True),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_run_id", sa.Integer(), nullable=True),
        sa.Column("corrected_by", sa.String(length=120), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_assignments")),
    )
    with op.batch_alter_table("rep_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rep_assignments_org_id_rep_id_effective_from"),
            ["org_id", "rep_id", "effective_from"],
            unique=False,
        )
    op.create_table(
        "rep_assignment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("old_from", sa.Date(), nullable=True),
        sa.Column("new_from", sa.Date(), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_assignment_events")),
    )
    with op.batch_alter_table("rep_assignment_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rep_assignment_events_org_id_at"), ["org_id", "at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("rep_assignment_events")
    op.drop_table("rep_assignments")
