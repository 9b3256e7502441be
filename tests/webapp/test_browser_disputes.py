"""A dispute end to end in a real browser, through the devorg's Lightning pages: a rep disputes
a statement line, the admin approves a partial amount, the next sync pays the adjustment and
writes it back: `Earnings_To_Date__c` on the rep's User moves by exactly that amount. Another
rep's dispute, denied, changes nothing. The people who must act get Salesforce Tasks."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.sync.conftest import OrgClient
from tests.webapp.test_browser import SHOTS, Live, _app_frame, _page
from tests.webapp.test_browser import _no_csp_violations as _no_csp_violations
from tests.webapp.test_browser import browser as browser
from tests.webapp.test_browser import live as live

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PARTIAL = Decimal("123.45")


def _earned(org: OrgClient, user_id: str) -> Decimal:
    rows = org.query(f"SELECT Earnings_To_Date__c FROM User WHERE Id = '{user_id}'")
    return Decimal(str(rows[0]["Earnings_To_Date__c"])).quantize(Decimal("0.01"))


def _home(live: Live, browser: Any, user: str) -> tuple[Any, Any]:
    page = _page(browser)
    page.goto(f"{live.web.info.instance_url}/lightning/page/home?user={user}")
    return page, _app_frame(page)


def _rep_disputes_a_line(live: Live, browser: Any, rep: str, shot: str) -> int:
    page, frame = _home(live, browser, rep)
    frame.click("button:has-text('Statement')")
    frame.wait_for_selector("button.qf-dispute-line")
    frame.locator("button.qf-dispute-line").first.click()
    frame.wait_for_selector("form.qf-dispute-form")
    frame.select_option("select[name=reason]", "wrong_split")
    frame.fill("input[name=expected_amount]", "5000.00")
    frame.fill("textarea[name=description]", "My split on this deal should be 100%.")
    frame.click("button:has-text('Submit dispute')")
    title = frame.wait_for_selector("h1:has-text('Dispute #')").inner_text()
    page.screenshot(path=str(SHOTS / shot), full_page=True)
    found = re.search(r"#(\d+)", title)
    assert found, title
    return int(found.group(1))


def _admin_resolves(live: Live, browser: Any, dispute_id: int, resolution: str, shot: str) -> None:
    page, frame = _home(live, browser, "admin@quotaflow.devorg")
    frame.click("button.qf-tab:has-text('Disputes')")
    frame.click(f"tr[data-dispute='{dispute_id}'] button:has-text('Open')")
    frame.click("form[data-action=review] button")
    form = "form[data-action=resolve]"
    frame.wait_for_selector(form)
    frame.select_option(f"{form} select[name=resolution]", resolution)
    if resolution != "denied":
        frame.fill(f"{form} input[name=amount]", str(PARTIAL))
    frame.fill(f"{form} textarea[name=note]", "Checked against the split records.")
    frame.click(f"{form} button")
    frame.wait_for_selector("[data-field=resolution]")
    page.screenshot(path=str(SHOTS / shot), full_page=True)


def _next_sync(live: Live, browser: Any) -> None:
    page, frame = _home(live, browser, "ops@quotaflow.devorg")
    frame.wait_for_selector("form.qf-ops-resync")
    frame.click("form.qf-ops-resync button[value=incremental]")
    notice = frame.wait_for_selector(".qf-alert")
    run_id = notice.inner_text().split("#", 1)[1].split()[0].strip(".,)")
    frame = page.frame(name="quotaflow")
    run = f"tr:has(button:text-is('#{run_id}'))"
    row = f"{run} .qf-badge--succeeded, {run} .qf-badge--partial"
    frame.wait_for_selector(row, timeout=120_000)


def test_partial_approval_is_paid_by_the_next_sync_and_a_denial_changes_nothing(
    live: Live, browser: Any
) -> None:
    web = live.web
    org = OrgClient(web.info)
    approved_rep, denied_rep = web.cast.rep_a, web.cast.rep_a2
    before = {rep: _earned(org, rep) for rep in (approved_rep, denied_rep)}
    approved = _rep_disputes_a_line(live, browser, approved_rep, "dispute-rep-opens.png")
    denied = _rep_disputes_a_line(live, browser, denied_rep, "dispute-rep-opens-2.png")
    _admin_resolves(live, browser, approved, "partially_approved", "dispute-admin-partial.png")
    _admin_resolves(live, browser, denied, "denied", "dispute-admin-denied.png")
    _next_sync(live, browser)
    assert _earned(org, approved_rep) - before[approved_rep] == PARTIAL
    assert _earned(org, denied_rep) == before[denied_rep]
    # The rep was asked, inside Salesforce, to read the resolution (a Task on their User).
    tasks = org.query(
        "SELECT Subject, Status FROM Task WHERE OwnerId = "
        f"'{approved_rep}' AND Subject LIKE 'Quotaflow dispute #{approved}:%'"
    )
    assert any("resolution" in t["Subject"] and t["Status"] == "Not Started" for t in tasks), tasks
    page, frame = _home(live, browser, approved_rep)
    frame.click("button.qf-tab:has-text('Disputes')")
    frame.click(f"tr[data-dispute='{approved}'] button:has-text('Open')")
    history = frame.wait_for_selector("#history").inner_text()
    assert "Resolved" in history and "123.45" in history
    page.screenshot(path=str(SHOTS / "dispute-rep-history.png"), full_page=True)
