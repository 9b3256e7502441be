"""`quotaflow sync` on the command line: --dry-run lists the writes and writes nothing; a real
run then writes exactly those; a missing plan is a one-line error."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import delete

from connector.store.plans import PlanVersion
from webapp.cli import plans_cmd, sync_cmd

from .conftest import env_for, next_second, running_org  # type: ignore[import-not-found]


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sync_cmd.register(sub)
    plans_cmd.register(sub)
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


@pytest.mark.slow
def test_dry_run_then_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_org(tmp_path) as org:
        for name, value in env_for(org.info, org.settings.database_url).items():
            monkeypatch.setenv(name, value)
        calls = org.client.write_calls()
        assert _cli(["sync", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert org.client.write_calls() == calls  # nothing written
        would = [
            line
            for line in out.splitlines()
            if line.startswith("  Opportunity ") or line.startswith("  User ")
        ]
        assert out.startswith(f"would write {len(would):,} records:") and len(would) > 100
        assert "SPIFF_Status__c=" in out and "dry run" in out
        next_second()
        assert _cli(["sync"]) == 0
        out = capsys.readouterr().out
        assert f"written {len(would):,} records" in out and "succeeded" in out
        assert org.client.write_calls() == calls + -(-len(would) // 200)


@pytest.mark.slow
def test_queue_returns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_org(tmp_path) as org:
        for name, value in env_for(org.info, org.settings.database_url).items():
            monkeypatch.setenv(name, value)
        assert _cli(["sync", "--full", "--queue"]) == 0
        assert "queued full sync run" in capsys.readouterr().out
        assert org.client.write_calls() == 0
        # Without a plan, a run fails with a clear reason, before anything is written.
        with org.deps.sessions() as session:
            session.execute(delete(PlanVersion))
            session.commit()
        assert _cli(["sync"]) == 1
        assert "no compensation plan; import one with `quotaflow plans import FILE`" in (
            capsys.readouterr().out
        )
        assert org.client.write_calls() == 0
