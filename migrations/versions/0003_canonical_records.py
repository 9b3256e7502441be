"""canonical records: mapped reps, deals, splits and team members

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Key columns copied out of the payload; close_date is a date, the others Salesforce ids.
_KEYS: dict[str, tuple[str, ...]] = {
    "canonical_reps": ("manager_id",),
    "canonical_deals": ("owner_id", "close_date"),
    "canonical_splits": ("deal_id", "rep_id"),
    "canonical_team_members": ("deal_id", "rep_id"),
}
_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "canonical_reps": (("org_id", "manager_id"), ("org_id", "changed_run_id")),
    "canonical_deals": (
        ("org_id", "owner_id", "close_date"),
        ("org_id", "close_date"),
        ("org_id", "changed_run_id"),
    ),
    "canonical_splits": (("org_id", "deal_id"), ("org_id", "rep_id"), ("org_id", "changed_run_id")),
    "canonical_team_members": (
        ("org_id", "deal_id"),
        ("org_id", "rep_id"),
        ("org_id", "changed_run_id"),
    ),
}


def _key_column(name: str) -> sa.Column[object]:
    if name == "close_date":
        return sa.Column(name, sa.Date(), nullable=True)
    return sa.Column(name, sa.String(length=18), nullable=True)


def upgrade() -> None:
    for table, keys in _KEYS.items():
        op.create_table(
            table,
            sa.Column("org_id", sa.String(length=18), nullable=False),
            sa.Column("id", sa.String(length=18), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("input_hash", sa.String(length=64), nullable=True),
            sa.Column("mapping_version_id", sa.Integer(), nullable=True),
            sa.Column("changed_run_id", sa.Integer(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            *(_key_column(name) for name in keys),
            sa.PrimaryKeyConstraint("org_id", "id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            for columns in _INDEXES[table]:
                batch_op.create_index(
                    batch_op.f(f"ix_{table}_{'_'.join(columns)}"), list(columns), unique=False
                )


def downgrade() -> None:
    for table in reversed(list(_KEYS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for columns in _INDEXES[table]:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{'_'.join(columns)}"))
        op.drop_table(table)
