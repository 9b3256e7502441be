"""MkDocs hook: the reference tables, generated from the code at build time so they cannot drift.

A page asks for a table with a marker line, e.g. `<!-- generated: cli -->`; an unknown marker
fails the build. Generated from:
- `cli`: the `quotaflow` argparse parser (`webapp.cli.build_parser`), every command and option;
- `transforms`: the transform registry (`mappings.transforms.TRANSFORMS`), one row per op;
- `criteria`: the criterion operator models (`calc.criteria.OPERATORS`), with the text the
  rep views show for each and the value each takes;
- `settings`: the environment variables `connector.settings` reads (`VARIABLES`).
"""

from __future__ import annotations

import argparse
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

MARKER = re.compile(r"^<!-- generated: ([a-z_]+) -->$", re.M)


# --- helpers --------------------------------------------------------------------------------


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _code(text: object) -> str:
    return f"`{text}`" if str(text) else ""


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_PLAIN_NAMES: dict[Any, str] = {
    str: "text",
    bool: "true/false",
    int: "whole number",
    Decimal: "number",
    date: "date",
}


def _type_name(annotation: Any) -> str:
    """A reader's name for a pydantic field type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        if len(names) > 3:
            return "a value"
        return " or ".join(dict.fromkeys(names))
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}" if args else "map"
    if annotation is Any:
        return "any value"
    return _PLAIN_NAMES.get(annotation) or str(getattr(annotation, "__name__", annotation))


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models inside a (possibly annotated, listed or union) type."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _literal_values(annotation: Any) -> tuple[str, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    found: list[str] = []
    for arg in typing.get_args(annotation):
        found += _literal_values(arg)
    return tuple(found)


def _doc(obj: object) -> str:
    return " ".join((obj.__doc__ or "").split())


# --- the command line -----------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def cli_commands() -> list[tuple[str, str, argparse.ArgumentParser]]:
    """Every runnable command as (`quotaflow plans import`, its help, its parser)."""
    from webapp.cli import build_parser

    found: list[tuple[str, str, argparse.ArgumentParser]] = []

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        for name, help_text, sub in _subcommands(parser):
            full = f"{prefix} {name}"
            if _subcommands(sub):
                walk(full, sub)
            else:
                found.append((full, help_text, sub))

    walk("quotaflow", build_parser())
    return found


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return " ".join(formatter.format_help().split())


def _option_row(action: argparse.Action) -> tuple[str, ...]:
    if action.option_strings:
        names = ", ".join(_code(o) for o in action.option_strings)
    else:
        names = _code(action.metavar or action.dest)
    takes = ""
    if action.choices:
        takes = " / ".join(_code(c) for c in action.choices)
    elif action.nargs != 0 and action.option_strings:
        takes = _code(action.metavar or action.dest.upper())
    default = action.default
    if action.required or not action.option_strings:
        shown_default = "required"
    elif default in (None, False, argparse.SUPPRESS):
        shown_default = ""
    else:
        shown_default = _code(default)
    return names, takes, shown_default, action.help or ""


def cli_reference() -> str:
    """One section per command: what it does, its usage line, and a table of its options."""
    commands = cli_commands()
    summary = _table(("command", "what it does"), [(_code(f), h) for f, h, _ in commands])
    parts = [summary]
    for full, help_text, parser in commands:
        rows = [
            _option_row(a)
            for a in parser._actions
            if not isinstance(a, argparse._HelpAction) and a.help != argparse.SUPPRESS
        ]
        section = [f"### `{full}`", "", (help_text[:1].upper() + help_text[1:]).rstrip(".") + "."]
        section += ["", "```", _usage(parser), "```"]
        if rows:
            section += ["", _table(("argument", "value", "default", "meaning"), rows)]
        parts.append("\n".join(section))
    return "\n\n".join(parts)


# --- mapping transforms ---------------------------------------------------------------------


def transform_models() -> list[type[BaseModel]]:
    """The transform models a mapping field's `transforms` list accepts."""
    from mappings.schema import FieldSpec

    return list(dict.fromkeys(_models(FieldSpec.model_fields["transforms"].annotation)))


def transform_names() -> list[str]:
    """Every transform name (`op`), in the registry's order (`mappings.transforms.TRANSFORMS`)."""
    from mappings.transforms import TRANSFORMS

    return list(TRANSFORMS)


def _parameter(name: str, field: Any) -> str:
    kind = _type_name(field.annotation)
    if field.default is PydanticUndefined and field.default_factory is None:
        return f"`{name}` ({kind}, required)"
    if field.default is None:
        return f"`{name}` ({kind})"
    return f"`{name}` ({kind}, default `{field.default}`)"


def _kinds(kinds: frozenset[str]) -> str:
    from mappings.transforms import ANY_KIND

    return "any value" if kinds == ANY_KIND else ", ".join(sorted(kinds))


def transforms_reference() -> str:
    """A table from the transform registry: name, parameters, what it takes, what it does."""
    from mappings.transforms import TRANSFORMS

    rows = []
    for op, record in TRANSFORMS.items():
        fields = record.model.model_fields.items()
        params = "; ".join(_parameter(n, f) for n, f in fields if n != "op")
        rows.append((_code(op), params or "none", _kinds(record.accepts), record.display))
    return _table(("transform", "parameters", "takes", "what it does"), rows)


# --- plan criteria --------------------------------------------------------------------------


def criterion_operators() -> list[str]:
    """Every operator (`op`) a plan criterion accepts (`calc.criteria.OPERATORS`)."""
    from calc.criteria import CRITERION_OPS

    return list(CRITERION_OPS)


def criteria_reference() -> str:
    """A table from the operator models: operator, how the rep views show it, its value."""
    from calc.criteria import OPERATORS

    rows = [(_code(m.op_name()), _code(m.display), m.takes, _doc(m)) for m in OPERATORS]
    return _table(("op", "shown to reps as", "value", "matches when"), rows)


# --- settings -------------------------------------------------------------------------------


def settings_reference() -> str:
    """A table of every environment variable Quotaflow reads."""
    from connector.settings import VARIABLES

    return _table(
        ("variable", "meaning", "default"),
        [(_code(v.name), v.meaning, v.default) for v in VARIABLES],
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "transforms": transforms_reference,
    "criteria": criteria_reference,
    "settings": settings_reference,
}


def render(markdown: str) -> str:
    """`markdown` with every marker replaced by its generated table."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated table {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(one, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: fill the generated tables of a page."""
    return render(markdown)
