"""The mappings API: the active version, and validation with errors by path (admin only)."""

from __future__ import annotations

from typing import Any

from mappings.defaults import default_mapping
from mappings.loader import dump_mapping


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_active_mapping(web: Any) -> None:
    response = web.client().get("/api/v1/mappings/active", headers=_headers(web.admin_token()))
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 1 and len(body["checksum"]) == 64 and body["activated_at"]
    assert body["document"]["deal"]["fields"]["amount"]["source"] == "Amount"


def test_validate_text_and_object(web: Any) -> None:
    client, headers = web.client(), _headers(web.admin_token())
    text = dump_mapping(default_mapping())
    ok = client.post("/api/v1/mappings/validate", headers=headers, json={"document": text})
    assert ok.status_code == 200
    assert ok.get_json()["valid"] is True and ok.get_json()["against_org"] is True
    bad = client.get("/api/v1/mappings/active", headers=headers).get_json()["document"]
    bad["deal"]["fields"]["amount"]["source"] = "Amount_Typo__c"
    result = client.post("/api/v1/mappings/validate", headers=headers, json={"document": bad})
    body = result.get_json()
    assert body["valid"] is False
    assert [e["path"] for e in body["errors"]] == ["deal.fields.amount.source"]
    as_object = client.post(
        "/api/v1/mappings/validate", headers=headers, json={"format": 1, "rep": {"object": "User"}}
    ).get_json()
    assert as_object["valid"] is False
    assert any(e["path"].startswith("rep.fields") for e in as_object["errors"])


def test_a_body_that_is_not_json_or_yaml_is_a_400(web: Any) -> None:
    client, headers = web.client(), _headers(web.admin_token())
    response = client.post(
        "/api/v1/mappings/validate",
        headers=headers,
        data="{bad: [",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "not JSON or YAML" in response.get_json()["error"]
    empty = client.post("/api/v1/mappings/validate", headers=headers, data="")
    assert empty.status_code == 400 and "empty" in empty.get_json()["error"]
    listed = client.post("/api/v1/mappings/validate", headers=headers, json=[1, 2])
    assert listed.status_code == 400


def test_without_a_session_401(web: Any) -> None:
    assert web.client().get("/api/v1/mappings/active").status_code == 401
