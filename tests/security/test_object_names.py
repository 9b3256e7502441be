"""A malformed object or field name in a mapping is an error on its own path (`deal.object`),
found before any network call; nothing is stored. Before, `"Opportunity "` and
`Opportunity/../../limits` validated as "org unreachable", activated, and broke every sync."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from connector.store.mapping_versions import list_versions
from mappings.api_names import api_name_problem
from mappings.defaults import default_mapping
from mappings.errors import MappingError
from mappings.loader import document_from_data, document_to_data, dump_mapping
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web  # the synced demo org and its app (fixture `web`)
from webapp.cli import main

MALFORMED = [
    "Opportunity ",
    " Opportunity",
    "Opportunity/../../limits",
    "Opportunity\n",
    "Opp ortunity",
    "1Opportunity",
    "_Opportunity",
    "Opportunity_",
    "Opportunity__",
    "My__Weird__Name",  # double underscores without a suffix
    "A__B__C__D__c",  # more double-underscore parts than namespace + name + component
    "Ｏpportunity",  # a full-width letter
    "Opportunity;DELETE",
    "Opportunity%2F..%2Flimits",
    "",
    "O" * 81,
]
WELL_FORMED = [
    "Opportunity",
    "OpportunityTeamMember",
    "Comp_Plan__c",
    "SBQQ__Quote__c",
    "Location__Latitude__s",
    "Account__r",
    "Deal_Registration__mdt",
    "Foo__C",  # Salesforce reads API names in any case
]


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_names_are_refused(name: str) -> None:
    assert api_name_problem(name) is not None


@pytest.mark.parametrize("name", WELL_FORMED)
def test_well_formed_names_pass(name: str) -> None:
    assert api_name_problem(name) is None


def _problems(changes: dict[str, Any]) -> list[str]:
    data = document_to_data(default_mapping())
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    with pytest.raises(MappingError) as caught:
        document_from_data(data)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", ["Opportunity ", "Opportunity/../../limits"])
def test_the_object_name_is_reported_on_deal_object(name: str) -> None:
    found = _problems({"deal.object": name})
    assert len(found) == 1
    assert found[0].startswith(f"deal.object: {name!r} is not a Salesforce object API name")


@pytest.mark.parametrize(
    ("path", "value", "reported_on"),
    [
        ("rep.object", "User/describe", "rep.object"),
        ("deal.fields.amount", "Amount ", "deal.fields.amount.source"),
        ("deal.fields.amount", "Account..Name", "deal.fields.amount.source"),
        ("deal.fields.amount", "A.B.C.D.E.F.G", "deal.fields.amount.source"),
        ("deal.won", {"field": "IsWon\n"}, "deal.won.field"),
        ("writeback.deal_commission", {"object": "Opportunity", "field": "Estimated Commission"},
         "writeback.deal_commission.field"),
        ("writeback.deal_commission", {"object": "Opportunity/x", "field": "X__c"},
         "writeback.deal_commission.object"),
        ("deal.fields.currency", {"transforms": [{"op": "coalesce", "sources": ["Currency Iso"]}]},
         "deal.fields.currency.transforms.0.sources"),
        ("deal.fields.amount", {"source": "Amount", "transforms": [
            {"op": "convert_currency", "currency_field": "CurrencyIsoCode/.."}]},
         "deal.fields.amount.transforms.0.currency_field"),
    ],
)  # fmt: skip
def test_every_name_in_the_document_is_checked_on_its_path(
    path: str, value: Any, reported_on: str
) -> None:
    found = _problems({path: value})
    assert any(p.startswith(f"{reported_on}: ") for p in found), found


# --- over HTTP and the command line: nothing stored, no call to the org --------------------------


@pytest.fixture
def admin(web: Web, tmp_path: Path) -> tuple[Flask, dict[str, str]]:
    app = web.fresh(tmp_path)
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/mappings", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return app, {"qf_token": token, "qf_csrf": csrf.group(1)}


def _calls(web: Web) -> dict[str, int]:
    http = requests.Session()
    http.trust_env = False
    stats = http.get(f"{web.info.instance_url}/__devorg/stats", verify=web.info.ca_cert).json()
    return dict(stats["by_kind"])


@pytest.mark.parametrize("name", ["Opportunity ", "Opportunity/../../limits"])
def test_saving_a_malformed_object_stores_nothing_and_calls_nothing(
    web: Web,
    admin: tuple[Flask, dict[str, str]],
    name: str,
) -> None:
    app, form = admin
    text = dump_mapping(default_mapping()).replace("object: Opportunity\n", f"object: {name!r}\n")
    assert repr(name) in text
    with app.app_context(), unit_of_work() as uow:
        before = len(list_versions(uow.session, web.org_id))
    calls = _calls(web)
    response = app.test_client().post(
        "/admin/mappings/save", data={**form, "mode": "yaml", "document": text}
    )
    assert response.status_code == 422
    assert "deal.object" in response.text
    assert "could not be reached" not in response.text
    with app.app_context(), unit_of_work() as uow:
        assert len(list_versions(uow.session, web.org_id)) == before
    assert _calls(web) == calls


def test_the_api_reports_the_path(web: Web) -> None:
    headers = {"Authorization": f"Bearer {web.admin_token()}"}
    document = web.client().get("/api/v1/mappings/active", headers=headers).get_json()["document"]
    document["deal"]["object"] = "Opportunity/../../limits"
    body = (
        web.client()
        .post("/api/v1/mappings/validate", headers=headers, json={"document": document})
        .get_json()
    )
    assert body["valid"] is False and body["notice"] is None
    assert [e["path"] for e in body["errors"]] == ["deal.object"]


def test_the_cli_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        dump_mapping(default_mapping()).replace("object: Opportunity\n", "object: 'Opportunity '\n")
    )
    assert main(["mappings", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}: deal.object: 'Opportunity '" in err[0]
