"""Many devorgs in one process: `python -m devorg serve-many --count N --data-root DIR`.

Each org has its own data directory (`DIR/org0`, `DIR/org1`, ...), its own credentials, TLS
certificate, database, faults, API usage and port, exactly as `serve` would give it; only the
Python process is shared. A scale bench of hundreds of orgs needs this: a process per org costs
about 55 MB and a second of CPU to start, hundreds of them crowd a small machine.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

from werkzeug.serving import BaseWSGIServer

from devorg.config import DevorgConfig
from devorg.runtime import announcement, build_server, open_org
from devorg.state import Org


def org_configs(
    base: DevorgConfig, *, root: Path, count: int, first: int = 0
) -> list[DevorgConfig]:
    """One config per org: `base` with data directory `root/org<i>` and a free port."""
    if count < 1:
        raise ValueError("--count must be at least 1")
    return [
        dataclasses.replace(base, data_dir=root / f"org{i}", port=0)
        for i in range(first, first + count)
    ]


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_many(configs: list[DevorgConfig]) -> int:
    """Serve every org until SIGTERM/SIGINT, one announcement line per org; 0 on a clean stop."""
    # Opening an org seeds SQLite and writes key material: a few at a time.
    with ThreadPoolExecutor(4) as pool:
        orgs: list[Org] = list(pool.map(open_org, configs))
    servers: list[BaseWSGIServer] = [build_server(org) for org in orgs]
    signal.signal(signal.SIGTERM, _stop)
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
        for server in servers
    ]
    for thread in threads:
        thread.start()
    for org in orgs:
        print(json.dumps(announcement(org)), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        for org in orgs:
            org.locators.close()
            org.db.close()
        print("devorg: stopped", file=sys.stderr, flush=True)
    return 0
