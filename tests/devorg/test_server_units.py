"""In-process pieces of the devorg server: faults, ids, usage, locators, flags."""

from __future__ import annotations

import argparse
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devorg.config import add_serve_arguments, config_from_args
from devorg.errors import ApiError
from devorg.faults import FaultError, Faults
from devorg.locators import Locators
from devorg.process import parse_announcement
from devorg.state import ApiUsage
from devorg.store import Database, id18


def test_id18_adds_the_case_safe_suffix() -> None:
    # Salesforce's documented example: 001A0000006Vm9r -> 001A0000006Vm9rIAC
    assert id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    for bad in ("", "short", "001A0000006Vm9r!", "x" * 16):
        assert id18(bad) is None


def test_fault_counts_are_consumed() -> None:
    faults = Faults()
    faults.apply({"unavailable": {"calls": 1}, "request_limit_exceeded": {"calls": 1}})
    codes = []
    for _ in range(3):
        failure = faults.call_failure()
        codes.append(failure.error_code if failure else None)
    assert codes == ["SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED", None]


def test_lock_rows_then_validation() -> None:
    faults = Faults()
    faults.apply({"lock_rows": {"a": 1}, "validation": {"a": "nope"}})
    first, second = faults.record_failure("a"), faults.record_failure("a")
    assert isinstance(first, ApiError) and first.error_code == "UNABLE_TO_LOCK_ROW"
    assert isinstance(second, ApiError) and second.message == "nope"
    assert faults.record_failure("b") is None
    faults.clear()
    assert faults.record_failure("a") is None


def test_session_expiry_cutoffs() -> None:
    faults = Faults()
    assert faults.sessions_valid_after_ms() == 0
    before = int(time.time() * 1000)
    faults.apply({"expire_sessions": True})
    assert faults.sessions_valid_after_ms() >= before


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"x": 1},
        {"unavailable": 3},
        {"lock_rows": {"a": -1}},
        {"validation": {"a": 5}},
        {"expire_sessions_every": "often"},
        {"latency": {"ms": True}},
    ],
)
def test_bad_fault_documents_are_rejected(doc: Any) -> None:
    with pytest.raises(FaultError):
        Faults().apply(doc)


def test_api_usage_limit() -> None:
    usage = ApiUsage(2)
    assert [usage.try_count() for _ in range(3)] == [True, True, False]
    assert usage.used() == 2
    usage.reset(limit=5)
    assert usage.used() == 0 and usage.limit == 5


@dataclass(frozen=True)
class _FakeQuery:
    """Stands in for soql.CompiledQuery: any SQL plus a shape function."""

    sql: str
    params: tuple[Any, ...] = ()

    def shape(self, row: tuple[Any, ...], *, base_url_prefix: str) -> dict[str, Any]:
        return {"n": row[0]}


def _numbers(tmp_path: Path, count: int) -> Database:
    db = Database(tmp_path / "numbers.db")
    with db.write() as conn:
        conn.execute("CREATE TABLE t (n INTEGER, s TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, str(i)) for i in range(count)))
    return db


def test_locator_pages_cover_every_row_once(tmp_path: Path) -> None:
    db = _numbers(tmp_path, 1001)
    locators = Locators(tmp_path / "locators.db")
    with db.read() as conn:
        page = locators.first_page(conn, _FakeQuery("SELECT n, s FROM t ORDER BY n"), 200)
    seen = [r[0] for r in page.rows]
    assert page.total == 1001 and page.next_offset == 200 and page.locator
    while page.next_offset is not None:
        page = locators.page(page.locator or "", page.next_offset)
        seen += [r[0] for r in page.rows]
    assert seen == list(range(1001))
    with pytest.raises(ApiError):
        locators.page(page.locator or "", 1001)


def test_small_results_need_no_locator(tmp_path: Path) -> None:
    db = _numbers(tmp_path, 200)
    locators = Locators(tmp_path / "locators.db")
    with db.read() as conn:
        page = locators.first_page(conn, _FakeQuery("SELECT n FROM t"), 200)
    assert (page.total, page.locator, page.next_offset) == (200, None, None)
    assert locators.open_count() == 0


def test_locators_expire_after_disuse(tmp_path: Path) -> None:
    db = _numbers(tmp_path, 500)
    locators = Locators(tmp_path / "locators.db", ttl_seconds=0.05)
    with db.read() as conn:
        page = locators.first_page(conn, _FakeQuery("SELECT n FROM t"), 200)
    time.sleep(0.1)
    locators.sweep()
    with pytest.raises(ApiError) as caught:
        locators.page(page.locator or "", 200)
    assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
    check = sqlite3.connect(tmp_path / "locators.db")
    assert check.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_serve_flags_build_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "8443",
            "--reps",
            "5",
            "--deals",
            "50",
            "--unavailable-calls",
            "2",
            "--latency-ms",
            "10",
            "--faults",
            '{"lock_rows": {"a": 1}}',
        ]
    )
    config = config_from_args(args)
    assert (config.port, config.reps, config.deals) == (8443, 5, 50)
    assert config.faults == {
        "lock_rows": {"a": 1},
        "unavailable": {"calls": 2},
        "latency": {"ms": 10, "jitter_ms": 0},
    }
    with pytest.raises(ValueError):
        config_from_args(parser.parse_args(["--reps", "5"]))


