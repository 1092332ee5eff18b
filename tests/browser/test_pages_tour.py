"""A walk through the pages a project manager and an administrator use beside approvals."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .test_change_approval import login, logout, nav_links, switch_language

TITLE = "对接新计费系统 Integrate the new billing system"


@pytest.mark.browser
def test_inbox_filters_attachments_copies_taxonomies_and_settings(
        page: Page, server: str, passwords: dict[str, str], tmp_path: Path,
        shot: Callable[[Page, str], Path]) -> None:
    """Filter the inbox, attach a file and copy someone on a task, then look after causes."""
    page.goto(server)
    switch_language(page, "English")
    login(page, "pm", passwords["pm"])

    # The inbox narrows to one project without reloading the page, and the address keeps it.
    projects = page.locator("#project option")
    expect(projects).not_to_have_count(1)
    project = projects.nth(1).get_attribute("value") or ""
    page.locator("#project").select_option(project)
    expect(page).to_have_url(re.compile(r"project="))
    rows = page.locator("#inbox-tasks table.list tbody tr")
    expect(rows.first).to_contain_text(project)
    shot(page, "inbox-filtered")

    # On the task, a file is attached (with a Chinese name) and the director is copied.
    rows.first.get_by_role("link").first.click()
    expect(page.locator("h1")).not_to_have_text("Inbox")
    report = tmp_path / "客户确认邮件.pdf"
    report.write_bytes(b"%PDF-1.4 confirmation\n")
    page.locator("#attachment-file").set_input_files(str(report))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#attachments")).to_contain_text("客户确认邮件.pdf")
    page.get_by_text("Copy someone (CC)").click()
    director = page.locator("#cc-to option").filter(has_text="Chen Jing")
    page.locator("#cc-to").select_option(director.get_attribute("value") or "")
    page.locator("#cc-note").fill("For your information: the customer confirmed the effort.")
    page.locator("form[action$='/cc'] button[type=submit]").click()
    expect(page.get_by_role("status")).to_be_visible()
    shot(page, "task-attached-and-copied")
    logout(page)

    # The administrator sees the shared cause taxonomy as a tree and its versions.
    login(page, "admin", passwords["admin"])
    page.goto(f"{server}/admin/taxonomies/")
    page.get_by_role("link", name=re.compile("Cause", re.IGNORECASE)).first.click()
    expect(page.locator("ul.tree")).to_contain_text("Internal")
    shot(page, "taxonomy-tree")
    nav_links(page).filter(has_text="Records").click()
    expect(page.locator("h1")).to_have_text("Records")
    shot(page, "records")
