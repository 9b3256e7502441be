"""Render a CalcResult as the `quotaflow calc` contract: JSON (fixed key order) or CSV lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from json.encoder import encode_basestring
from typing import Any

from calc.adjustments import Adjustment
from calc.crediting import Credit, Unresolved
from calc.money import CENT, money_str, rate_str
from calc.results import CalcResult, Line, PeriodResult

RATE_PLACES = Decimal("0.0000000001")
_string = encode_basestring  # json's own string encoder (ensure_ascii=False)
CSV_COLUMNS = (
    "rep_id",
    "plan_id",
    "period",
    "period_start",
    "period_end",
    "component",
    "deal_id",
    "credit_type",
    "base",
    "rate",
    "amount",
    "explain",
)


def _rate(value: Decimal) -> str:
    return rate_str(value.quantize(RATE_PLACES))


_RATES: dict[Decimal, str] = {}  # rate text by value: equal rates print alike (normalized)


def _rate_text(value: Decimal) -> str:
    found = _RATES.get(value)
    if found is None:
        found = _rate(value)
        if len(_RATES) < 65_536:
            _RATES[value] = found
    return found


def line_dict(line: Line) -> dict[str, Any]:
    """One line in contract key order; `capped` (what caps took off) only on capped lines,
    `currency` and `fx_rate` only on lines of a deal converted from another currency,
    `adjustment` only on the line of an entered adjustment, `plan_id` and `assignment_from`
    only for a rep with effective-dated assignments."""
    out: dict[str, Any] = {
        "component": line.component,
        "deal_id": line.deal_id,
        "credit_type": line.credit_type,
        "base": money_str(line.base),
        "rate": _rate_text(line.rate),
        "amount": money_str(line.amount),
        "explain": line.explain,
    }
    if line.capped:
        out["capped"] = money_str(line.capped)
    if line.currency is not None and line.fx_rate is not None:
        out["currency"] = line.currency
        out["fx_rate"] = _rate(line.fx_rate)
    if line.adjustment is not None:
        out["adjustment"] = adjustment_dict(line.adjustment)
    if line.plan_id is not None:
        out["plan_id"] = line.plan_id
        out["assignment_from"] = line.assignment_from
    return out


def adjustment_dict(adj: Adjustment) -> dict[str, Any]:
    """What an adjustment line carries about the adjustment it pays (contract key order)."""
    return {
        "reason": adj.reason,
        "reference": adj.reference,
        "source": adj.source,
        "entered_by": adj.entered_by,
    }


def result_dict(res: PeriodResult, *, lines: bool = True) -> dict[str, Any]:
    """One period result in contract key order (also the web API's earnings shape)."""
    out: dict[str, Any] = {
        "rep_id": res.rep_id,
        "plan_id": res.plan_id,
        "period": res.period.name,
        "period_start": res.period.start.isoformat(),
        "period_end": res.period.end.isoformat(),
        "quota": money_str(res.quota),
        "credit": money_str(res.credit),
        "attainment": f"{res.attainment:.4f}",
        "attainment_ytd": f"{res.attainment_ytd:.4f}",
        "components": {name: money_str(amount) for name, amount in res.components},
        "gross": money_str(res.gross),
        "draw": {
            "top_up": money_str(res.draw.top_up),
            "recovered": money_str(res.draw.recovered),
            "balance": money_str(res.draw.balance),
            "shortfall": money_str(res.draw.shortfall),
        },
        "net": money_str(res.net),
    }
    if lines:
        out["lines"] = [line_dict(line) for line in res.lines]
    return out


def credit_dict(credit: Credit) -> dict[str, Any]:
    """One credit in contract key order."""
    return {
        "deal_id": credit.deal_id,
        "rep_id": credit.rep_id,
        "credit_type": credit.credit_type,
        "percent": money_str(credit.percent),
        "amount": money_str(credit.amount),
        "period": credit.period.name,
    }


def to_dict(result: CalcResult) -> dict[str, Any]:
    """The whole result as plain data in contract key order."""
    return {
        "currency": result.currency,
        "results": [result_dict(r) for r in result.results],
        "credits": [credit_dict(c) for c in result.credits],
        "unresolved": [{"deal_id": u.deal_id, "reason": u.reason} for u in result.unresolved],
    }


def to_json(result: CalcResult) -> str:
    """The contract JSON text: deterministic bytes for the same result, ending in a newline."""
    parts = [(result.results, result.credits)]
    return "".join(json_chunks(result.currency, parts, result.unresolved))


Part = tuple[Sequence[PeriodResult], Sequence[Credit]]


def json_chunks(
    currency: str, parts: Iterable[Part], unresolved: Sequence[Unresolved]
) -> Iterator[str]:
    """The contract JSON text in pieces, from results and credits handed out part by part
    (calc.engine.stream_book hands them out rep by rep): one piece per part's results, the
    credits after them, so a caller can write each piece out and let the part go.

    The same bytes as json.dumps(to_dict(result), indent=1, ensure_ascii=False) + "\n",
    whose indented encoder is pure Python and took longer than the calculation on a big book.
    """
    held: list[Sequence[Credit]] = []  # the credits come after every result

    def results() -> Iterator[str]:
        for results, credits in parts:
            held.append(credits)
            yield result_items(results)

    yield json_head(currency)
    yield from list_chunks(results())
    yield CREDITS_KEY
    yield from list_chunks(credit_items(held))
    yield json_tail(unresolved)


# Every item of the `results` and `credits` lists is written after this separator; the
# first item of a list has "[" in place of its comma (`list_chunks`), so runs of items
# written apart (by the processes of `quotaflow calc --jobs`) join into the same bytes.
ITEM_SEP = ",\n  "
LIST_OPEN = "["
EMPTY_LIST, LIST_CLOSE = "[]", "\n ]"
CREDITS_KEY = ',\n "credits": '


def json_head(currency: str) -> str:
    """The contract JSON text up to the `results` list."""
    return '{\n "currency": ' + _string(currency) + ',\n "results": '


def json_tail(unresolved: Sequence[Unresolved]) -> str:
    """The contract JSON text after the `credits` list."""
    out = [',\n "unresolved": ']
    _write([{"deal_id": u.deal_id, "reason": u.reason} for u in unresolved], 1, out)
    out.append("\n}\n")
    return "".join(out)


def list_chunks(items: Iterable[str]) -> Iterator[str]:
    """A list at depth 1 from runs of items each written after ITEM_SEP (empty runs left
    out): the first item opens the list, and the list closes after the last."""
    opened = False
    for text in items:
        if not text:
            continue
        if not opened:
            opened = True
            text = LIST_OPEN + text[1:]
        yield text
    yield LIST_CLOSE if opened else EMPTY_LIST


def result_items(results: Sequence[PeriodResult]) -> str:
    """Period results, each after ITEM_SEP, as json.dumps writes result_dict at depth 2."""
    out: list[str] = []
    for res in results:
        out.append(ITEM_SEP)
        _write_period_result(res, out)
    return "".join(out)


class _Unsupported(Exception):
    """A value the fast writer does not handle: render with json.dumps instead."""


def _write_period_result(res: PeriodResult, out: list[str]) -> None:
    """One result at depth 2, as json.dumps writes result_dict(res) there."""
    part = [_result_head(res)]
    try:
        _write_lines(res.lines, 3, part)
    except _Unsupported:
        text = json.dumps(result_dict(res), indent=1, ensure_ascii=False)
        part = [text.replace("\n", "\n  ")]  # json.dumps' own text, two levels in
    else:
        part.append("\n  }")
    out.append("".join(part))


def _result_head(res: PeriodResult) -> str:
    """A result at depth 2 up to its `lines` value: result_dict(res) as _write_dict writes it."""
    string, period, draw = _string, res.period, res.draw
    if res.components:
        entries = ",".join(
            f'\n    {string(name)}: "{_money(amount)}"' for name, amount in res.components
        )
        components = "{" + entries + "\n   }"
    else:
        components = "{}"
    return (
        f'{{\n   "rep_id": {string(res.rep_id)},\n   "plan_id": {string(res.plan_id)}'
        f',\n   "period": {string(period.name)}'
        f',\n   "period_start": "{period.start.isoformat()}"'
        f',\n   "period_end": "{period.end.isoformat()}"'
        f',\n   "quota": "{_money(res.quota)}",\n   "credit": "{_money(res.credit)}"'
        f',\n   "attainment": "{res.attainment:.4f}"'
        f',\n   "attainment_ytd": "{res.attainment_ytd:.4f}"'
        f',\n   "components": {components},\n   "gross": "{_money(res.gross)}"'
        f',\n   "draw": {{\n    "top_up": "{_money(draw.top_up)}"'
        f',\n    "recovered": "{_money(draw.recovered)}"'
        f',\n    "balance": "{_money(draw.balance)}"'
        f',\n    "shortfall": "{_money(draw.shortfall)}"\n   }}'
        f',\n   "net": "{_money(res.net)}",\n   "lines": '
    )


def _write(value: object, depth: int, out: list[str]) -> None:
    """`value` as json.dumps(indent=1, ensure_ascii=False) writes it at this depth."""
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, dict):
        _write_dict(value, depth, out)
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = "\n" + " " * (depth + 1)
        sep = "[" + inner
        for item in value:
            out.append(sep)
            sep = "," + inner
            _write(item, depth + 1, out)
        out.append("\n" + " " * depth + "]")
    else:
        raise _Unsupported


