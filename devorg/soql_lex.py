"""SOQL tokens, errors and literal decoding for the devorg's query compiler."""

from __future__ import annotations

import re
from dataclasses import dataclass


class SoqlError(Exception):
    """A query Salesforce would reject, with its REST error code."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Token:
    """One lexical token: kind, source text and offset in the query."""

    kind: str  # ident | string | number | date | datetime | dateliteral | op | ( | ) | , | eof
    text: str
    pos: int

    @property
    def word(self) -> str:
        """The lower-cased text of an identifier (keywords are case-insensitive)."""
        return self.text.lower() if self.kind == "ident" else ""


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<dateliteral>[A-Za-z_]+:-?\d+)
  | (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE | re.DOTALL | re.ASCII,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens; MALFORMED_QUERY on anything SOQL cannot contain."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise error_at("MALFORMED_QUERY", f"unexpected token: '{text[pos]}'", text, pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            kind = match.group(0) if kind == "punct" else kind
            tokens.append(Token(kind, match.group(0), pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def decode_string(raw: str, *, like: bool = False) -> str:
    """The value of a quoted SOQL string; for LIKE, `\\%` and `\\_` stay escaped (ESCAPE '\\')."""
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in "%_":
            out.append("\\" + nxt)  # a literal % or _ (in LIKE) keeps its escape
        elif nxt == "\\" and like:
            out.append("\\\\")
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
        else:
            raise SoqlError("MALFORMED_QUERY", f"Invalid string literal '{raw}'. Illegal escape.")
        i += 2
    return "".join(out)


def error_at(code: str, message: str, text: str, pos: int) -> SoqlError:
    """A SoqlError whose message points at `pos` like Salesforce's `ERROR at Row:r:Column:c`."""
    pos = max(0, min(pos, len(text)))
    row = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)]
    col = pos - start
    return SoqlError(
        code, f"\n{line}\n{' ' * col}^\nERROR at Row:{row}:Column:{col + 1}\n{message}"
    )
