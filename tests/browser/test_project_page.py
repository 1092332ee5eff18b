"""A leader reads a finished client project's page from the demo history; its PM acts on one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow
from .test_change_approval import login, logout


@pytest.mark.browser
@pytest.mark.history(6, 6)
def test_a_project_page_shows_stages_tasks_changes_retrospective_and_budget(
        page: Page, server, passwords, shot):
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(server)
    login(page, "leader", passwords["leader"])
    follow(page, page.locator("header nav").get_by_role("link", name="Records"))
    follow(page, page.get_by_role("link", name="Client project"))
    closed = page.locator("#record-table tbody tr", has_text="Closed").first
    follow(page, closed.locator("td").nth(1).get_by_role("link"))
    expect(page).to_have_url(re.compile(r"/records/project/\d+$"))

    stages = page.locator("table.stages tbody tr")
    expect(stages).to_have_count(8)
    expect(stages.first).to_contain_text("Kickoff")
    expect(stages.last).to_contain_text("Archive")
    expect(page.locator("table.stages .verdict-not_reached")).to_have_count(0)
    verdicts = page.locator("table.stages .verdict").all_inner_texts()
    assert set(verdicts) <= {"On time", "Late"} and "On time" in verdicts
    # the delivery is done; what is still open comes from its retrospective's actions and
    # the problems raised about it, each linking to its task
    expect(page.locator("#open-tasks")).to_be_visible()
    assert all("/tasks/" in (link.get_attribute("href") or "")
               for link in page.locator("#open-tasks li a").all())
    expect(page.locator("#retrospective")).to_contain_text("What was done")
    expect(page.locator("#budget")).to_contain_text("Budget consumed")
    expect(page.locator("table.effort tbody tr").nth(3)).to_be_visible()  # 4 roles, + changes
    shot(page, "finished-project")

    follow(page, page.locator("header button[name=locale][lang=zh-CN]"))
    expect(page.locator("table.stages tbody tr").first).to_contain_text("项目启动")
    shot(page, "finished-project-zh")

    follow(page, page.locator("header button[name=locale][lang=en]"))
    logout(page)
    login(page, "pm", passwords["pm"])
    follow(page, page.locator("header nav").get_by_role("link", name="Records"))
    follow(page, page.get_by_role("link", name="Client project"))
    follow(page, page.get_by_role("link", name="华东电网调度平台 Grid dispatch platform"))
    build = page.locator("table.stages tbody tr", has_text="Build")
    expect(build).to_contain_text("In progress")
    expect(page.locator("#changes")).to_contain_text("Add export to the weekly report")
    shot(page, "project-in-build")
    follow(page, page.locator("#open-tasks").get_by_role("link", name="Build"))
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(page.locator("h1")).to_contain_text("Build")
