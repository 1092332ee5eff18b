"""A person raises a systemic problem, the leader's review accepts it, the report shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import Demo, follow, run_worker_once

TITLE = "小变更绕过变更流程 Small changes bypass the change process"


def login(page: Page, url: str, username: str, password: str) -> None:
    """Sign in and wait for the home page: the inbox, or a leader's dashboard."""
    page.goto(url)
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/(inbox/|dashboards/\w+)$"))


def logout(page: Page) -> None:
    """Sign out with the header button."""
    page.locator("header form[action$='/auth/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def start(page: Page, flow: str) -> None:
    """Open a flow's start form from the Start page."""
    follow(page, page.locator("header nav").get_by_role("link", name="Start"))
    follow(page, page.get_by_role("link", name=flow, exact=True))
    expect(page.locator("h1")).to_contain_text(flow)


def redrawn(page: Page, name: str, value: str) -> None:
    """Fill in a field a computed field reads, and wait until the form is redrawn."""
    page.locator("#fields-root").evaluate("root => { root.dataset.old = 'yes'; }")
    field = page.locator(f"#input-{name}")
    if field.evaluate("input => input.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)
        field.blur()
    expect(page.locator("#fields-root[data-old]")).to_have_count(0)


def submit(page: Page) -> None:
    """Submit a start form and wait for the instance page."""
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))


@pytest.mark.browser
def test_a_problem_is_raised_accepted_and_counted(
        page: Page, serve: Callable[..., str], demo: Demo, passwords: dict[str, str],
        shot: Callable[[Page, str], Path]) -> None:
    url = serve(worker=False)

    # 1. An engineer raises the problem with most of its evidence; the score says how much.
    login(page, url, "engineer1", passwords["engineer1"])
    start(page, "Systemic problem")
    page.locator("#input-title").fill(TITLE)
    page.locator("#input-source").select_option("frequent_changes")
    page.locator("#input-description").fill("客户在聊天里提小改动 Customers ask for tweaks in chat")
    page.locator("#input-sponsor").select_option("director")
    page.locator("#input-goal").fill("Every change goes through the change request flow")
    for name, value in (("revenue_loss", "120000"), ("added_cost", "80000"),
                        ("fix_cost", "50000"), ("timeline", "Pilot for a month"),
                        ("spread", "several_projects"), ("severity", "high"),
                        ("trend", "worsening")):
        redrawn(page, name, value)
    # the ROI and the evidence score (6 of 12 items) follow what is filled in
    expect(page.locator("#field-roi")).to_contain_text("300%")
    expect(page.locator("#field-evidence_completeness")).to_contain_text("50%")
    expect(page.locator("#field-completeness_band")).to_contain_text("Medium (40–74%)")
    shot(page, "raise-form")
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Submitted")
    diagram = page.locator(".diagram")
    expect(diagram).to_have_attribute("data-diagram", "ready", timeout=15_000)
    expect(diagram.locator(".step-completed[data-element-id=raise]")).to_have_count(1)
    expect(diagram.locator(".djs-element[data-element-id=week6]")).to_have_count(1)
    shot(page, "raised")
    logout(page)
    run_worker_once(demo)  # the problem record is kept

    # 2. The leader opens the biweekly review by hand; each new problem gets a review task.
    login(page, url, "leader", passwords["leader"])
    start(page, "Biweekly systemic problem review")
    submit(page)
    run_worker_once(demo)  # finds the new problems and opens their reviews
    run_worker_once(demo)
    follow(page, page.locator("header nav").get_by_role("link", name="Inbox"))
    row = page.locator("table.list tbody tr").filter(has_text="Review the systemic problem")
    expect(row).to_have_count(1)
    hold = page.locator("table.list tbody tr").filter(has_text="Hold the biweekly review")
    follow(page, hold.get_by_role("link").first)
    expect(page.locator("main")).to_contain_text(TITLE)
    shot(page, "review-round")

    follow(page, page.locator("header nav").get_by_role("link", name="Inbox"))
    follow(page, row.get_by_role("link", name="Review the systemic problem"))
    expect(page.locator(".step")).to_contain_text(TITLE)
    expect(page.locator(".step")).to_contain_text("50%")
    page.get_by_label("Mechanism", exact=True).check()
    page.get_by_label("Weekly or more", exact=True).check()
    page.get_by_label("High", exact=True).check()
    page.get_by_label("Accept: turn it into action points", exact=True).check()
    # accepting asks for the owner and the action points, keeping what was chosen
    owner = page.locator("#input-problem_owner")
    expect(owner).to_be_visible()
    expect(page.get_by_label("Mechanism", exact=True)).to_be_checked()
    owner.select_option("pm")
    shot(page, "review-accept-asks")
    page.get_by_role("button", name="Add a row").click()
    action = page.locator("[name='action_points[0][action]']")
    expect(action).to_be_visible()
    action.fill("Route chat requests to the form")
    page.locator("[name='action_points[0][owner]']").select_option("engineer1")
    page.locator("[name='action_points[0][due]']").fill("2026-12-18")
    shot(page, "review-accept")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    run_worker_once(demo)  # priority, record, action point

    # 3. The leader reads the accepted rate by evidence completeness, with its formula.
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    follow(page, page.get_by_role("link",
                                  name="Systemic problems: accepted rate by evidence completeness"))
    report = page.locator("table.report")
    expect(report.locator("tbody tr").filter(has_text="Medium")).to_contain_text("100")
    expect(page.locator(".formula")).to_contain_text("Accepted rate")
    expect(page.locator(".formula")).to_contain_text("at least 60%")
    expect(page.locator("[data-chart]")).to_have_attribute("data-drawn", "1")
    shot(page, "report-accepted-rate")
    logout(page)

    # 4. The action point is a task in its owner's inbox.
    login(page, url, "engineer1", passwords["engineer1"])
    expect(page.locator("table.list tbody")).to_contain_text("Carry out the action point")
    shot(page, "action-point-inbox")
