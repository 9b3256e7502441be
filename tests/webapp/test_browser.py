"""The real embedding path in a real browser: Debian's Chromium (headless, via Playwright)
opens the devorg's Lightning pages, which POST a signed request into an iframe of the app.

Screenshots land in tests/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from connector.clock import ClockOptions, SyncWorker, run_clock
from connector.deps import build_sync_deps
from tests.sync.conftest import OrgClient
from tests.webapp.canvas_kit import set_canvas_url
from tests.webapp.conftest import Web
from webapp import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@dataclass
class Live:
    """The app served on loopback over a private copy of the synced database, with a clock."""

    web: Web
    url: str
    db_file: Path
    settings: Any


@pytest.fixture(scope="module")
def live(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed (the Quick start installs it)")
        pytest.skip("Debian's chromium is not installed")
    copy = tmp_path_factory.mktemp("live") / "qf.db"
    shutil.copyfile(web.db_file, copy)
    origin = web.info.instance_url.rstrip("/")
    settings = web.settings.with_overrides(
        database_url=f"sqlite:///{copy}", frame_ancestors=("'self'", origin)
    )
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    deps = build_sync_deps(settings)
    worker = SyncWorker(deps, options=ClockOptions(interval_seconds=3600, queue_poll_seconds=1))
    stop = threading.Event()
    clock = threading.Thread(target=run_clock, args=(worker,), kwargs={"stop": stop}, daemon=True)
    clock.start()
    set_canvas_url(web.info, f"{url}/canvas")
    SHOTS.mkdir(exist_ok=True)
    try:
        yield Live(web, url, copy, settings)
    finally:
        stop.set()
        clock.join(timeout=60)
        server.shutdown()
        deps.engine.dispose()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


CSP_ERRORS: list[str] = []


def _page(browser: Any, *, width: int = 1280, height: int = 1000) -> Any:
    context = browser.new_context(
        ignore_https_errors=True, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    # A strict CSP only holds if nothing on our pages needs an exception: any violation
    # (inline script or style, a foreign host) shows up in the console.
    page.on(
        "console",
        lambda msg: CSP_ERRORS.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return page


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    CSP_ERRORS.clear()
    yield
    assert CSP_ERRORS == [], CSP_ERRORS


def _app_frame(page: Any) -> Any:
    page.wait_for_selector("iframe[name=quotaflow]")
    frame = page.frame(name="quotaflow")
    assert frame is not None
    frame.wait_for_load_state()
    return frame


def test_rep_sees_the_commission_of_the_opportunity(live: Live, browser: Any) -> None:
    web = live.web
    rep = web.cast.rep_a
    deals = OrgClient(web.info).query(
        "SELECT Id, Name, Estimated_Commission__c FROM Opportunity WHERE OwnerId = "
        f"'{rep}' AND IsWon = true AND Estimated_Commission__c > 0 ORDER BY Id LIMIT 1",
    )
    assert deals, "the demo rep has no won deal with a commission"
    deal = deals[0]
    page = _page(browser)
    page.goto(f"{web.info.instance_url}/lightning/r/Opportunity/{deal['Id']}/view?user={rep}")
    frame = _app_frame(page)
    owner = frame.wait_for_selector("[data-owner-amount]")
    shown = Decimal(owner.get_attribute("data-owner-amount"))
    assert shown == Decimal(str(deal["Estimated_Commission__c"])).quantize(Decimal("0.01"))
    assert deal["Name"] in frame.content()
    page.screenshot(path=str(SHOTS / "rep-opportunity.png"), full_page=True)
    narrow = _page(browser, width=420, height=900)
    narrow.goto(f"{web.info.instance_url}/lightning/page/home?user={rep}&location=utility")
    _app_frame(narrow).wait_for_selector(".qf-card")
    narrow.screenshot(path=str(SHOTS / "rep-utility-bar.png"))
    home = _page(browser)
    home.goto(f"{web.info.instance_url}/lightning/page/home?user={rep}")
    _app_frame(home).wait_for_selector(".qf-card")
    home.screenshot(path=str(SHOTS / "rep-home.png"), full_page=True)


def _active_mapping_version(live: Live) -> tuple[int, int]:
    from connector.store.mapping_versions import active_version, list_versions
    from tests.store_kit import unit_of_work

    app = create_app(live.settings)
    with app.app_context(), unit_of_work() as uow:
        active = active_version(uow.session, live.web.org_id)
        count = len(list_versions(uow.session, live.web.org_id))
        assert active is not None
        return active.version, count


def test_admin_saving_a_wrong_field_shows_the_error_beside_it(live: Live, browser: Any) -> None:
    before = _active_mapping_version(live)
    page = _page(browser)
    page.goto(f"{live.web.info.instance_url}/lightning/page/home?user=admin@quotaflow.devorg")
    frame = _app_frame(page)
    frame.click("button.qf-tab:has-text('Mappings')")
    frame.wait_for_selector("#mapping-form")
    field = '[data-field-path="deal.fields.amount.source"]'
    frame.fill(f"{field} input", "Amount_Typo__c")
    frame.click("button:has-text('Save as new version')")
    error = frame.wait_for_selector(f"{field}.qf-field--error .qf-field-error")
    assert "Amount_Typo__c" in error.inner_text()
    assert "Nothing was stored" in frame.content()
    frame.locator(field).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "admin-mapping-error.png"))
    assert _active_mapping_version(live) == before  # same active version, no new one


def test_ops_resync_creates_a_run_that_completes(live: Live, browser: Any) -> None:
    page = _page(browser)
    page.goto(f"{live.web.info.instance_url}/lightning/page/home?user=ops@quotaflow.devorg")
    frame = _app_frame(page)
    frame.wait_for_selector("form.qf-ops-resync")
    frame.click("form.qf-ops-resync button[value=incremental]")
    notice = frame.wait_for_selector(".qf-alert")
    run_id = notice.inner_text().split("#", 1)[1].split()[0].strip(".,)")
    page.screenshot(path=str(SHOTS / "ops-resync-queued.png"))
    # The clock picks the request up; ops.js refreshes the page when the run finishes.
    frame = page.frame(name="quotaflow")
    deadline_ms = 90_000
    row = f"tr:has(button:text-is('#{run_id}')) .qf-badge--succeeded"
    frame.wait_for_selector(row, timeout=deadline_ms)
    page.screenshot(path=str(SHOTS / "ops-resync-done.png"), full_page=True)


def test_manager_team_page(live: Live, browser: Any) -> None:
    page = _page(browser)
    page.goto(f"{live.web.info.instance_url}/lightning/page/home?user={live.web.cast.manager_a}")
    frame = _app_frame(page)
    frame.click("button.qf-tab:has-text('Team')")
    frame.wait_for_selector("svg.qf-chart")
    page.screenshot(path=str(SHOTS / "manager-team.png"), full_page=True)
