"""The sync loop: pull, map, calculate, store, diff and write back, one run per org at a time."""

from __future__ import annotations

from connector.sync.inputs import SyncBusy
from connector.sync.queue import request_sync
from connector.sync.run import SyncOptions, run_sync
from connector.sync.summary import SyncSummary

__all__ = ["SyncBusy", "SyncOptions", "SyncSummary", "request_sync", "run_sync"]
