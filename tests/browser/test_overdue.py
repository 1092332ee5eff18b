"""A task goes overdue under a moved clock; the manager is told and reassigns it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow, run_worker_once
from .test_change_approval import login, logout

TITLE = "升级数据库 Upgrade the database"
LATER = {"ANDON_CLOCK_OFFSET": "P10D", "ANDON_DEFAULT_LOCALE": "en"}


def request_change(page: Page, url: str, password: str) -> None:
    """Have engineer1 request a small change now."""
    page.goto(url)
    login(page, "engineer1", password)
    page.locator("header nav").get_by_role("link", name="Start", exact=True).click()
    page.get_by_role("link", name="Change request").click()
    for name, value in {"title": TITLE, "project": "PRJ-9", "reason": "End of support",
                        "effort_days": "3", "customer_contact": "Liu Yang"}.items():
        page.locator(f"#input-{name}").fill(value)
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    logout(page)


@pytest.mark.browser
def test_an_overdue_task_is_flagged_escalated_and_reassigned(page: Page, serve, demo, passwords,
                                                            shot):
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    request_change(page, serve(worker=False), passwords["engineer1"])

    later = serve(worker=False, **LATER)  # the same database, ten days on
    run_worker_once(demo, **LATER)  # reminders and escalations fall due
    page.goto(later)
    login(page, "pm", passwords["pm"])
    row = page.locator("table.list tbody tr").filter(has_text=TITLE)
    expect(row.locator(".deadline")).to_have_text("Overdue")
    expect(row).to_contain_text("of working time late")
    shot(page, "overdue-inbox-pm")

    follow(page, page.locator("header nav").get_by_role("link", name="Notifications"))
    escalation = page.locator(".notes li").filter(has_text="Overdue:").filter(has_text=TITLE)
    expect(escalation).to_have_count(1)  # the worker ran twice over it: one notification
    shot(page, "overdue-notifications-pm")
    escalation.get_by_role("link").click()
    page.get_by_text("Transfer to someone else").click()
    page.locator("#transfer-to").select_option("engineer2")
    page.locator("#transfer-reason").fill("I am travelling; please take it today")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator(".flash")).to_have_text("The task was transferred.")
    logout(page)

    login(page, "engineer2", passwords["engineer2"])
    row = page.locator("table.list tbody tr").filter(has_text=TITLE)
    expect(row).to_contain_text("韩梅梅 Han Meimei")
    expect(row.locator(".deadline")).to_have_text("Overdue")
    shot(page, "overdue-inbox-engineer2")
