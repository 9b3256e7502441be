"""Salesforce API names (objects, fields, relationships), checked by their syntax alone.

A name in a mapping ends up in a REST path (`sobjects/<name>/describe`) and in SOQL, so it is
checked before any network call: `Opportunity ` or `Opportunity/../../limits` is a mistake in
the document, not an org that cannot be reached.

Salesforce's rules for a developer name: letters, digits and underscores, starting with a
letter, no two underscores in a row, not ending in an underscore. Custom and managed names add
double-underscore parts: an optional namespace prefix (`SBQQ__Quote__c`), a compound-field
component (`Location__Latitude__s`) and a suffix saying what the name is (`__c` custom field or
object, `__r` relationship, `__mdt` custom metadata, `__e` platform event, ...).
"""

from __future__ import annotations

import re

MAX_LENGTH = 80  # 40-character names plus a 15-character namespace and a suffix fit well within
_PART = r"[A-Za-z](?:[A-Za-z0-9]|_(?=[A-Za-z0-9]))*"
_SUFFIX = r"(?i:c|r|s|e|b|x|mdt|pc|pr|kav|ka|xo|hd|chn|dlm|Share|History|Feed|ChangeEvent|Tag)"
API_NAME = re.compile(rf"{_PART}|(?:{_PART}__){{0,2}}{_PART}__{_SUFFIX}")
MAX_PATH_PARTS = 6  # SOQL follows at most five parent relationships
RULES = (
    "letters, digits and single underscores, starting with a letter; "
    "custom names end in a suffix such as __c"
)


def api_name_problem(name: str, *, what: str = "API name") -> str | None:
    """Why `name` is not a Salesforce API name, or None if it is one."""
    if not isinstance(name, str) or not name:
        return f"give a Salesforce {what}"
    if len(name) > MAX_LENGTH:
        return f"{name[:MAX_LENGTH]!r}... is longer than {MAX_LENGTH} characters"
    if not API_NAME.fullmatch(name):
        return f"{name!r} is not a Salesforce {what} ({RULES})"
    return None


def path_problem(path: str) -> str | None:
    """Why `path` is not a field name or parent path like `Account.Industry`, or None."""
    parts = path.split(".") if isinstance(path, str) else []
    if not 1 <= len(parts) <= MAX_PATH_PARTS or any(
        api_name_problem(part) is not None for part in parts
    ):
        return (
            f"{path!r} is not a field API name or parent path like Account.Industry "
            f"(each part {RULES}; at most {MAX_PATH_PARTS - 1} relationships)"
        )
    return None