def test_quotaflow_devorg_serve_has_the_same_flags() -> None:
    from webapp.cli import devorg_cmd

    ours = argparse.ArgumentParser()
    add_serve_arguments(ours)
    top = argparse.ArgumentParser()
    devorg_cmd.register(top.add_subparsers(dest="command"))
    parsed = top.parse_args(["devorg", "serve", "--port", "1", "--seed", "empty"])
    assert parsed.handler is not None
    expected = vars(ours.parse_args(["--port", "1", "--seed", "empty"]))
    assert {k: v for k, v in vars(parsed).items() if k in expected} == expected
    assert set(expected) <= set(vars(parsed))


def test_parse_announcement_ignores_extra_keys() -> None:
    line = (
        '{"instance_url": "https://127.0.0.1:1", "login_url": "https://127.0.0.1:1", '
        '"ca_cert": "/ca.pem", "client_id": "c", "client_secret": "s", "username": "u", '
        '"password": "p", "canvas_secret": "s", "jwt_key_file": "/k.pem", "future": 1}'
    )
    info = parse_announcement(line)
    assert info.instance_url == "https://127.0.0.1:1" and info.jwt_key_file == "/k.pem"


def test_eleventh_cursor_of_a_user_releases_their_oldest(tmp_path: Path) -> None:
    # Ten open query cursors per user; opening one more releases that user's oldest, whose
    # next page is then INVALID_QUERY_LOCATOR. Another user's cursors are not touched.
    db = _numbers(tmp_path, 500)
    locators = Locators(tmp_path / "locators.db")
    with db.read() as conn:
        other = locators.first_page(conn, _FakeQuery("SELECT n FROM t"), 200, owner="005B")
        mine = [
            locators.first_page(conn, _FakeQuery("SELECT n FROM t"), 200, owner="005A")
            for _ in range(11)
        ]
    with pytest.raises(ApiError) as caught:
        locators.page(mine[0].locator or "", 200)
    assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
    for page in (*mine[1:], other):
        assert locators.page(page.locator or "", 200).rows
    assert locators.open_count() == 11


def test_tls_name_adds_a_dns_name_and_reissues_an_older_certificate(tmp_path: Path) -> None:
    from devorg.tls import ensure_key_material, server_dns_names

    plain = ensure_key_material(tmp_path)
    assert server_dns_names(plain) == {"localhost"}
    first_ca = plain.ca_cert.read_bytes()
    named = ensure_key_material(tmp_path, ["login.salesforce.com"])
    assert server_dns_names(named) == {"localhost", "login.salesforce.com"}
    assert named.ca_cert.read_bytes() != first_ca
    # Asking again (or for fewer names) keeps the certificate.
    again = ensure_key_material(tmp_path, ["login.salesforce.com"])
    assert again.ca_cert.read_bytes() == named.ca_cert.read_bytes()
    assert ensure_key_material(tmp_path).ca_cert.read_bytes() == named.ca_cert.read_bytes()


@pytest.mark.parametrize("name", ["", "a..b", "-a.com", "a_b.com", "a b", "é.com", "x" * 64])
def test_tls_name_must_be_a_dns_name(name: str) -> None:
    from devorg.config import check_dns_name

    with pytest.raises(ValueError, match="DNS name"):
        check_dns_name(name)
    assert check_dns_name("Login.Salesforce.com") == "login.salesforce.com"


def test_bulk_jobs_forget_the_oldest_finished_jobs_past_the_caps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devorg import bulk

    monkeypatch.setattr(bulk, "MAX_STORED_ROWS", 10)
    jobs = bulk.BulkJobs()

    def job(state: str, rows: int, stamp: int) -> bulk.Job:
        made = bulk.Job(
            id=jobs.new_id(), kind="query", operation="query", object="Account",
            created_by=None, created=stamp, api_version="62.0", delimiter_name="COMMA",
            line_ending_name="LF", state=state, modstamp=stamp, rows=["x"] * rows,
        )  # fmt: skip
        jobs.add(made)
        return made

    old, running, newer = job("JobComplete", 8, 1), job("InProgress", 50, 2), job("Failed", 0, 3)
    job("JobComplete", 5, 4)  # now 8 + 5 finished rows > 10: the next job created drops
    job("Aborted", 0, 5)  # ...the oldest finished job
    ids = {j.id for j in jobs.all("query")}
    assert old.id not in ids and {running.id, newer.id} <= ids


def test_bulk_job_ids_do_not_repeat_after_a_restart() -> None:
    from devorg import bulk

    # Two processes (a devorg and the one after its restart) never hand out the same id.
    first, second = bulk.BulkJobs().new_id(), bulk.BulkJobs().new_id()
    assert first != second and first.startswith("750") and len(first) == 18
