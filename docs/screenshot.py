"""Take docs/images/rep-home.png: a rep's Home page in the demo, as Salesforce embeds it.

    .venv/bin/python docs/screenshot.py [--dir /tmp/quotaflow-shot] [--port 5077]

Runs `quotaflow demo` in its own folder, opens its `/demo` chooser in Debian's Chromium
(through Playwright, which cannot download browsers of its own here), follows the first
rep's "Home" link to the devorg's Lightning page and waits for the Quotaflow card inside
the Canvas iframe before taking the picture. Stops the demo when done.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "rep-home.png"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the demo did not answer at {url} within {seconds:.0f} s")


def _shoot(chooser: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        # The devorg's certificate is signed by its own private CA.
        page = browser.new_context(
            ignore_https_errors=True, viewport={"width": 1280, "height": 1120}
        ).new_page()
        page.goto(chooser)
        # The reps' table lists each rep with a "Home" link into the devorg's Lightning page.
        page.locator("section:has(h2:text-is('Reps')) a:text-is('Home')").first.click()
        frame = page.frame_locator("iframe[name=quotaflow]")
        frame.locator(".qf-card").first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


def main() -> int:
    """Start the demo, take the screenshot, stop the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/quotaflow-shot", help="the demo's state folder")
    parser.add_argument("--port", type=int, default=5077, help="the demo web app's port")
    args = parser.parse_args()
    quotaflow = Path(sys.executable).with_name("quotaflow")
    demo = subprocess.Popen(
        [str(quotaflow), "demo", "--dir", args.dir, "--port", str(args.port)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        chooser = f"http://127.0.0.1:{args.port}/demo"
        _wait_for(chooser, 300)
        _shoot(chooser, OUT)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
