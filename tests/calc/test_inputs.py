"""CSV inputs: parsing into the model, and errors that name file, line and column."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from calc.errors import InputError
from calc.inputs import parse_deals, parse_reps, parse_splits, parse_team


def test_deals_parse_with_extra_columns_as_attributes() -> None:
    text = (
        "id,name,owner_id,amount,close_date,is_won,quantity,segment\n"
        'D1,Acme,R1,"1,250.50",2026-01-31,TRUE,3,SMB\nD2,,R2,10,2026-02-01,false,,\n'
    )
    d1, d2 = parse_deals(text)
    assert (d1.amount, d1.close_date, d1.is_won, d1.quantity, d1.attributes) == (
        Decimal("1250.50"),
        date(2026, 1, 31),
        True,
        Decimal(3),
        {"segment": "SMB"},
    )
    assert (d2.is_won, d2.quantity, d2.attributes) == (False, None, {"segment": None})


def test_reps_and_team_parse() -> None:
    (rep,) = parse_reps(
        "id,name,manager_id,plan_id,hire_date,end_date,quota,target_incentive\nR1,Ada,M1,ae,2026-02-10,,50000,\n",
        plan_ids={"ae"},
    )
    assert (rep.manager_id, rep.hire_date, rep.quota, rep.target_incentive) == (
        "M1",
        date(2026, 2, 10),
        Decimal(50000),
        None,
    )
    (member,) = parse_team("deal_id,rep_id,role\nD1,S1,Sales Engineer\n", deal_ids={"D1"})
    assert member.role == "Sales Engineer"


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (
            parse_reps,
            "id,plan_id\nR1,ae\nR2,gold\n",
            "reps.csv, line 3, column plan_id: unknown plan 'gold'",
        ),
        (parse_reps, "id,name\nR1,Ada\n", "reps.csv, line 1, column plan_id: missing column"),
        (parse_reps, "", "reps.csv, line 1: empty file (expected a header row)"),
        (
            parse_reps,
            "id,plan_id\nR1,ae\nR1,ae\n",
            "reps.csv, line 3, column id: duplicate id 'R1'",
        ),
        (
            parse_deals,
            "id,owner_id,amount,close_date,is_won\nD1,R1,12k,2026-01-01,true\n",
            "deals.csv, line 2, column amount: not a number: '12k'",
        ),
        (
            parse_deals,
            "id,owner_id,amount,close_date,is_won\nD1,R1,12,01/02/2026,true\n",
            "deals.csv, line 2, column close_date: not a date (expected YYYY-MM-DD): '01/02/2026'",
        ),
        (
            parse_deals,
            "id,owner_id,amount,close_date,is_won\nD1,R1,12,2026-01-01,maybe\n",
            "deals.csv, line 2, column is_won: not true or false: 'maybe'",
        ),
        (
            parse_deals,
            "id,owner_id,amount,close_date,is_won\nD1,R1,NaN,2026-01-01,true\n",
            "deals.csv, line 2, column amount: not a number: 'NaN'",
        ),
        (
            parse_splits,
            "deal_id,rep_id,percent\nD1,R1,60\nD7,R2,40\n",
            "splits.csv, line 3, column deal_id: unknown deal 'D7'",
        ),
        (
            parse_splits,
            "deal_id,rep_id,percent,split_type\nD1,R1,60,bonus\n",
            "splits.csv, line 2, column split_type: must be revenue or overlay, not 'bonus'",
        ),
    ],
)
def test_bad_input_names_file_line_and_column(parse: object, text: str, message: str) -> None:
    kwargs = (
        {"plan_ids": {"ae"}}
        if parse is parse_reps
        else {"deal_ids": {"D1"}}
        if parse is parse_splits
        else {}
    )
    with pytest.raises(InputError) as info:
        parse(text, **kwargs)  # type: ignore[operator]
    assert str(info.value) == message


@pytest.mark.parametrize(
    "text",
    [
        "id,name,owner_id,amount,close_date,is_won,segment\n"
        'D1,"Acme\nrenewal",R1,"1,250.50",2026-01-31,TRUE,SMB\n\n  \nD2,,R2,10,2026-02-01,,\n',
        "\ufeff\n \nid,owner_id,amount,close_date,is_won\nD1,R1,12,2026-01-01,true\n",
        "id,owner_id,amount,close_date,is_won\nD1,R1,12k,2026-01-01,true\n",
        "id,owner_id,amount,close_date,is_won\nD1,R1,1,2026-01-01,true\nD1,R1,1,2026-01-01,no\n",
        "\n  \n\n",
        "",
    ],
)
def test_lines_of_a_file_parse_as_its_whole_text(text: str) -> None:
    # The CLI hands a file's lines (a million deals are never held whole): the same deals, or
    # the same error on the same line.
    def parsed(given: object) -> object:
        try:
            return parse_deals(given)  # type: ignore[arg-type]
        except InputError as exc:
            return str(exc)

    whole = parsed(text)
    assert parsed(io.StringIO(text)) == whole
    assert parsed(text.splitlines(keepends=True)) == whole


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'id,owner_id,amount,close_date,is_won\nD1,"R\n1",10,2026-01-01,true\n\n , \n'
            'D2,R1,5,2026-01-01,true\nD3,R1,"7\n',
            "deals.csv, line 7: unclosed quote: the value starting on this line never ends",
        ),
        (
            'id,owner_id,amount,close_date,is_won\nD1,"R\n1",10,2026-01-01,true\n\n'
            "D2,R1,5,2026-01-01\n",
            "deals.csv, line 5, column is_won: row too short: 4 values for 5 header columns",
        ),
        (
            'id,owner_id,amount,close_date,is_won\n\n\nD1,R1,"1\n0",2026-01-01,true,x\n',
            "deals.csv, line 4: more values than header columns",
        ),
    ],
)
def test_errors_after_blank_and_multi_line_records_name_the_right_line(
    text: str, message: str
) -> None:
    for given in (text, io.StringIO(text)):
        with pytest.raises(InputError) as info:
            parse_deals(given)
        assert str(info.value) == message
