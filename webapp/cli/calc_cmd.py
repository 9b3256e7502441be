"""`quotaflow calc`: offline calculation from a plan document and CSV files (comp modeling)."""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any


def register(subparsers: Any) -> None:
    """Add the `calc` sub-command."""
    parser = subparsers.add_parser(
        "calc",
        help="calculate credits, attainment and earnings from files",
        description="Credits, attainment and earnings from a plan document and CSV files.",
    )
    parser.add_argument("--plan", required=True, metavar="PLAN.yaml", help="plan document (YAML)")
    parser.add_argument("--reps", required=True, metavar="REPS.csv", help="reps (CSV)")
    parser.add_argument("--deals", required=True, metavar="DEALS.csv", help="deals (CSV)")
    parser.add_argument("--splits", metavar="SPLITS.csv", help="opportunity splits (CSV)")
    parser.add_argument("--team", metavar="TEAM.csv", help="opportunity team members (CSV)")
    parser.add_argument(
        "--rates",
        metavar="RATES.csv",
        help="dated exchange rates (CSV: currency, start_date, rate per corporate unit)",
    )
    parser.add_argument(
        "--adjustments",
        metavar="ADJ.csv",
        help="adjustments (CSV: rep_id, period, amount, component, reason, reference)",
    )
    parser.add_argument(
        "--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day reported"
    )
    parser.add_argument(
        "--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day reported"
    )
    parser.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        help="one JSON document, or one CSV row per earning line",
    )
    parser.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="processes calculating the JSON output (default: 2 for 50,000 deals or more "
        "when two CPUs are free, else 1; also $QUOTAFLOW_CALC_JOBS)",
    )
    parser.set_defaults(handler=run)


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of processes (1 or more): {value!r}")
    return int(value)


def _read(path: str) -> str:
    from webapp.cli import CliError

    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None


@contextmanager
def _lines(path: str) -> Iterator[IO[str]]:
    """A CSV file opened to be read line by line (a million deals are never held whole), with
    the errors of reading it whole (`_read`): its decoding error before any error in a row."""
    from calc.errors import CalcError
    from webapp.cli import CliError

    try:
        f = open(path, encoding="utf-8-sig")  # noqa: SIM115  (closed below)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None
    with f:
        try:
            yield f
        except UnicodeDecodeError:
            _read(path)  # raises the error reading the whole file gives
            raise
        except CalcError:
            try:
                for _line in f:
                    pass
            except UnicodeDecodeError:
                _read(path)
            raise


def _header(path: str) -> str:
    """The first line of a file (what `calc.inputs.deal_columns` reads)."""
    with _lines(path) as f:
        return f.readline()


def _day(option: str, value: str) -> date:
    from webapp.cli import CliError

    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option}: not a date (expected YYYY-MM-DD): {value!r}") from None


def _load_plan(path: str) -> Any:
    from calc.plan import parse_plan_doc
    from mappings.safe_yaml import YamlError, load_yaml
    from webapp.cli import CliError

    text = _read(path)
    try:
        data = load_yaml(text)
    except YamlError as exc:
        where = f", line {exc.line}, column {exc.column}" if exc.line else ""
        kind = "YAML syntax error: " if exc.syntax else ""
        raise CliError(f"{path}{where}: {kind}{exc.problem}") from None
    return parse_plan_doc(data, source=path)


