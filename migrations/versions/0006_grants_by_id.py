"""role grants by Salesforce id (names as labels); the org's own hosts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Grants stored before this revision named their holder by name or id and matched both
case-insensitively on a shared 15-character prefix. Each is rewritten to what it meant:
a well-formed id of the right kind becomes an id grant (18-character form); a name stays an
exact-name grant, its case fixed only where it is one of the built-in default names; grants
that now say the same thing are merged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connector.salesforce.ids import InvalidId, normalize_id

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PREFIXES = {"user": "005", "profile": "00e", "permission_set": "0PS"}
_DEFAULT_NAMES = {
    "profile": ("System Administrator",),
    "permission_set": ("Quotaflow_Admin", "Quotaflow_Ops"),
}


def _target(kind: str, principal: str) -> tuple[str, str, str | None]:
    """(match, principal, label) for a grant stored before ids were required."""
    text = principal.strip()
    try:
        return "id", normalize_id(text, prefix=_PREFIXES.get(kind, "")), None
    except InvalidId:
        pass
    for name in _DEFAULT_NAMES.get(kind, ()):
        if text.casefold() == name.casefold():
            return "name", name, name
    return "name", text, text


def upgrade() -> None:
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("match_kind", sa.String(length=8), server_default="name", nullable=False)
        )
        batch_op.add_column(sa.Column("label", sa.String(length=120), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, org_id, role, principal_kind, principal FROM role_grants ORDER BY id")
    ).all()
    kept: dict[tuple[str, str, str, str], tuple[int, str, str | None]] = {}
    for row_id, org_id, role, kind, principal in rows:
        match, target, label = _target(kind, principal)
        key = (org_id, role, kind, target)
        if key in kept:
            bind.execute(sa.text("DELETE FROM role_grants WHERE id = :id"), {"id": row_id})
        else:
            kept[key] = (row_id, match, label)
    for (_, _, _, target), (row_id, match, label) in kept.items():
        bind.execute(
            sa.text(
                "UPDATE role_grants SET match_kind = :match, principal = :principal, "
                "label = :label WHERE id = :id"
            ),
            {"match": match, "principal": target, "label": label, "id": row_id},
        )
    op.create_table(
        "org_hosts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_hosts")),
    )
    with op.batch_alter_table("org_hosts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_hosts_org_id_origin"), ["org_id", "origin"], unique=True
        )


def downgrade() -> None:
    op.drop_table("org_hosts")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_column("label")
        batch_op.drop_column("match_kind")
