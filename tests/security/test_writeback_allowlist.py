"""Write-back goes only to allow-listed fields. Before, a mapping with
`writeback.spiff_status: Opportunity.Description` validated, activated, and the next sync
overwrote every Opportunity's Description. Now: the allow-list is force-app's write-back
fields plus custom fields an admin adds (audited, on the mapping page); standard fields and
fields a mapping reads are refused even when added; the sync refuses what an old stored
mapping still names, and reports it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from connector.store.mapping_versions import (
    active_version,
    add_version,
    get_version,
    import_version,
    list_versions,
)
from connector.store.models import RecordIssue
from connector.store.writeback_fields import (
    NOT_ALLOWED,
    AllowListError,
    WritebackFieldEvent,
    add_field,
    allowed_fields,
    remove_field,
)
from connector.sync import run_sync
from devorg.schema import OBJECTS, describe_sobject
from mappings.defaults import default_mapping
from mappings.loader import document_to_data, dump_mapping
from mappings.schema import MappingDocument
from mappings.validate import validate_against_describe
from mappings.writeback_rules import SHIPPED_FIELDS, allowlist_problems, fields_read, refusal
from tests.store_kit import unit_of_work
from tests.sync.conftest import Org, next_second, running_org
from tests.webapp.conftest import Web  # the synced demo org and its app (fixture `web`)
from webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]
FORCE_APP = ROOT / "force-app" / "main" / "default"
MD = {"md": "http://soap.sforce.com/2006/04/metadata"}
STANDARD = ["Amount", "StageName", "OwnerId", "CloseDate", "Description", "Name", "IsActive"]
ORG = "00D000000000001AAA"
NOW = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def edited(changes: dict[str, Any]) -> MappingDocument:
    data = document_to_data(default_mapping())
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return MappingDocument.model_validate(data)


ATTACK = {"writeback.spiff_status": "Opportunity.Description"}


# --- the single source of truth stays equal to force-app ----------------------------------------


def test_shipped_fields_are_what_force_app_lets_the_integration_user_edit() -> None:
    path = FORCE_APP / "permissionsets" / "Quotaflow_Integration.permissionset-meta.xml"
    root = ET.parse(path).getroot()
    editable = {
        tuple(str(p.findtext("md:field", "", MD)).split(".", 1))
        for p in root.findall("md:fieldPermissions", MD)
        if p.findtext("md:editable", "", MD) == "true"
    }
    assert editable == SHIPPED_FIELDS
    deployed = {
        (p.parent.parent.name, p.name.removesuffix(".field-meta.xml"))
        for p in FORCE_APP.glob("objects/*/fields/*.field-meta.xml")
    }
    assert deployed >= SHIPPED_FIELDS
    shipped_targets = {(w.object, w.field) for w in default_mapping().writeback.values()}
    assert shipped_targets == SHIPPED_FIELDS


# --- the rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", STANDARD)
def test_standard_fields_are_never_allowed(field: str) -> None:
    reason = refusal("Opportunity", field)
    assert reason is not None and "standard field" in reason


def test_fields_a_mapping_reads_are_never_allowed() -> None:
    read = fields_read(default_mapping())
    assert "read by the mapping" in str(refusal("User", "Quota__c", read=read))
    assert "read by the mapping" in str(refusal("user", "QUOTA__C", read=read))  # any case
    via_parent = edited({"deal.attributes": {"owner_region": "Owner.Secret_Score__c"}})
    assert "read by the mapping" in str(
        refusal("User", "Secret_Score__c", read=fields_read(via_parent))
    )
    assert refusal("Opportunity", "Commission_Estimate__c", read=read) is None


def test_the_attack_mapping_is_refused_on_its_path() -> None:
    problems = [str(p) for p in allowlist_problems(edited(ATTACK), SHIPPED_FIELDS)]
    assert problems == [
        "writeback.spiff_status.field: Opportunity.Description is a standard field; "
        "Quotaflow never writes standard fields (only custom fields ending in __c)"
    ]
    # Putting the standard field on the allow-list does not help.
    again = allowlist_problems(edited(ATTACK), SHIPPED_FIELDS | {("Opportunity", "Description")})
    assert [p.path for p in again] == ["writeback.spiff_status.field"]


def test_an_unlisted_custom_field_needs_an_admin_to_add_it() -> None:
    doc = edited({"writeback.deal_commission": "Opportunity.Commission_Estimate__c"})
    problems = allowlist_problems(doc, SHIPPED_FIELDS)
    assert len(problems) == 1 and "not on the org's write-back allow-list" in problems[0].message
    added = SHIPPED_FIELDS | {("Opportunity", "Commission_Estimate__c")}
    assert allowlist_problems(doc, added) == []
    assert allowlist_problems(default_mapping(), SHIPPED_FIELDS) == []


def test_the_validator_checks_updateable_for_the_integration_user() -> None:
    describes: dict[str, Any] = {
        name: describe_sobject(name, base_url="https://x.test", api_version="62.0")
        for name in OBJECTS
    }
    for f in describes["Opportunity"]["fields"]:
        if f["name"] == "SPIFF_Status__c":
            f["updateable"] = False  # field-level security took edit away
    found = [str(p) for p in validate_against_describe(default_mapping(), describes)]
    assert found == ["writeback.spiff_status.field: SPIFF_Status__c is not updateable"]


# --- the store: additions refused by the rules, every change audited ----------------------------


def test_store_add_remove_and_audit(store_settings: Any) -> None:
    from connector.store.engine import make_engine, make_session_factory
    from connector.store.migrate import upgrade

    engine = make_engine(store_settings)
    upgrade(engine)
    read = fields_read(default_mapping())
    key = ("Opportunity", "Commission_Estimate__c")
    with make_session_factory(engine)() as session:
        for bad in [("Opportunity", "Description"), ("User", "Quota__c"), ("Opp ", "X__c")]:
            with pytest.raises(AllowListError):
                add_field(session, org_id=ORG, key=bad, read=read, by="ann", now=NOW)
        assert add_field(session, org_id=ORG, key=key, read=read, by="ann", now=NOW) is True
        assert add_field(session, org_id=ORG, key=key, read=read, by="ann", now=NOW) is False
        assert key in allowed_fields(session, org_id=ORG)
        assert key not in allowed_fields(session, org_id="00D000000000002AAA")
        with pytest.raises(AllowListError, match="ships with force-app"):
            remove_field(
                session, org_id=ORG, key=("User", "Quota_Attainment__c"), by="bob", now=NOW
            )
        remove_field(session, org_id=ORG, key=key, by="bob", now=NOW)
        session.commit()
        assert allowed_fields(session, org_id=ORG) == SHIPPED_FIELDS
        events = session.scalars(select(WritebackFieldEvent).order_by(WritebackFieldEvent.id))
        assert [(e.action, e.by, e.field_name) for e in events] == [
            ("added", "ann", "Commission_Estimate__c"),
            ("removed", "bob", "Commission_Estimate__c"),
        ]
    engine.dispose()


# --- the admin pages replay the attack ----------------------------------------------------------


@pytest.fixture
def admin(web: Web, tmp_path: Path) -> tuple[Flask, dict[str, str]]:
    app = web.fresh(tmp_path)
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/mappings", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return app, {"qf_token": token, "qf_csrf": csrf.group(1)}


def _versions(app: Flask, org_id: str) -> list[tuple[int, bool]]:
    with app.app_context(), unit_of_work() as uow:
        return [(v.version, v.is_active) for v in list_versions(uow.session, org_id)]


def test_saving_the_attack_mapping_is_refused(web: Web, admin: Any) -> None:
    app, form = admin
    before = _versions(app, web.org_id)
    text = dump_mapping(edited(ATTACK))
    for endpoint in ("/admin/mappings/validate", "/admin/mappings/save"):
        response = app.test_client().post(endpoint, data={**form, "mode": "yaml", "document": text})
        assert response.status_code == 422
        assert "Opportunity.Description is a standard field" in response.text
    assert _versions(app, web.org_id) == before


def test_an_old_stored_attack_mapping_does_not_activate(web: Web, admin: Any) -> None:
    app, form = admin
    with app.app_context(), unit_of_work() as uow:
        row = add_version(uow.session, web.org_id, edited(ATTACK), created_by="old", now=NOW)
        uow.commit()
        version = row.version
    response = app.test_client().post(f"/admin/mappings/{version}/activate", data=form)
    assert response.status_code == 422
    assert "standard field" in response.text
    with app.app_context(), unit_of_work() as uow:
        stored = get_version(uow.session, web.org_id, version)
        assert stored is not None and not stored.is_active


def test_the_api_refuses_the_attack(web: Web) -> None:
    headers = {"Authorization": f"Bearer {web.admin_token()}"}
    body = (
        web.client()
        .post(
            "/api/v1/mappings/validate",
            headers=headers,
            json={"document": dump_mapping(edited(ATTACK))},
        )
        .get_json()
    )
    assert body["valid"] is False
    assert "writeback.spiff_status.field" in [e["path"] for e in body["errors"]]


def test_the_allow_list_form(web: Web, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    for field, message in [
        ("Opportunity.Description", "is a standard field"),
        ("Opportunity.Amount", "is a standard field"),
        ("User.IsActive", "is a standard field"),
        ("User.Quota__c", "is read by the mapping"),
        ("Opportunity/../limits.X__c", "write the field as Object.Field__c"),
    ]:
        refused = client.post("/admin/mappings/allowlist/add", data={**form, "field": field})
        assert refused.status_code == 422, field
        assert message in refused.text, field
    added = client.post(
        "/admin/mappings/allowlist/add",
        data={**form, "field": "Opportunity.Commission_Estimate__c"},
    )
    assert added.status_code == 200
    assert 'data-allowlist-field="Opportunity.Commission_Estimate__c"' in added.text
    assert "Opportunity.Commission_Estimate__c</code>" in added.text
    viewer_name = web.cast.admin
    assert f"added by {viewer_name}" in added.text
    # The mapping check now gets past the allow-list, to the org's own describe.
    doc = edited({"writeback.deal_commission": "Opportunity.Commission_Estimate__c"})
    checked = client.post(
        "/admin/mappings/validate", data={**form, "mode": "yaml", "document": dump_mapping(doc)}
    )
    assert "not on the org's write-back allow-list" not in checked.text
    assert "Opportunity has no field" in checked.text
    removed = client.post(
        "/admin/mappings/allowlist/remove",
        data={**form, "field": "Opportunity.Commission_Estimate__c"},
    )
    assert removed.status_code == 200
    assert f"{viewer_name} removed <code>Opportunity.Commission_Estimate__c" in removed.text
    assert f"{viewer_name} added <code>Opportunity.Commission_Estimate__c" in removed.text
    shipped = client.post(
        "/admin/mappings/allowlist/remove", data={**form, "field": "User.Quota_Attainment__c"}
    )
    assert shipped.status_code == 422


def test_the_form_is_admin_only_and_csrf_protected(web: Web, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    field = {"field": "Opportunity.Commission_Estimate__c"}
    no_csrf = client.post(
        "/admin/mappings/allowlist/add", data={"qf_token": form["qf_token"], **field}
    )
    assert no_csrf.status_code == 403
    ops = web.ops_token(app=app)
    assert (
        client.post("/admin/mappings/allowlist/add", data={"qf_token": ops, **field}).status_code
        == 403
    )
    with app.app_context(), unit_of_work() as uow:
        assert ("Opportunity", "Commission_Estimate__c") not in allowed_fields(
            uow.session, org_id=web.org_id
        )


def test_cli_import_refuses_the_attack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/q.db")
    monkeypatch.setenv("QUOTAFLOW_SECRET_KEY", "x" * 40)
    assert main(["db", "upgrade"]) == 0
    path = tmp_path / "attack.yaml"
    path.write_text(dump_mapping(edited(ATTACK)))
    capsys.readouterr()
    assert main(["mappings", "import", str(path), "--org", ORG]) == 2
    assert "Opportunity.Description is a standard field" in capsys.readouterr().err
    assert main(["mappings", "validate", str(path)]) == 2


# --- the sync refuses what an old stored mapping still names ------------------------------------


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Org, Any]]:
    with running_org(tmp_path_factory.mktemp("allowlist-sync")) as org:
        descriptions = {
            o["Id"]: o["Description"]
            for o in org.client.query("SELECT Id, Description FROM Opportunity")
        }
        with org.deps.sessions() as session:
            # Stored before the allow-list existed: no check stands between it and the sync.
            import_version(session, org.org_id, edited(ATTACK), by="old", now=NOW)
            session.commit()
        next_second()
        summary = run_sync(org.deps, mode="full")
        yield org, (descriptions, summary)


@pytest.mark.slow
def test_the_sync_never_writes_description(attacked: tuple[Org, Any]) -> None:
    org, (descriptions, summary) = attacked
    after = {
        o["Id"]: o["Description"]
        for o in org.client.query("SELECT Id, Description FROM Opportunity")
    }
    assert after == descriptions
    assert summary.status == "partial"
    assert all(field != "Description" for w in summary.writes for field in w.fields)


@pytest.mark.slow
def test_the_refusal_is_one_open_issue(attacked: tuple[Org, Any]) -> None:
    org, (_descriptions, _summary) = attacked
    with org.deps.sessions() as session:
        issues = list(
            session.scalars(select(RecordIssue).where(RecordIssue.error_code == NOT_ALLOWED))
        )
        assert [(i.object_name, i.field, i.status, i.stage) for i in issues] == [
            ("Opportunity", "Description", "open", "writeback")
        ]
        assert "allow-list" in issues[0].reason
        active = active_version(session, org.org_id)
        assert active is not None and active.created_by == "old"


@pytest.mark.slow
def test_other_write_backs_still_happen(attacked: tuple[Org, Any]) -> None:
    org, (_descriptions, summary) = attacked
    assert summary.written > 0
    written = [
        o
        for o in org.client.query("SELECT Id, Estimated_Commission__c FROM Opportunity")
        if o["Estimated_Commission__c"] is not None
    ]
    assert written
    # Later runs (an incremental one has nothing pending for the field) keep the one issue
    # open while the mapping names the field: no second issue, no resolve-and-reopen.
    for mode in ("full", "incremental"):
        next_second()
        run_sync(org.deps, mode=mode)
        with org.deps.sessions() as session:
            issues = session.scalars(
                select(RecordIssue).where(RecordIssue.error_code == NOT_ALLOWED)
            ).all()
            assert [(i.field, i.status) for i in issues] == [("Description", "open")], mode
