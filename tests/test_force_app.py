"""force-app/ is deployable metadata agreeing with the default mapping, devorg and web routes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devorg.schema import CUSTOMER_FIELDS, FieldSpec, get_object
from mappings.compile import compile_mapping
from mappings.defaults import default_mapping

ROOT = Path(__file__).resolve().parent.parent
FORCE_APP = ROOT / "force-app"
DEFAULT = FORCE_APP / "main" / "default"
MD = "http://soap.sforce.com/2006/04/metadata"
N = {"md": MD}
CANVAS_PATH = "/canvas"  # docs/web/index.md: POST /canvas, form field signed_request
APP_NAME = "Quotaflow"
PERMISSION_SETS = {
    "Quotaflow_Integration": "Quotaflow Integration",
    "Quotaflow_Rep": "Quotaflow Rep",
    "Quotaflow_Admin": "Quotaflow Admin",
    "Quotaflow_Ops": "Quotaflow Ops",
}
# ConnectedAppCanvasConfig.locations takes CanvasLocationOptions values (Metadata API).
CANVAS_LOCATIONS = {
    "None", "Chatter", "UserProfile", "Visualforce", "Aura", "Publisher", "ChatterFeed",
    "ServiceDesk", "OpenCTI", "AppLauncher", "MobileNav", "PageLayout",
}  # fmt: skip
# Metadata API field type -> describe type.
DESCRIBE_TYPE = {
    "Percent": "percent",
    "Currency": "currency",
    "Picklist": "picklist",
    "Text": "string",
    "Date": "date",
    "Number": "double",
    "Checkbox": "boolean",
}


@dataclass(frozen=True)
class MetaField:
    """A CustomField of force-app, reduced to what describe reports."""

    object_name: str
    name: str
    type: str
    label: str
    required: bool
    precision: int
    scale: int
    length: int
    values: tuple[str, ...]
    default_value: str | None
    restricted: bool
    description: str
    help_text: str


def _root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def _text(el: ET.Element, tag: str, default: str = "") -> str:
    found = el.find(f"md:{tag}", N)
    return (found.text or "") if found is not None else default


def _texts(el: ET.Element, path: str) -> list[str]:
    return [e.text or "" for e in el.findall(path, N)]


def _meta_field(path: Path) -> MetaField:
    root = _root(path)
    values = root.findall("md:valueSet/md:valueSetDefinition/md:value", N)
    defaults = [_text(v, "fullName") for v in values if _text(v, "default") == "true"]
    return MetaField(
        object_name=path.parent.parent.name,
        name=_text(root, "fullName"),
        type=_text(root, "type"),
        label=_text(root, "label"),
        required=_text(root, "required", "false") == "true",
        precision=int(_text(root, "precision", "0")),
        scale=int(_text(root, "scale", "0")),
        length=int(_text(root, "length", "0")),
        values=tuple(_text(v, "fullName") for v in values),
        default_value=defaults[0] if defaults else None,
        restricted=_text(root, "valueSet/md:restricted", "false") == "true",
        description=_text(root, "description"),
        help_text=_text(root, "inlineHelpText"),
    )


def _all_fields() -> dict[str, MetaField]:
    paths = sorted(DEFAULT.glob("objects/*/fields/*.field-meta.xml"))
    fields = [_meta_field(p) for p in paths]
    return {f"{f.object_name}.{f.name}": f for f in fields}


FIELDS = _all_fields()


def _devorg_field(object_name: str, name: str) -> FieldSpec:
    obj = get_object(object_name)
    assert obj is not None, f"devorg has no {object_name}"
    spec = obj.field(name)
    assert spec is not None, f"devorg's {object_name} has no {name}"
    return spec


def _writeback_targets() -> list[str]:
    return [f"{t.object}.{t.field}" for t in default_mapping().writeback.values()]


def _pulled_custom_fields() -> list[str]:
    compiled = compile_mapping(default_mapping())
    return [
        f"{obj}.{name}"
        for obj in compiled.objects()
        for name in compiled.fields_to_pull(obj)
        if name.endswith("__c") and "." not in name
    ]


def _permission_set(name: str) -> ET.Element:
    return _root(DEFAULT / "permissionsets" / f"{name}.permissionset-meta.xml")


def _field_permissions(ps: ET.Element) -> dict[str, tuple[bool, bool]]:
    return {
        _text(fp, "field"): (_text(fp, "readable") == "true", _text(fp, "editable") == "true")
        for fp in ps.findall("md:fieldPermissions", N)
    }


def _connected_app() -> ET.Element:
    return _root(DEFAULT / "connectedApps" / f"{APP_NAME}.connectedApp-meta.xml")


def test_every_xml_file_parses_in_the_metadata_namespace() -> None:
    paths = sorted(FORCE_APP.rglob("*.xml"))
    assert len(paths) >= 20
    for path in paths:
        root = _root(path)
        assert root.tag.startswith(f"{{{MD}}}"), f"{path.relative_to(ROOT)}: {root.tag}"


def test_sfdx_project_points_at_force_app() -> None:
    project = json.loads((ROOT / "sfdx-project.json").read_text())
    assert [d["path"] for d in project["packageDirectories"]] == ["force-app"]
    assert Decimal(project["sourceApiVersion"]) >= Decimal("62.0")
    for replacement in project.get("replacements", []):
        assert (ROOT / replacement["filename"]).is_file()
        assert replacement["stringToReplace"] in (ROOT / replacement["filename"]).read_text()


@pytest.mark.parametrize("target", _writeback_targets())
def test_every_writeback_target_exists_with_the_issue_type(target: str) -> None:
    expected = {
        "User.Quota_Attainment__c": "Percent",
        "User.Earnings_To_Date__c": "Currency",
        "Opportunity.Estimated_Commission__c": "Currency",
        "Opportunity.SPIFF_Status__c": "Picklist",
    }
    assert target in FIELDS, f"{target} is a write-back target but not in force-app"
    assert FIELDS[target].type == expected[target]
    assert FIELDS[target].description and FIELDS[target].help_text
    assert len(FIELDS[target].help_text) <= 510  # Salesforce's inlineHelpText limit


def test_spiff_status_is_restricted_to_the_contract_values() -> None:
    spiff = FIELDS["Opportunity.SPIFF_Status__c"]
    assert spiff.restricted
    assert spiff.values == ("Not Eligible", "Eligible", "Qualified", "Paid")


def test_every_custom_field_the_default_mapping_reads_is_deployed() -> None:
    missing = [name for name in _pulled_custom_fields() if name not in FIELDS]
    assert not missing


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_force_app_and_devorg_describe_agree(key: str) -> None:
    meta = FIELDS[key]
    spec = _devorg_field(meta.object_name, meta.name)
    assert spec.custom
    assert DESCRIBE_TYPE[meta.type] == spec.type
    assert meta.label == spec.label
    assert (meta.precision, meta.scale) == (spec.precision, spec.scale)
    assert meta.required is not spec.nillable
    assert meta.values == spec.picklist_values
    assert meta.restricted is spec.restricted_picklist
    assert meta.default_value == spec.default_value
    if meta.type == "Text":
        assert meta.length == spec.length


@pytest.mark.parametrize("object_name", ["User", "Opportunity"])
def test_devorg_has_no_custom_field_missing_from_force_app(object_name: str) -> None:
    obj = get_object(object_name)
    assert obj is not None
    devorg = {f"{object_name}.{f.name}" for f in obj.fields if f.custom} - CUSTOMER_FIELDS
    deployed = {key for key in FIELDS if key.startswith(f"{object_name}.")}
    assert devorg == deployed


def test_customer_fields_are_not_granted_to_the_integration_user() -> None:
    granted = set(_field_permissions(_permission_set("Quotaflow_Integration")))
    assert "Opportunity.Amount" in granted
    assert CUSTOMER_FIELDS
    assert not CUSTOMER_FIELDS & granted


def test_integration_permission_set_edits_only_the_writeback_fields() -> None:
    ps = _permission_set("Quotaflow_Integration")
    perms = _field_permissions(ps)
    editable = {name for name, (_, edit) in perms.items() if edit}
    assert editable == set(_writeback_targets())
    unreadable = [name for name in FIELDS if not perms.get(name, (False, False))[0]]
    assert not unreadable
    user_perms = set(_texts(ps, "md:userPermissions[md:enabled='true']/md:name"))
    # ApiEnabled for the API; ViewAllUsers to read every User; Salesforce lets only holders of
    # Manage Internal Users update other users' records (FLS keeps that to the write-back fields).
    assert {"ApiEnabled", "ViewAllUsers", "ManageInternalUsers"} <= user_perms
    assert "ModifyAllData" not in user_perms and "ViewAllData" not in user_perms


def test_integration_permission_set_reads_the_synced_objects() -> None:
    objects = {
        _text(op, "object"): op
        for op in _permission_set("Quotaflow_Integration").iterfind("md:objectPermissions", N)
    }
    # OpportunitySplit and OpportunityTeamMember have no object permissions of their own: their
    # access follows the parent Opportunity, so View All on Opportunity reads every one of them.
    assert set(objects) == {"Account", "Opportunity"}
    for name, op in objects.items():
        assert _text(op, "allowRead") == "true" and _text(op, "viewAllRecords") == "true"
        for flag in ("allowCreate", "allowDelete", "modifyAllRecords"):
            assert _text(op, flag) == "false", f"{name}.{flag}"
    # Writing the two Opportunity fields needs object-level edit; Account is read only.
    assert _text(objects["Opportunity"], "allowEdit") == "true"
    assert _text(objects["Account"], "allowEdit") == "false"


@pytest.mark.parametrize("name", ["Quotaflow_Rep", "Quotaflow_Admin", "Quotaflow_Ops"])
def test_people_permission_sets_read_every_field_and_edit_none(name: str) -> None:
    ps = _permission_set(name)
    perms = _field_permissions(ps)
    assert set(perms) == set(FIELDS)
    assert all(read and not edit for read, edit in perms.values())
    assert not ps.findall("md:objectPermissions", N) and not ps.findall("md:userPermissions", N)
    assert _texts(ps, "md:pageAccesses/md:apexPage") == ["QuotaflowOpportunity"]


def test_permission_set_labels_and_connected_app_access() -> None:
    for name, label in PERMISSION_SETS.items():
        assert _text(_permission_set(name), "label") == label
    app = _connected_app()
    assert set(_texts(app, "md:permissionSetName")) == set(PERMISSION_SETS)
    # "Admin approved users are pre-authorized": only holders of those permission sets get in.
    assert _text(app, "oauthConfig/md:isAdminApproved") == "true"


def test_connected_app_canvas_and_jwt_settings() -> None:
    app = _connected_app()
    canvas = app.find("md:canvasConfig", N)
    assert canvas is not None
    assert _text(canvas, "accessMethod") == "Post"  # Signed Request (POST)
    url = urlsplit(_text(canvas, "canvasUrl"))
    assert (url.scheme, url.path) == ("https", CANVAS_PATH)
    locations = set(_texts(canvas, "md:locations"))
    assert locations <= CANVAS_LOCATIONS
    assert {"Aura", "Visualforce", "PageLayout"} <= locations
    oauth = app.find("md:oauthConfig", N)
    assert oauth is not None
    assert _text(oauth, "certificate"), "JWT bearer needs the certificate"
    assert "Api" in _texts(oauth, "md:scopes")


def test_visualforce_page_and_aura_component_pass_the_record_id() -> None:
    page = (DEFAULT / "pages" / "QuotaflowOpportunity.page").read_text()
    assert f'developerName="{APP_NAME}"' in page
    assert 'standardController="Opportunity"' in page
    assert "'recordId':'{!Opportunity.Id}'" in page
    bundle = DEFAULT / "aura" / "QuotaflowCanvas"
    cmp = (bundle / "QuotaflowCanvas.cmp").read_text()
    for interface in (
        "force:hasRecordId",
        "force:hasSObjectName",
        "flexipage:availableForAllPageTypes",
        "lightning:utilityItem",
    ):
        assert interface in cmp
    assert f'<force:canvasApp developerName="{APP_NAME}"' in cmp
    assert 'parameters="{!v.parameters}"' in cmp
    assert "recordId:" in (bundle / "QuotaflowCanvasController.js").read_text()


def test_webapp_serves_the_canvas_url_path() -> None:
    from connector.settings import load_settings
    from webapp import create_app

    settings = load_settings(
        {
            "QUOTAFLOW_SECRET_KEY": "x0123456789abcdef0123456789abcdef",
            "QUOTAFLOW_DATABASE_URL": "sqlite://",
        }
    )
    app = create_app(settings)
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule == CANVAS_PATH
        for method in rule.methods or ()
    }
    assert "POST" in methods
