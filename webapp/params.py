"""Numbers and periods from requests: ASCII digits only, within what the database holds.

`str.isdigit()` is true for '²' and '٣', which `int()` then refuses or reads as a number
nobody typed; a 30-digit id overflows SQLite's and PostgreSQL's integers inside the driver.
Every route reads its numbers through here, so a bad one is a 400 (query or form field) or
a 404 (path segment) that names the parameter, never a 500.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter, Map, Rule, ValidationError

from webapp.auth.guard import Refused

MAX_INT = 2**31 - 1  # PostgreSQL INTEGER, the narrowest column any id or count lands in
# [0-9], not \d: \d also matches other scripts' digits, which no period name holds.
PERIOD_PATTERN = r"[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?"
_PERIOD = re.compile(PERIOD_PATTERN)
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
_SHOWN = 40  # how much of a bad value a refusal echoes


class NumberRefused(Refused):
    """A number parameter we cannot use; the message names it and its allowed range."""


def _range_text(field: str, low: int, high: int) -> str:
    return f"{field} must be a whole number from {low} to {high}"


def parse_int(raw: str, *, field: str, low: int = 1, high: int = MAX_INT) -> int:
    """`raw` as an int in [low, high] if it is 1-10 ASCII digits, else a 400 naming `field`."""
    if _ASCII_DIGITS.fullmatch(raw) is None or not low <= int(raw) <= high:
        shown = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…"
        raise NumberRefused(400, f"{_range_text(field, low, high)}, got {shown!r}")
    return int(raw)


def query_int(name: str, *, default: int, low: int = 1, high: int = MAX_INT) -> int:
    """The query-string or form number `name` (`default` when absent or empty)."""
    raw = request.values.get(name, "")
    return default if raw == "" else parse_int(raw, field=name, low=low, high=high)


def optional_int(name: str, *, low: int = 1, high: int = MAX_INT) -> int | None:
    """The query-string or form number `name`, or None when absent or empty."""
    raw = request.values.get(name, "")
    return None if raw == "" else parse_int(raw, field=name, low=low, high=high)


def form_ints(name: str, *, low: int = 1, high: int = MAX_INT) -> list[int]:
    """Every value of the repeated form field `name`, each a number in range."""
    return [parse_int(raw, field=name, low=low, high=high) for raw in request.form.getlist(name)]


def period_given() -> bool:
    """Whether the request names a `period` (query or form), valid or not."""
    return bool((request.values.get("period") or "").strip())


def period_param() -> str | None:
    """The `period` parameter (query or form), validated; None when not given."""
    raw = (request.values.get("period") or "").strip()
    if not raw:
        return None
    if not _PERIOD.fullmatch(raw):
        raise Refused(
            400, "Parameter 'period' must be a period name like 2026-Q1, 2026-01 or 2026."
        )
    return raw


class BoundedIntConverter(BaseConverter):
    """`<int:name>` in a route: 1..MAX_INT in ASCII digits, anything else a 404 naming it.

    Any segment reaches `to_python`: one made of digits (Unicode look-alikes such as '²'
    included) that is not a usable id is answered by name; anything else is no match, so
    the router still answers 405 for a static sibling such as `/runs/resync`.
    """

    regex = r"[^/]+"
    weight = 50
    part_isolating = True

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.field = "id"

    def to_python(self, value: str) -> int:
        """The number, or a 404 naming the path parameter."""
        if not value.isdigit():
            raise ValidationError()
        if _ASCII_DIGITS.fullmatch(value) is None or not 1 <= int(value) <= MAX_INT:
            raise NotFound(f"{_range_text(self.field, 1, MAX_INT)} in the address.")
        return int(value)

    def to_url(self, value: Any) -> str:
        """The number as ASCII digits."""
        return str(int(value))


class _NamingRule(Rule):
    """A rule that tells its number converters which parameter they parse."""

    def get_converter(
        self,
        variable_name: str,
        converter_name: str,
        args: tuple[Any, ...],
        kwargs: Any,
    ) -> BaseConverter:
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        if isinstance(converter, BoundedIntConverter):
            converter.field = variable_name
        return converter


def init_params(app: Flask) -> None:
    """Make every `<int:...>` route parameter bounded and ASCII-only (before routes exist)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_rule_class = _NamingRule
