"""The fast deal reader gives the same deals, and the same errors, as the careful path."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from calc.errors import InputError
from calc.inputs import parse_deals
from calc.model import Deal

CELLS = {
    "id": ["D1", "D2", " D3 ", "", "D1", "Dé"],
    "name": ["", "Acme", "  spaced  ", 'quo"te', "line\nbreak"],
    "owner_id": ["R1", " R1", "", "R2 "],
    "amount": [
        "100",
        "1,250.50",
        "1,5",
        "12.345",
        "-3",
        "1e3",
        "NaN",
        "inf",
        "x",
        "",
        " 7 ",
        "1_000",
        "99999999999999999999999999",
        "1e26",
        ".5",
        "5.",
    ],
    "close_date": ["2026-01-31", " 2026-02-01", "2026-2-1", "", "2026-02-30", "20260101xx"],
    "is_won": ["true", "TRUE", " yes", "0", "", "maybe", "t", "F"],
    "is_closed": ["", "true", "no", "nope"],
    "quantity": ["", "3", "2.5", "three"],
    "cancel_date": ["", "2026-03-01", "bad"],
    "currency": ["", "usd", "EUR", "EURO", "€€€", "e1r", "ÄBC"],
    "segment": ["", "SMB", " Ent "],
    "attributes": ["", "x"],
}
SMALL = {
    "name": ["", "Acme"],
    "owner_id": ["R1", "R2"],
    "amount": ["100", "2.50", ""],
    "close_date": ["2026-01-31", "2026-02-01"],
    "is_won": ["true", "false"],
}


def _text(header: list[str], rows: list[list[str]], *, blank_at: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        if i == blank_at:
            out.write(",,\n" if len(header) > 2 else "\n")
        writer.writerow(row)
    return out.getvalue()


def _outcome(text: str, *, careful: bool) -> list[tuple[object, ...]] | str:
    try:
        deals = parse_deals(text, careful=careful)
    except InputError as exc:
        return str(exc)
    return [_fields(d) for d in deals]


def _fields(deal: Deal) -> tuple[object, ...]:
    # Exponents too: Decimal("2.50") must stay 2.50, not 2.5.
    return (
        *(str(v) if isinstance(v, Decimal) else v for v in _values(deal)),
        dict(deal.attributes),
    )


def _values(deal: Deal) -> tuple[object, ...]:
    return (
        deal.id, deal.name, deal.owner_id, deal.amount, deal.close_date, deal.is_won,
        deal.is_closed, deal.stage, deal.type, deal.product_family, deal.quantity, deal.acv,
        deal.tcv, deal.term_months, deal.cancel_date, deal.currency,
    )  # fmt: skip


@st.composite
def _files(draw: st.DrawFn) -> str:
    required = ["id", "owner_id", "amount", "close_date", "is_won"]
    optional = draw(st.lists(st.sampled_from(sorted(set(CELLS) - set(required))), unique=True))
    header = draw(st.permutations(required + optional))
    rows = [
        [draw(st.sampled_from(CELLS[column])) for column in header]
        for _ in range(draw(st.integers(0, 6)))
    ]
    if rows and draw(st.booleans()):
        rows[-1] = rows[-1][: draw(st.integers(0, len(header)))]  # a short row
    blank = draw(st.none() | st.integers(0, 6))
    return _text(header, rows, blank_at=blank)


@settings(max_examples=200, deadline=None)
@given(_files())
def test_fast_reader_matches_the_careful_path(text: str) -> None:
    assert _outcome(text, careful=False) == _outcome(text, careful=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in SMALL.items()})))
def test_plain_rows_take_the_fast_path_and_keep_exponents(rows: list[dict[str, str]]) -> None:
    header = ["id", *SMALL]
    text = _text(header, [[f"D{i}", *row.values()] for i, row in enumerate(rows)])
    assert _outcome(text, careful=False) == _outcome(text, careful=True)


def test_plain_deal_fields_and_shared_values() -> None:
    text = (
        "id,name,owner_id,amount,close_date,is_won,product_family\n"
        "D1,Acme,R1,2.50,2026-01-31,true,Core\n"
        "D2,,R1,3,2026-01-31,false,Core\n"
    )
    d1, d2 = parse_deals(text)
    assert (d1.name, d1.amount, d1.close_date, d1.is_won, d1.is_closed) == (
        "Acme",
        Decimal("2.50"),
        date(2026, 1, 31),
        True,
        True,
    )
    assert (d2.name, d2.is_won, d2.is_closed, d2.currency, dict(d2.attributes)) == (
        "",
        False,
        False,
        None,
        {},
    )
    assert d1.close_date is d2.close_date and d1.owner_id is d2.owner_id  # one object each


def test_duplicate_id_is_reported_on_its_line() -> None:
    text = (
        "id,owner_id,amount,close_date,is_won\nD1,R1,1,2026-01-01,true\nD1,R1,2,2026-01-02,true\n"
    )
    try:
        parse_deals(text, source="deals.csv")
    except InputError as exc:
        assert str(exc) == "deals.csv, line 3, column id: duplicate id 'D1'"
    else:
        raise AssertionError("a duplicate id was accepted")
