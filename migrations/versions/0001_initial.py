"""initial schema: sync runs, watermarks, raw records, record issues, run leases

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("api_usage", sa.Integer(), nullable=True),
        sa.Column("api_limit", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_org_id_requested_at"), ["org_id", "requested_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_runs_org_id_status"), ["org_id", "status"], unique=False
        )

    op.create_table(
        "raw_records",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("record_id", sa.String(length=18), nullable=False),
        sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["sync_runs.id"], name=op.f("fk_raw_records_first_run_id_sync_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["sync_runs.id"], name=op.f("fk_raw_records_last_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("org_id", "object_name", "record_id", name=op.f("pk_raw_records")),
    )
    with op.batch_alter_table("raw_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_raw_records_org_id_object_name_system_modstamp"),
            ["org_id", "object_name", "system_modstamp"],
            unique=False,
        )

    op.create_table(
        "record_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("record_id", sa.String(length=18), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("error_code", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_record_issues_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_issues")),
    )
    with op.batch_alter_table("record_issues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_issues_org_id_object_name_record_id"),
            ["org_id", "object_name", "record_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_record_issues_org_id_status"), ["org_id", "status"], unique=False
        )

    op.create_table(
        "watermarks",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("object_name", sa.String(length=80), nullable=False),
        sa.Column("modstamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.String(length=18), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_watermarks_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("org_id", "object_name", name=op.f("pk_watermarks")),
    )

    op.create_table(
        "sync_leases",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_sync_leases")),
    )


def downgrade() -> None:
    op.drop_table("sync_leases")
    op.drop_table("watermarks")
    with op.batch_alter_table("record_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_issues_org_id_status"))
        batch_op.drop_index(batch_op.f("ix_record_issues_org_id_object_name_record_id"))

    op.drop_table("record_issues")
    with op.batch_alter_table("raw_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_records_org_id_object_name_system_modstamp"))

    op.drop_table("raw_records")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_org_id_status"))
        batch_op.drop_index(batch_op.f("ix_sync_runs_org_id_requested_at"))

    op.drop_table("sync_runs")
