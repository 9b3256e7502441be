"""Salesforce describe JSON (`/sobjects/` and `/sobjects/X/describe`) from the devorg schema."""

from __future__ import annotations

from typing import Any

from devorg.schema import OBJECTS, FieldSpec, ObjectSpec, get_object

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
# Child relationship names Salesforce uses for the standard lookups we model.
CHILD_RELATIONSHIPS = {
    ("Opportunity", "AccountId"): "Opportunities",
    ("OpportunitySplit", "OpportunityId"): "OpportunitySplits",
    ("OpportunityTeamMember", "OpportunityId"): "OpportunityTeamMembers",
    ("OpportunityLineItem", "OpportunityId"): "OpportunityLineItems",
    ("User", "ManagerId"): "ManagedUsers",
    ("Task", "WhatId"): "Tasks",
}


def _sobject_path(base_url: str, api_version: str) -> str:
    """`/services/data/vNN.N/sobjects`, whether or not `base_url` already names the version."""
    base = base_url.rstrip("/")
    if not base.endswith(f"/v{api_version}"):
        base = f"{base}/v{api_version}"
    return f"{base}/sobjects"


def _picklist(field: FieldSpec) -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "defaultValue": value == field.default_value,
            "label": value,
            "validFor": None,
            "value": value,
        }
        for value in field.picklist_values
    ]


def describe_field(field: FieldSpec, *, name_field: bool = False) -> dict[str, Any]:
    """One entry of describe's `fields` array."""
    numeric = field.type in ("currency", "double", "percent")
    text_like = field.type not in _SOAP_TYPES or field.type in ("id", "reference")
    return {
        "aggregatable": field.type not in ("textarea", "boolean"),
        "autoNumber": False,
        "byteLength": field.length * 3 if text_like else 0,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": field.default_value if field.type == "boolean" else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.default_value is not None or not field.createable,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 9 if field.type == "int" else 0,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": field.filterable,
        "groupable": field.type not in ("textarea", "currency", "double", "percent", "datetime"),
        "htmlFormatted": False,
        "idLookup": field.name == "Id" or field.name == "Username",
        "inlineHelpText": None,
        "label": field.label,
        "length": field.length,
        "name": field.name,
        "nameField": name_field,
        "namePointing": False,
        "nillable": field.nillable,
        "permissionable": field.custom,
        "picklistValues": _picklist(field),
        "polymorphicForeignKey": len(field.reference_to) > 1,
        "precision": field.precision if numeric else 0,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted_picklist,
        "scale": field.scale if numeric else 0,
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": field.type != "textarea",
        "type": field.type,
        "unique": field.name in ("Id", "Username"),
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def _child_relationships(obj: ObjectSpec) -> list[dict[str, Any]]:
    out = []
    for child in OBJECTS.values():
        for field in child.fields:
            if obj.name not in field.reference_to:
                continue
            out.append(
                {
                    "cascadeDelete": child.name.startswith("Opportunity")
                    and field.name == "OpportunityId",
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": field.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": CHILD_RELATIONSHIPS.get((child.name, field.name)),
                    "restrictedDelete": False,
                }
            )
    return out


def _urls(obj: ObjectSpec, path: str) -> dict[str, str]:
    base = f"{path}/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "describe": f"{base}/describe",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def _header(obj: ObjectSpec, path: str) -> dict[str, Any]:
    # Profiles, currencies and split types are setup objects: not createable over the API here.
    setup = obj.name in (
        "Profile",
        "CurrencyType",
        "DatedConversionRate",
        "OpportunitySplitType",
        "Organization",
        "RecordType",
    )
    return {
        "activateable": False,
        "createable": not setup,
        "custom": obj.custom,
        "customSetting": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": False,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": not setup,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": not setup or obj.name in ("CurrencyType", "DatedConversionRate"),
        "urls": _urls(obj, path),
    }


def describe_sobject(name: str, *, base_url: str, api_version: str) -> dict[str, Any] | None:
    """`GET /sobjects/{name}/describe` JSON, or None for an unknown object."""
    obj = get_object(name)
    if obj is None:
        return None
    path = _sobject_path(base_url, api_version)
    body = _header(obj, path)
    name_field = "Name" if obj.field("Name") else None
    body["childRelationships"] = _child_relationships(obj)
    body["fields"] = [describe_field(f, name_field=f.name == name_field) for f in obj.fields]
    body["recordTypeInfos"] = []
    body["supportedScopes"] = [{"label": "All " + obj.label_plural.lower(), "name": "everything"}]
    return body


def describe_global(*, base_url: str, api_version: str) -> dict[str, Any]:
    """`GET /sobjects/` JSON."""
    path = _sobject_path(base_url, api_version)
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [_header(obj, path) for obj in OBJECTS.values()],
    }
