"""A retrospective's action item, from the project manager's form to the report, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import Demo, follow, run_worker_once

TITLE = "华东电网复盘 Grid dispatch retrospective"
ACTION = "Add the design review to the pre-build checklist"


def login(page: Page, server: str, username: str, password: str) -> None:
    """Sign in and wait for the home page: the inbox, or a leader's dashboard."""
    page.goto(f"{server}/auth/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/(inbox/|dashboards/\w+)$"))


def logout(page: Page) -> None:
    """Sign out with the header button."""
    page.locator("header form[action$='/auth/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def open_task(page: Page, title: str, step: str) -> None:
    """Open the inbox task at a step of the instance with this title."""
    follow(page, page.locator("header nav a").first)
    row = page.locator("table.list tbody tr").filter(has_text=title)
    follow(page, row.get_by_role("link", name=step))
    expect(page.locator("h1")).to_have_text(step)


def add_row(page: Page, table: str) -> None:
    """Add a row to a table of the form and wait for its first input."""
    page.locator(f"#node-{table} button.row-add").click()
    expect(page.locator(f"[id^='input-{table}-0-']").first).to_be_visible()


@pytest.mark.browser
def test_an_action_item_is_done_checked_and_counted(
        page: Page, server: str, demo: Demo, passwords: dict[str, str],
        shot: Callable[[Page, str], Path]) -> None:
    due = (date.today() + timedelta(days=21)).isoformat()
    # 1. The project manager plans the retrospective of the first demo project.
    login(page, server, "pm", passwords["pm"])
    follow(page, page.locator("header nav").get_by_role("link", name="Start"))
    page.get_by_role("link", name="Project retrospective").click()
    page.locator("#input-title").fill(TITLE)
    page.locator("#input-project").fill("1")
    page.locator("#input-delivery_director").select_option("director")
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))

    # 2. ... and holds it: a goal, a case with its root cause, an action item.
    open_task(page, TITLE, "Hold the retrospective")
    for table in ("goals", "cases", "actions"):
        add_row(page, table)
    page.locator("#input-goals-0-goal").fill("Go live on time")
    page.locator("#input-goals-0-target").fill("15 May")
    page.locator("#input-goals-0-result").fill("29 May")
    page.locator("#input-goals-0-met").select_option("no")
    page.locator("#input-went_well").fill("Requirements signed in one round.")
    page.locator("#input-went_wrong").fill("The build started before the design review.")
    cause = page.locator("#input-cases-0-cause")
    expect(cause).to_be_visible()
    page.locator("#input-cases-0-description").fill("Build before the design review")
    cause.select_option("internal.mechanism.missing_review")
    page.locator("#input-actions-0-what").fill(ACTION)
    page.locator("#input-actions-0-owner").select_option("engineer1")
    page.locator("#input-actions-0-due_date").fill(due)
    page.locator("#input-actions-0-outcome").fill("Every build starts from a reviewed design")
    shot(page, "retrospective-form")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    logout(page)

    # 3. The delivery director approves; the worker starts the action's own flow.
    login(page, server, "director", passwords["director"])
    open_task(page, TITLE, "Review the retrospective")
    expect(page.locator("main")).to_contain_text("Missing review step")
    page.get_by_label("Approve: track the actions").check()
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    logout(page)
    run_worker_once(demo)
    run_worker_once(demo)

    # 4. The owner finds the action in the inbox, due on its date, and reports it done.
    login(page, server, "engineer1", passwords["engineer1"])
    row = page.locator("table.list tbody tr").filter(has_text=ACTION)
    expect(row.get_by_role("link", name="Carry out the action")).to_be_visible()
    shot(page, "owner-inbox")
    open_task(page, ACTION, "Carry out the action")
    page.locator("#input-done").fill("Checklist updated; three builds reviewed")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    logout(page)

    # 5. The project manager checks the effect; without evidence the form says so.
    login(page, server, "pm", passwords["pm"])
    open_task(page, ACTION, "Check the effect")
    page.get_by_label("Effective: close the action").check()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#field-evidence .field-error")).to_be_visible()
    page.locator("#input-evidence").fill("All three builds of the month had a review record")
    shot(page, "effectiveness-check")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    logout(page)
    run_worker_once(demo)

    # 6. The leader sees it closed on time.
    login(page, server, "leader", passwords["leader"])
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    page.get_by_role("link", name="Retrospective actions closed on time").click()
    table = page.locator("table.report")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("100")
    shot(page, "report-actions-closed-on-time")
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    page.get_by_role("link", name="Root causes of retrospective cases").click()
    expect(page.locator("table.report tbody tr").first).to_contain_text("Internal › Mechanism")
    shot(page, "report-root-causes")
