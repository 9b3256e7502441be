"""disputes, their audit trail and reasons; the Salesforce Task outbox; workflow settings;
plan acceptance, statement approval and period close

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "close_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("rep_id", sa.String(length=18), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=121), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_close_events")),
    )
    with op.batch_alter_table("close_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_close_events_org_id_period"), ["org_id", "period"], unique=False
        )

    op.create_table(
        "dispute_reasons",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "code", name=op.f("pk_dispute_reasons")),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("rep_name", sa.String(length=121), nullable=False),
        sa.Column("manager_id", sa.String(length=18), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("deal_id", sa.String(length=18), nullable=True),
        sa.Column("component", sa.String(length=80), nullable=True),
        sa.Column("credit_type", sa.String(length=16), nullable=True),
        sa.Column("shown_amount", sa.String(length=32), nullable=True),
        sa.Column("expected_amount", sa.String(length=32), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reason_label", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("info_from", sa.String(length=24), nullable=True),
        sa.Column("reviewer_id", sa.String(length=18), nullable=True),
        sa.Column("resolution", sa.String(length=24), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_amount", sa.String(length=32), nullable=True),
        sa.Column("adjustment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disputes_org_id_rep_id"), ["org_id", "rep_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disputes_org_id_state"), ["org_id", "state"], unique=False
        )

    op.create_table(
        "period_closes",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=121), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("blockers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "period", name=op.f("pk_period_closes")),
    )
    op.create_table(
        "plan_acceptances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("plan_id", sa.String(length=80), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("accepted_by", sa.String(length=121), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_acceptances")),
    )
    with op.batch_alter_table("plan_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_acceptances_org_id_rep_id_plan_version"),
            ["org_id", "rep_id", "plan_version"],
            unique=True,
        )

    op.create_table(
        "sf_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("ref", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.String(length=18), nullable=False),
        sa.Column("what_id", sa.String(length=18), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("sf_task_id", sa.String(length=18), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_tasks")),
    )
    with op.batch_alter_table("sf_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sf_tasks_org_id_delivery"), ["org_id", "delivery"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sf_tasks_org_id_source_source_id"),
            ["org_id", "source", "source_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_sf_tasks_org_id_ref"), ["org_id", "ref"], unique=True)

    op.create_table(
        "statement_approvals",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("rep_id", sa.String(length=18), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", sa.String(length=32), nullable=False),
        sa.Column("top_up", sa.String(length=32), nullable=False),
        sa.Column("recovered", sa.String(length=32), nullable=False),
        sa.Column("adjustments", sa.String(length=32), nullable=False),
        sa.Column("net", sa.String(length=32), nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("manager_approved_by", sa.String(length=121), nullable=True),
        sa.Column("manager_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=121), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "period", "rep_id", name=op.f("pk_statement_approvals")),
    )
    op.create_table(
        "workflow_settings",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("manager_step", sa.Boolean(), nullable=False),
        sa.Column("dispute_admin_id", sa.String(length=18), nullable=True),
        sa.Column("hold_unaccepted", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_workflow_settings")),
    )
    op.create_table(
        "dispute_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=18), nullable=True),
        sa.Column("actor_name", sa.String(length=121), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_events_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_events")),
    )
    with op.batch_alter_table("dispute_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_events_org_id_dispute_id"),
            ["org_id", "dispute_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("dispute_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_events_org_id_dispute_id"))

    op.drop_table("dispute_events")
    op.drop_table("workflow_settings")
    op.drop_table("statement_approvals")
    with op.batch_alter_table("sf_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sf_tasks_org_id_ref"))
        batch_op.drop_index(batch_op.f("ix_sf_tasks_org_id_source_source_id"))
        batch_op.drop_index(batch_op.f("ix_sf_tasks_org_id_delivery"))

    op.drop_table("sf_tasks")
    with op.batch_alter_table("plan_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_acceptances_org_id_rep_id_plan_version"))

    op.drop_table("plan_acceptances")
    op.drop_table("period_closes")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_org_id_state"))
        batch_op.drop_index(batch_op.f("ix_disputes_org_id_rep_id"))

    op.drop_table("disputes")
    op.drop_table("dispute_reasons")
    with op.batch_alter_table("close_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_close_events_org_id_period"))

    op.drop_table("close_events")