def _write_dict(value: dict[str, Any], depth: int, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = "\n" + " " * (depth + 1)
    sep = "{" + inner
    for key, item in value.items():
        if not isinstance(key, str):
            raise _Unsupported
        out.append(sep)
        sep = "," + inner
        out.append(_string(key))
        out.append(": ")
        _write(item, depth + 1, out)
    out.append("\n" + " " * depth + "}")


def _money(value: Decimal) -> str:
    """money_str without the extra call (several million per big book)."""
    if not value:
        return "0.00"  # a draw's figures, mostly
    text = str(value)
    if text[-3:-2] != ".":  # not already in cents (most amounts are: no rounding to do)
        text = str(value.quantize(CENT, ROUND_HALF_UP))
    return "0.00" if text == "-0.00" else text


def credit_items(held: Iterable[Sequence[Credit]]) -> Iterator[str]:
    """Credits in runs, each after ITEM_SEP as _write writes credit_dict(credit) at depth 2."""
    sep = ITEM_SEP
    string, cent, up = _string, CENT, ROUND_HALF_UP
    texts: dict[int, str] = {}  # text by object: most credits share 100%, a type, a period
    part: list[str] = []
    append = part.append
    for credits in held:
        for c in credits:
            percent, ctype, period = c.percent, c.credit_type, c.period
            percent_text = texts.get(id(percent))
            if percent_text is None:
                percent_text = texts[id(percent)] = _money(percent)
            type_text = texts.get(id(ctype))
            if type_text is None:
                type_text = texts[id(ctype)] = string(ctype)
            period_text = texts.get(id(period))
            if period_text is None:
                period_text = texts[id(period)] = string(period.name)
            rep_id = c.rep_id
            rep_text = texts.get(id(rep_id))
            if rep_text is None:
                rep_text = texts[id(rep_id)] = string(rep_id)
            amount = str(c.amount)
            if amount[-3:-2] != ".":  # _money inlined: most amounts are in cents already
                amount = str(c.amount.quantize(cent, up))
            append(
                f'{sep}{{\n   "deal_id": {string(c.deal_id)},\n   "rep_id": {rep_text}'
                f',\n   "credit_type": {type_text},\n   "percent": "{percent_text}'
                f'",\n   "amount": "{"0.00" if amount == "-0.00" else amount}'
                f'",\n   "period": {period_text}\n  }}'
            )
        if len(part) > 16_384:
            yield "".join(part)
            part = []
            append = part.append
    yield "".join(part)


def _write_lines(lines: tuple[Line, ...], depth: int, out: list[str]) -> None:
    """A result's lines, each as line_dict(line) written by _write, without the dicts."""
    if not lines:
        out.append("[]")
        return
    pad = "\n" + " " * (depth + 2)
    first = "{" + pad + '"component": '
    k_deal, k_type = "," + pad + '"deal_id": ', "," + pad + '"credit_type": '
    k_base, k_rate = "," + pad + '"base": "', '",' + pad + '"rate": "'
    k_amount, k_explain = '",' + pad + '"amount": "', '",' + pad + '"explain": '
    close, k_capped = "\n" + " " * (depth + 1) + "}", "," + pad + '"capped": "'
    k_currency, k_fx = "," + pad + '"currency": ', "," + pad + '"fx_rate": "'
    inner = "\n" + " " * (depth + 1)
    sep = "[" + inner
    string, cent, up = _string, CENT, ROUND_HALF_UP
    rates: dict[int, str] = {}  # rate text by object: lines share their tier's rate
    append = out.append
    for line in lines:
        if line.plan_id is not None:
            raise _Unsupported  # a dated rep's lines name their plan: the general writer
        deal_id, ctype, rate = line.deal_id, line.credit_type, line.rate
        rate_text = rates.get(id(rate))
        if rate_text is None:
            rate_text = rates[id(rate)] = _rate_text(rate)
        # _money inlined: most bases and every rounded amount are in cents already.
        base = str(line.base)
        if base[-3:-2] != ".":
            base = str(line.base.quantize(cent, up))
        amount = str(line.amount)
        if amount[-3:-2] != ".":
            amount = str(line.amount.quantize(cent, up))
        text = (
            f"{sep}{first}{string(line.component)}"
            f"{k_deal}{'null' if deal_id is None else string(deal_id)}"
            f"{k_type}{'null' if ctype is None else string(ctype)}"
            f"{k_base}{'0.00' if base == '-0.00' else base}{k_rate}{rate_text}"
            f"{k_amount}{'0.00' if amount == '-0.00' else amount}"
            f"{k_explain}{string(line.explain)}"
        )
        sep = "," + inner
        if not line.capped and line.currency is None and line.adjustment is None:
            append(text + close)
            continue
        append(text)
        if line.capped:
            out += (k_capped, _money(line.capped), '"')
        if line.currency is not None and line.fx_rate is not None:
            out += (k_currency, string(line.currency), k_fx, _rate(line.fx_rate), '"')
        if line.adjustment is not None:
            append("," + pad + '"adjustment": ')
            _write(adjustment_dict(line.adjustment), depth + 2, out)
        append(close)
    append("\n" + " " * depth + "]")


def to_csv(result: CalcResult) -> str:
    """One statement row per earning line, with the rep and period it belongs to."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for res in result.results:
        head = [res.rep_id]
        tail = [res.period.name, res.period.start.isoformat(), res.period.end.isoformat()]
        # The values of line_dict(line), without building the dict; a line paid under an
        # earlier assignment of a split period names that assignment's plan.
        writer.writerows(
            [
                *head,
                line.plan_id or res.plan_id,
                *tail,
                line.component,
                line.deal_id or "",
                line.credit_type or "",
                _money(line.base),
                _rate(line.rate),
                _money(line.amount),
                line.explain,
            ]
            for line in res.lines
        )
    return out.getvalue()