def _inputs(args: argparse.Namespace, *, jobs: int | None = None) -> tuple[Any, int]:
    """Every input file read and checked, as calc's Book, and how many processes calculate
    it (`jobs`: asked for, or None to choose by its size; see calc_jobs.jobs_wanted)."""
    from calc import inputs
    from calc.adjustments import book_check, parse_adjustments
    from calc.book import Book
    from calc.currency import parse_rates
    from calc.plan_checks import check_deal_fields
    from webapp.cli.calc_jobs import jobs_wanted

    doc = _load_plan(args.plan)
    plan_ids = {p.id for p in doc.plans}
    with _lines(args.reps) as f:
        reps = inputs.parse_reps(f, source=args.reps, plan_ids=plan_ids)
    # Read line by line: the text of a million deals is a hundred megabytes.
    with _lines(args.deals) as f:
        deals = inputs.parse_deals(f, source=args.deals)
    check_deal_fields(doc, inputs.deal_columns(_header(args.deals)), source=args.plan)
    jobs = jobs_wanted(jobs, deals=len(deals))
    deal_ids = {d.id for d in deals}
    splits: list[Any] = []
    if args.splits:
        with _lines(args.splits) as f:
            splits = inputs.parse_splits(f, source=args.splits, deal_ids=deal_ids)
    team: list[Any] = []
    if args.team:
        with _lines(args.team) as f:
            team = inputs.parse_team(f, source=args.team, deal_ids=deal_ids)
    del deal_ids
    rates = parse_rates(_read(args.rates), source=args.rates) if args.rates else None
    adjustments = (
        parse_adjustments(
            _read(args.adjustments),
            source=args.adjustments,
            check=book_check({r.id: r for r in reps}, doc),
        )
        if args.adjustments
        else []
    )
    return Book(doc, reps, deals, splits, team, adjustments=adjustments, rates=rates), jobs


def _compute(args: argparse.Namespace, held: IO[str]) -> None:
    """Read and calculate; the CSV output is written to `held` (a temporary file until it is
    whole), the JSON output to standard output once every run of reps is written."""
    from calc.engine import split_book
    from calc.render import CREDITS_KEY, json_head, json_tail
    from webapp.cli import CliError
    from webapp.cli.calc_jobs import jobs_asked, run_files, run_forked, shares, splice

    start, end = _day("--from", args.start), _day("--to", args.end)
    if end < start:
        raise CliError("--to must not be before --from")
    if args.format == "csv":
        book, _one = _inputs(args, jobs=1)
        _write_csv(book, start, end, held)
        return
    book, jobs = _inputs(args, jobs=jobs_asked(args.jobs))
    # The credits first (rollup credit spans reps), then runs of reps, each in its own
    # process: each rep's lines are written out and dropped before the next rep's.
    split = split_book(book, start=start, end=end, shares=shares(jobs))
    files = run_files(len(split.runs))
    run_forked(
        [partial(_run_task, args, run, where) for run, where in zip(split.runs, files, strict=True)]
    )
    splice(json_head(split.currency), files, CREDITS_KEY, json_tail(split.unresolved))


def _run_task(args: argparse.Namespace, run: Any, files: Any) -> None:
    """One run of reps written out, an error in it as the CLI reports it."""
    from webapp.cli.calc_jobs import write_run

    with _cli_errors(args):
        write_run(run, files)


@contextmanager
def _cli_errors(args: argparse.Namespace) -> Iterator[None]:
    """calc's errors as the CLI's one line."""
    from calc.errors import CalcError, PlanError
    from webapp.cli import CliError

    try:
        yield
    except PlanError as exc:
        # A plan error found while calculating names the plan file, like one found loading it.
        source = args.plan if exc.source == "plan" else exc.source
        raise CliError(str(PlanError(exc.path, exc.reason, source=source))) from None
    except CalcError as exc:
        raise CliError(str(exc)) from None


def _write_csv(book: Any, start: date, end: date, out: IO[str]) -> None:
    from calc.engine import calculate_book
    from calc.render import to_csv

    out.write(to_csv(calculate_book(book, start=start, end=end)))


def run(args: argparse.Namespace) -> int:
    """Validate every input, calculate, then write the whole output (nothing on error)."""
    # A large calculation builds millions of small acyclic objects; CPython's cyclic
    # collector would re-scan them again and again for nothing (about 40% of the time at a
    # million deals). This one-shot process pauses it while it reads, calculates and writes.
    gc.disable()
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as held:
            with _cli_errors(args):
                _compute(args, held)
            if args.format == "csv":
                _copy_out(held)
    finally:
        gc.enable()
    return 0


def _copy_out(held: IO[str]) -> None:
    """The whole output, from its temporary file to standard output."""
    held.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is not None:
        sys.stdout.flush()
        with open(held.fileno(), "rb", closefd=False) as raw:
            raw.seek(0)
            shutil.copyfileobj(raw, binary, 1 << 20)
        binary.flush()
        return
    held.seek(0)
    shutil.copyfileobj(held, sys.stdout, 1 << 20)
