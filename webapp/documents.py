"""The HTTP boundary around admin-uploaded documents (mappings, plans, API bodies).

The loaders report what they understand as problems by path. What escapes them is a
document the YAML or JSON reader itself could not build: a scalar its constructor refuses
(`2026-02-30` as a date, `!!int 0x`), or nesting deeper than the reader's recursion. Those
are the uploader's mistake, so they are a 422 naming the form field or body, logged as a
warning with the traceback so that a real bug hiding behind a ValueError stays visible.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import yaml

from webapp.auth.guard import Refused

log = logging.getLogger(__name__)
_SHOWN = 120  # how much of the reader's complaint a refusal repeats


def unreadable(field: str, exc: BaseException) -> Refused:
    """The 422 for a document in `field` that the reader could not build."""
    if isinstance(exc, RecursionError):
        return Refused(422, f"{field} is nested too deeply to read")
    problem = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    return Refused(422, f"{field} is not readable YAML or JSON{where}: {problem[:_SHOWN]}")


@contextmanager
def reading(field: str) -> Iterator[None]:
    """Turn a document in `field` that cannot be constructed into a 422 naming `field`."""
    try:
        yield
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        log.warning("refused an unreadable document in %s", field, exc_info=True)
        raise unreadable(field, exc) from None
