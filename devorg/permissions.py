"""Object- and field-level security from the permission sets the devorg stores.

A real org answers a user's describe and writes with what the user's profile and permission
sets grant. The devorg keeps, per permission set, the object, field and user permissions that
force-app's permission sets ship (`_devorg_*_permissions` tables, seeded with them). A user
assigned at least one permission set that carries such permissions is restricted to what they
grant, as the Quotaflow integration user is under its "Minimum Access - API Only Integrations"
profile. A System Administrator, and a user whose permission sets carry no stored permissions
(an empty org's integration user), may do everything.

For a restricted user:
- an object is createable, updateable or deletable when a permission set allows it; Users
  with the Manage Internal Users permission; Tasks with the Edit Tasks permission
  (`EditTask`); splits, team members and line items follow Opportunity edit access (they are
  controlled by their parent); other objects not at all;
- a field is editable when its object is updateable and, for a custom field, a permission
  set grants edit; a standard field is editable unless every permission set that lists it
  lists it read-only (field-level security cannot be set on required fields);
- a custom field is visible (in describe and to queries) only when a permission set grants
  read; a standard field unless every permission set that lists it hides it. A hidden field
  is absent from describe and a query naming it fails with INVALID_FIELD "No such column".
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from devorg.schema import FieldSpec, ObjectSpec

_TABLES = (
    "CREATE TABLE IF NOT EXISTS _devorg_object_permissions (permission_set TEXT NOT NULL, "
    "object TEXT NOT NULL, allow_read INTEGER, allow_create INTEGER, allow_edit INTEGER, "
    "allow_delete INTEGER)",
    "CREATE TABLE IF NOT EXISTS _devorg_field_permissions (permission_set TEXT NOT NULL, "
    "field TEXT NOT NULL, readable INTEGER, editable INTEGER)",
    "CREATE TABLE IF NOT EXISTS _devorg_user_permissions (permission_set TEXT NOT NULL, "
    "name TEXT NOT NULL)",
)
# Controlled by their parent Opportunity (no object permissions of their own).
_BY_PARENT = {"OpportunitySplit", "OpportunityTeamMember", "OpportunityLineItem"}
_OPS = ("create", "edit", "delete")


@dataclass(frozen=True)
class PermissionSetGrants:
    """What one permission set grants: {object: (read, create, edit, delete)}, {Object.Field:
    (readable, editable)} and user permission names."""

    objects: dict[str, tuple[bool, bool, bool, bool]]
    fields: dict[str, tuple[bool, bool]]
    user_permissions: tuple[str, ...]


@dataclass(frozen=True)
class Access:
    """One user's effective access; `restricted=False` means System Administrator."""

    restricted: bool
    objects: dict[str, set[str]]  # object -> granted operations among create, edit, delete
    field_edit: dict[str, bool]  # Object.Field -> granted by any listing permission set
    user_permissions: frozenset[str]
    field_read: dict[str, bool] = dataclasses.field(default_factory=dict)  # likewise, read

    def can(self, obj: ObjectSpec, op: str) -> bool:
        """Whether the user may create, edit or delete records of `obj`."""
        if not self.restricted:
            return True
        if obj.name == "User":
            return op != "delete" and "ManageInternalUsers" in self.user_permissions
        if obj.name == "Task":
            # Activities have no object permissions: the Edit Tasks user permission creates,
            # edits (reassigns, completes) and deletes them.
            return "EditTask" in self.user_permissions
        name = "Opportunity" if obj.name in _BY_PARENT else obj.name
        return op in self.objects.get(name, set())

    def can_edit_field(self, obj: ObjectSpec, spec: FieldSpec, *, creating: bool) -> bool:
        """Whether the user may set `spec` (the object must allow the operation too)."""
        if not self.restricted:
            return True
        if not self.can(obj, "create" if creating else "edit"):
            return False
        listed = self.field_edit.get(f"{obj.name}.{spec.name}")
        if spec.custom:
            return bool(listed)
        return listed is not False or not spec.nillable

    def can_read_field(self, obj: ObjectSpec, spec: FieldSpec) -> bool:
        """Whether field-level security lets the user see `spec` (describe, query)."""
        if not self.restricted:
            return True
        listed = self.field_read.get(f"{obj.name}.{spec.name}")
        if spec.custom:
            return bool(listed)
        return listed is not False or not spec.nillable


UNRESTRICTED = Access(False, {}, {}, frozenset())


