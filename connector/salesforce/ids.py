"""Salesforce record ids: the case-sensitive 15-character form and the 18-character form.

A 15-character id is case-sensitive: `0055g000000000D` and `0055g000000000d` are two
different users. The 18-character form appends a 3-character suffix that encodes the case of
the first 15 (one character per block of 5: bit i set when character i of the block is an
uppercase letter, the 5-bit value picked from `A..Z0..5`), so the 18-character form survives
case-insensitive systems and Salesforce reads it regardless of letter case. Both forms of one
id are the same id; anything else compares unequal.
"""

from __future__ import annotations

import string

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ID_CHARS = frozenset(string.ascii_letters + string.digits)

# Key prefixes (the first three characters) of the ids Quotaflow compares.
USER_PREFIX = "005"
PROFILE_PREFIX = "00e"
PERMISSION_SET_PREFIX = "0PS"
ORG_PREFIX = "00D"


class InvalidId(ValueError):
    """Text that is not a well-formed Salesforce id; the message says why."""


def _suffix(id15: str) -> str:
    out = []
    for block in range(3):
        bits = 0
        for i, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def _restore_case(id18: str) -> str:
    """The 18-character id with the case of its first 15 characters taken from the suffix."""
    chars = list(id18[:15])
    suffix = id18[15:].upper()
    for block, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.find(code)
        if bits < 0:
            raise InvalidId(f"{id18!r}: the 18-character suffix has an invalid character {code!r}")
        for i in range(5):
            pos = block * 5 + i
            upper = bool(bits & (1 << i))
            if upper and not chars[pos].isalpha():
                raise InvalidId(f"{id18!r}: the suffix marks the digit at {pos + 1} as uppercase")
            chars[pos] = chars[pos].upper() if upper else chars[pos].lower()
    return "".join(chars) + suffix


def normalize_id(text: str, *, prefix: str | None = None) -> str:
    """The canonical 18-character form of a 15- or 18-character id; InvalidId if malformed.

    A 15-character id is taken exactly as written (its case is its identity); an
    18-character id gets the case its own suffix records, by Salesforce's rule.
    """
    if not isinstance(text, str) or len(text) not in (15, 18):
        raise InvalidId(f"{text!r}: a Salesforce id has 15 or 18 characters")
    if not set(text) <= _ID_CHARS:
        raise InvalidId(f"{text!r}: a Salesforce id has only letters and digits")
    canonical = text + _suffix(text) if len(text) == 15 else _restore_case(text)
    if prefix is not None and canonical[:3] != prefix:
        raise InvalidId(f"{text!r}: expected an id starting with {prefix}")
    return canonical


def is_id(text: str, *, prefix: str | None = None) -> bool:
    """Whether `text` is a well-formed 15- or 18-character id (with `prefix`, if given)."""
    try:
        normalize_id(text, prefix=prefix)
    except InvalidId:
        return False
    return True


def same_id(a: str | None, b: str | None) -> bool:
    """Whether two ids name the same record (15 and 18-character forms alike); a missing id
    is never the same as anything, a malformed one only as exactly the same text."""
    if not a or not b:
        return False
    if a == b:
        return True
    try:
        return normalize_id(a) == normalize_id(b)
    except InvalidId:
        return False
