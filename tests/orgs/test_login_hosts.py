"""The login host rule of /connect and the instance URLs accepted back (table-driven)."""

from __future__ import annotations

import pytest

from connector.orgs.login_hosts import (
    LoginHostRefused,
    allowed_login_origin,
    instance_origin,
    login_origin,
)

DEVORG = "https://127.0.0.1:8443"


@pytest.mark.parametrize(
    ("choice", "my_domain", "expected"),
    [
        ("production", "", "https://login.salesforce.com"),
        ("sandbox", "ignored", "https://test.salesforce.com"),
        ("mydomain", "acme", "https://acme.my.salesforce.com"),
        ("mydomain", "ACME.my.salesforce.com", "https://acme.my.salesforce.com"),
        ("mydomain", "https://acme.my.salesforce.com/", "https://acme.my.salesforce.com"),
        ("mydomain", "acme--uat.sandbox", "https://acme--uat.sandbox.my.salesforce.com"),
        (DEVORG, "", DEVORG),
    ],
)
def test_allowed_choices(choice: str, my_domain: str, expected: str) -> None:
    assert login_origin(choice, my_domain=my_domain, extra=(DEVORG,)) == expected
    assert allowed_login_origin(expected, extra=(DEVORG,))


@pytest.mark.parametrize(
    ("choice", "my_domain"),
    [
        ("https://login.salesforce.com.evil.example", ""),
        ("https://127.0.0.1:9999", ""),  # not the allow-listed port
        ("mydomain", ""),
        ("mydomain", "-acme"),
        ("mydomain", "acme_corp"),
        ("mydomain", "http://acme.my.salesforce.com"),
        ("mydomain", "https://acme.my.salesforce.com:444"),
        ("mydomain", "https://acme.my.salesforce.com/path"),
        ("mydomain", "https://acme.my.salesforce.com?x=1"),
        ("mydomain", "https://a:b@acme.my.salesforce.com"),
        ("mydomain", "https://evil.example"),
        ("mydomain", "acmé"),
        ("mydomain", "a" * 300),
    ],
)
def test_refused_choices(choice: str, my_domain: str) -> None:
    with pytest.raises(LoginHostRefused):
        login_origin(choice, my_domain=my_domain, extra=(DEVORG,))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com"),
        ("https://na1.salesforce.com/", "https://na1.salesforce.com"),
        (DEVORG, DEVORG),
        ("https://evil.example", None),
        ("https://salesforce.com.evil.example", None),
        ("http://acme.my.salesforce.com", None),
        ("https://acme.my.salesforce.com:8443", None),
        ("https://acme.my.salesforce.com/x", None),
        (None, None),
        (42, None),
    ],
)
def test_instance_origins(url: object, expected: str | None) -> None:
    assert instance_origin(url, extra=(DEVORG,)) == expected


def test_stored_login_urls_are_checked_again() -> None:
    assert not allowed_login_origin("https://evil.example")
    assert not allowed_login_origin(DEVORG)  # no longer allow-listed
