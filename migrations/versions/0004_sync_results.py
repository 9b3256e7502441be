"""sync results: plan versions, calc runs, credits, period results, write-back values, period locks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_AMOUNT = sa.String(length=32)


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("calc_run_id", sa.Integer(), nullable=False),
        sa.Column("mapping_version_id", sa.Integer(), nullable=True),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
    ]


def _plans() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
    )
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_versions_org_id_version"), ["org_id", "version"], unique=True
        )
        batch_op.create_index(
            "uq_plan_versions_active_org",
            ["org_id"],
            unique=True,
            sqlite_where=sa.text("is_active = 1"),
            postgresql_where=sa.text("is_active"),
        )


def _results() -> None:
    op.create_table(
        "calc_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("range_start", sa.Date(), nullable=False),
        sa.Column("range_end", sa.Date(), nullable=False),
        sa.Column("mapping_version_id", sa.Integer(), nullable=True),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
        sa.Column("reps_computed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calc_runs")),
    )
    with op.batch_alter_table("calc_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calc_runs_org_id_status_sync_run_id"),
            ["org_id", "status", "sync_run_id"],
            unique=False,
        )
    op.create_table(
        "calc_credits",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("deal_id", sa.String(length=18), nullable=False),
        sa.Column("credit_type", sa.String(length=16), nullable=False),
        sa.Column("percent", _AMOUNT, nullable=False),
        sa.Column("amount", _AMOUNT, nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint(
            "org_id", "rep_id", "period", "deal_id", "credit_type", name=op.f("pk_calc_credits")
        ),
    )
    with op.batch_alter_table("calc_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calc_credits_org_id_deal_id"), ["org_id", "deal_id"], unique=False
        )
    op.create_table(
        "period_results",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.String(length=80), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("attainment", _AMOUNT, nullable=False),
        sa.Column("gross", _AMOUNT, nullable=False),
        sa.Column("net", _AMOUNT, nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("org_id", "rep_id", "period", name=op.f("pk_period_results")),
    )
    with op.batch_alter_table("period_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_period_results_org_id_period"), ["org_id", "period"], unique=False
        )


def _writeback_and_locks() -> None:
    op.create_table(
        "writeback_values",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("record_id", sa.String(length=18), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint(
            "org_id", "object_name", "record_id", name=op.f("pk_writeback_values")
        ),
    )
    with op.batch_alter_table("writeback_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_writeback_values_org_id_pending"), ["org_id", "pending"], unique=False
        )
    op.create_table(
        "period_locks",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "period", name=op.f("pk_period_locks")),
    )


def upgrade() -> None:
    _plans()
    _results()
    _writeback_and_locks()


def downgrade() -> None:
    for table, indexes in (
        ("period_locks", ()),
        ("writeback_values", ("ix_writeback_values_org_id_pending",)),
        ("period_results", ("ix_period_results_org_id_period",)),
        ("calc_credits", ("ix_calc_credits_org_id_deal_id",)),
        ("calc_runs", ("ix_calc_runs_org_id_status_sync_run_id",)),
        ("plan_versions", ("uq_plan_versions_active_org", "ix_plan_versions_org_id_version")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
