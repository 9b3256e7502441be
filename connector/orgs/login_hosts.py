"""Which login hosts `/connect` may send an admin to, and which instance URLs it accepts back.

The login host comes from a fixed list, never from a URL a request names: production
(`login.salesforce.com`), sandbox (`test.salesforce.com`), a My Domain host (`*.my.salesforce.com`,
sandboxes included: `acme--uat.sandbox.my.salesforce.com`), or an origin the operator allow-listed
in `QUOTAFLOW_CONNECT_LOGIN_URLS` (the devorg in tests and the demo).
"""

from __future__ import annotations

import re

from connector.salesforce.origins import https_origin

PRODUCTION = "https://login.salesforce.com"
SANDBOX = "https://test.salesforce.com"
MY_DOMAIN_SUFFIX = ".my.salesforce.com"
# Labels of letters, digits and hyphens (a sandbox's `name--sandbox` has two in a row).
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Where Salesforce puts org instances: My Domain, legacy pods, Visualforce/Experience hosts.
INSTANCE_SUFFIXES = (".salesforce.com", ".force.com")


class LoginHostRefused(ValueError):
    """A login host choice outside the rule."""


def my_domain_origin(text: str) -> str:
    """`https://<name>.my.salesforce.com` for a My Domain name or host; LoginHostRefused if the
    text is anything else (another domain, a path, a port, credentials)."""
    raw = text.strip().lower()
    if raw.startswith("https://"):
        origin = https_origin(raw)
        if origin is None or origin.count(":") > 1:
            raise LoginHostRefused(f"not a My Domain URL: {text!r}")
        raw = origin.removeprefix("https://")
        if not raw.endswith(MY_DOMAIN_SUFFIX):
            raise LoginHostRefused(f"not a My Domain URL: {text!r}")
    if not raw.endswith(MY_DOMAIN_SUFFIX):
        raw += MY_DOMAIN_SUFFIX
    labels = raw.removesuffix(MY_DOMAIN_SUFFIX).split(".")
    if len(raw) > 253 or not all(_LABEL.match(label) for label in labels):
        raise LoginHostRefused(
            f"a My Domain host is NAME.my.salesforce.com (letters, digits, hyphens), got {text!r}"
        )
    return f"https://{raw}"


def login_origin(choice: str, *, my_domain: str = "", extra: tuple[str, ...] = ()) -> str:
    """The login origin for a form choice: `production`, `sandbox`, `mydomain` (with the My
    Domain name) or one of the allow-listed `extra` origins, named exactly."""
    if choice == "production":
        return PRODUCTION
    if choice == "sandbox":
        return SANDBOX
    if choice == "mydomain":
        return my_domain_origin(my_domain)
    if choice in extra:
        return choice
    raise LoginHostRefused(f"unknown login host choice {choice!r}")


def allowed_login_origin(url: str, *, extra: tuple[str, ...] = ()) -> bool:
    """Whether a stored login URL is still one the rule allows (checked before every use)."""
    origin = https_origin(url)
    if origin is None:
        return False
    if origin in (PRODUCTION, SANDBOX) or origin in extra:
        return True
    try:
        return my_domain_origin(origin) == origin
    except LoginHostRefused:
        return False


def instance_origin(url: object, *, extra: tuple[str, ...] = ()) -> str | None:
    """The https origin of an instance URL from a token response, if it is a Salesforce host
    (or an allow-listed origin); None otherwise."""
    origin = https_origin(url)
    if origin is None:
        return None
    if origin in extra:
        return origin
    host = origin.removeprefix("https://")
    if ":" in host or not host.endswith(INSTANCE_SUFFIXES):
        return None
    return origin
