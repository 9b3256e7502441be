"""`quotaflow devorg serve` (through its register/handler) prints the JSON line and serves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

SCRIPT = """
import argparse, sys
from webapp.cli import devorg_cmd
parser = argparse.ArgumentParser()
devorg_cmd.register(parser.add_subparsers(dest="command"))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.handler(args))
"""


def test_devorg_serve_command(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-c",
        SCRIPT,
        "devorg",
        "serve",
        "--seed",
        "empty",
        "--data-dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        expected = {
            "instance_url",
            "login_url",
            "ca_cert",
            "client_id",
            "client_secret",
            "username",
            "password",
            "canvas_secret",
            "jwt_key_file",
        }
        assert expected <= line.keys()
        assert line["instance_url"].startswith("https://127.0.0.1:")
        session = requests.Session()
        session.trust_env = False
        versions = session.get(
            line["instance_url"] + "/services/data/", verify=line["ca_cert"], timeout=30
        )
        assert versions.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