def store_grants(conn: sqlite3.Connection, grants: dict[str, PermissionSetGrants]) -> None:
    """Store the permissions of permission sets (by PermissionSet Id)."""
    for sql in _TABLES:
        conn.execute(sql)
    for set_id, grant in grants.items():
        conn.executemany(
            "INSERT INTO _devorg_object_permissions VALUES (?, ?, ?, ?, ?, ?)",
            [(set_id, obj, *map(int, flags)) for obj, flags in grant.objects.items()],
        )
        conn.executemany(
            "INSERT INTO _devorg_field_permissions VALUES (?, ?, ?, ?)",
            [(set_id, field, int(r), int(e)) for field, (r, e) in grant.fields.items()],
        )
        conn.executemany(
            "INSERT INTO _devorg_user_permissions VALUES (?, ?)",
            [(set_id, name) for name in grant.user_permissions],
        )


def _rows(conn: sqlite3.Connection, sql: str, sets: list[str]) -> Iterable[tuple[object, ...]]:
    marks = ",".join("?" * len(sets))
    return conn.execute(sql.format(marks=marks), sets).fetchall()


def access_for(conn: sqlite3.Connection, user_id: str | None) -> Access:
    """The effective access of a user, from their permission set assignments."""
    known = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = '_devorg_object_permissions'"
    ).fetchone()
    if user_id is None or known is None:
        return UNRESTRICTED
    profile = conn.execute(
        'SELECT p.Name FROM "User" u JOIN "Profile" p ON p.Id = u.ProfileId WHERE u.Id = ?',
        (user_id,),
    ).fetchone()
    if profile is not None and profile[0] == "System Administrator":
        return UNRESTRICTED
    sets = [
        str(r[0])
        for r in conn.execute(
            'SELECT PermissionSetId FROM "PermissionSetAssignment" WHERE AssigneeId = ?',
            (user_id,),
        )
    ]
    if not sets:
        return UNRESTRICTED
    objects: dict[str, set[str]] = {}
    sql = "SELECT object, allow_create, allow_edit, allow_delete FROM _devorg_object_permissions "
    object_rows = list(_rows(conn, sql + "WHERE permission_set IN ({marks})", sets))
    for obj, *flags in object_rows:
        granted = objects.setdefault(str(obj), set())
        granted.update(op for op, flag in zip(_OPS, flags, strict=True) if flag)
    field_edit: dict[str, bool] = {}
    field_read: dict[str, bool] = {}
    sql = (
        "SELECT field, readable, editable FROM _devorg_field_permissions "
        "WHERE permission_set IN ({marks})"
    )
    field_rows = list(_rows(conn, sql, sets))
    for field, readable, editable in field_rows:
        field_edit[str(field)] = field_edit.get(str(field), False) or bool(editable)
        # Edit access implies read access (Salesforce sets both when edit is granted).
        seen = bool(readable) or bool(editable)
        field_read[str(field)] = field_read.get(str(field), False) or seen
    sql = "SELECT name FROM _devorg_user_permissions WHERE permission_set IN ({marks})"
    user_rows = list(_rows(conn, sql, sets))
    if not (object_rows or field_rows or user_rows):
        return UNRESTRICTED
    user_permissions = frozenset(str(r[0]) for r in user_rows)
    return Access(True, objects, field_edit, user_permissions, field_read)


def restrict_describe(body: dict[str, object], obj: ObjectSpec, access: Access) -> None:
    """Lower describe's createable/updateable/deletable to what `access` grants (in place)."""
    if not access.restricted:
        return
    for key, op in (("createable", "create"), ("updateable", "edit"), ("deletable", "delete")):
        if key in body:
            body[key] = bool(body[key]) and access.can(obj, op)
    fields = body.get("fields")
    if isinstance(fields, list):
        # Fields the user cannot read are absent from describe, as in a real org.
        fields[:] = [
            f
            for f in fields
            if (spec := obj.field(str(f.get("name", "")))) is None
            or access.can_read_field(obj, spec)
        ]
    for field in fields if isinstance(fields, list) else []:
        spec = obj.field(str(field.get("name", "")))
        if spec is None:
            continue
        field["createable"] = bool(field["createable"]) and access.can_edit_field(
            obj, spec, creating=True
        )
        field["updateable"] = bool(field["updateable"]) and access.can_edit_field(
            obj, spec, creating=False
        )
