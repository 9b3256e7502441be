"""An admin connects another org from the Org page, in a real browser: inside Salesforce (the
devorg's Lightning page framing the app) the admin clicks "Connect another org", a window of
its own opens on /connect, the admin chooses the org's login host, signs in to that org (a
second devorg sharing the connected app), allows access, and back on the Org page the new org
is listed under "Connected orgs". The screenshots are for a person to look at."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg
from tests.orgs.connect_kit import share_connected_app
from tests.webapp.canvas_kit import http, set_canvas_url
from tests.webapp.conftest import Web
from tests.webapp.test_browser import CHROMIUM, FLAGS, SHOTS, _app_frame, _page
from tests.webapp.test_browser import _no_csp_violations as _no_csp_violations
from webapp import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def subsidiary(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    """A second org with the same connected app (a connected app works in every org)."""
    data_dir = tmp_path_factory.mktemp("subsidiary") / "org"
    share_connected_app(data_dir, web.info)
    with start_devorg(data_dir, reps=4, deals=10, timeout=180) as info:
        yield info


@pytest.fixture(scope="module")
def app_url(
    web: Web, subsidiary: DevorgInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app on loopback, set up for /connect: the public URL is where it listens."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("connect-live")
    copy = tmp / "qf.db"
    shutil.copyfile(web.db_file, copy)
    bundle = tmp / "cas.pem"
    bundle.write_text(Path(web.info.ca_cert).read_text() + Path(subsidiary.ca_cert).read_text())
    served: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: served["app"](env, start), threaded=True
    )
    url = f"http://127.0.0.1:{server.server_port}"
    settings = web.settings.with_overrides(
        database_url=f"sqlite:///{copy}",
        frame_ancestors=("'self'", web.info.instance_url.rstrip("/")),
        public_url=url,
        sf_client_id=web.info.client_id,
        sf_client_secret=web.info.client_secret,
        sf_ca_bundle=str(bundle),
        encryption_keys=(Fernet.generate_key().decode(),),
        connect_login_urls=(subsidiary.login_url,),
    )
    served["app"] = create_app(settings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answer = http(subsidiary).post(
        f"{subsidiary.instance_url}/__devorg/callback-urls",
        json={"urls": [f"{url}/connect/callback"]},
    )
    assert answer.status_code < 300, answer.text
    set_canvas_url(web.info, f"{url}/canvas")
    SHOTS.mkdir(exist_ok=True)
    try:
        yield url
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _org_page(web: Web, page: Any) -> Any:
    page.goto(f"{web.info.instance_url}/lightning/page/home?user={ADMIN_USERNAME}")
    frame = _app_frame(page)
    frame.click("button.qf-tab:text-is('Org')")
    frame.wait_for_selector("h2:has-text('Connected orgs')")
    return page.frame(name="quotaflow")


def test_admin_connects_another_org_from_the_org_page(
    web: Web, subsidiary: DevorgInfo, app_url: str, browser: Any
) -> None:
    page = _page(browser)
    frame = _org_page(web, page)
    assert frame.locator(f"tr[data-org='{subsidiary.org_id}']").count() == 0
    page.screenshot(path=str(SHOTS / "org-connect-before.png"), full_page=True)

    with page.context.expect_page() as opened:
        frame.click("button:has-text('Connect another org')")
    window = opened.value
    window.wait_for_selector("h1:has-text('Connect a Salesforce org')")
    assert window.url == f"{app_url}/connect"
    window.check(f"input[name=login][value='{subsidiary.login_url}']")
    window.screenshot(path=str(SHOTS / "org-connect-choose-host.png"), full_page=True)
    window.click("button:has-text('Continue to Salesforce')")
    # The subsidiary's own login and consent pages.
    window.fill("input[name=username]", ADMIN_USERNAME)
    window.fill("input[name=pw]", subsidiary.password)
    window.click("button:has-text('Log In')")
    window.click("button:has-text('Allow')")
    window.wait_for_selector("h1:has-text('Org connected')")
    assert subsidiary.org_id in window.content()
    window.screenshot(path=str(SHOTS / "org-connect-done.png"), full_page=True)
    window.close()

    frame = _org_page(web, page)
    row = frame.wait_for_selector(f"tr[data-org='{subsidiary.org_id}']")
    text = row.inner_text()
    assert subsidiary.instance_url in text and "active" in text.lower()
    page.screenshot(path=str(SHOTS / "org-connect-listed.png"), full_page=True)


def test_ops_sees_no_connect_button(web: Web, app_url: str, browser: Any) -> None:
    page = _page(browser)
    page.goto(f"{web.info.instance_url}/lightning/page/home?user=ops@quotaflow.devorg")
    frame = _app_frame(page)
    frame.click("button.qf-tab:text-is('Org')")
    frame.wait_for_selector("h1:has-text('Org ')")
    assert frame.locator("button:has-text('Connect another org')").count() == 0
    assert frame.locator("h2:has-text('Connected orgs')").count() == 0
