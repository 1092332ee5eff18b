"""Change requests in Chromium: the first-run walk through the simple change request, and a
change approved on a project whose budget and plan it then updates."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Demo, follow, run_worker_once

TITLE = "迁移测试环境 Move the test environment to the new cluster"
REASON = "客户用户数翻倍 The customer doubled its users"
NAV_ZH = ["收件箱", "发起", "流程", "记录", "仪表板", "报表", "通知"]
NAV_EN = ["Inbox", "Start", "Flows", "Records", "Dashboards", "Reports", "Notifications"]


def nav_links(page: Page) -> Locator:
    """Return the links of the main navigation in the header."""
    return page.locator("header nav a")


def login(page: Page, username: str, password: str) -> None:
    """Sign in on the login page and wait for the home page: the inbox, or a dashboard."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/(inbox/|dashboards/\w+)$"))


def logout(page: Page) -> None:
    """Sign out with the header button and wait for the login page."""
    page.locator("header form[action$='/auth/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def switch_language(page: Page, name: str, nav: list[str] | None = None) -> None:
    """Press a language button in the header; wait until the page shows that language."""
    page.locator("header").get_by_role("button", name=name).click()
    expect(page.locator("header").get_by_role("button", name=name)).to_have_attribute(
        "aria-pressed", "true")
    if nav is not None:
        expect(nav_links(page)).to_have_text([re.compile(rf"^\s*{word}") for word in nav])


def open_task(page: Page, step: str) -> None:
    """Open the inbox and the task at `step` for the change request of this test."""
    follow(page, nav_links(page).first)
    row = page.locator("table.list tbody tr").filter(has_text=TITLE)
    follow(page, row.get_by_role("link", name=step))
    expect(page.locator("h1")).to_have_text(step)
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))  # htmx pushes it after the swap


def decide(page: Page, decision: str, comment: str) -> None:
    """Fill in the review form and press Complete."""
    page.get_by_label(decision, exact=True).check()
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Complete").click()


@pytest.mark.browser
def test_change_request_is_approved_by_pm_and_director(
        page: Page, server: str, passwords: dict[str, str],
        shot: Callable[[Page, str], Path]) -> None:
    """A new user's first change request, from the printed URL to the report."""
    # 1. The printed URL leads to the login page; a wrong password keeps the user there.
    page.goto(server)
    expect(page).to_have_url(re.compile(r"/auth/login"))
    login_url = page.url
    page.locator("#username").fill("engineer1")
    page.locator("#password").fill("not-the-password")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    expect(page).to_have_url(login_url)
    expect(page.locator("#username")).to_have_value("engineer1")
    shot(page, "login-wrong-password")
    login(page, "engineer1", passwords["engineer1"])
    expect(page.locator("header .me")).to_have_text("李雷 Li Lei")
    shot(page, "inbox-engineer1")

    # 2. The language buttons switch the whole UI; a member sees no Admin link.
    switch_language(page, "简体中文", NAV_ZH)
    expect(page.locator("h1")).to_have_text("收件箱")
    shot(page, "inbox-chinese")
    switch_language(page, "English", NAV_EN)
    expect(page.locator("h1")).to_have_text("Inbox")
    shot(page, "inbox-english")

    # 3. Start a change request in Chinese; mistakes are shown next to their fields.
    switch_language(page, "简体中文", NAV_ZH)
    page.locator("header nav").get_by_role("link", name="发起").click()
    page.get_by_role("link", name="变更申请").click()
    expect(page.locator("h1")).to_have_text("变更申请")
    typed = {"project": "PRJ-2026-030", "reason": REASON,
             "scope_change": "Two more nodes and a new load balancer",
             "cost_impact": "48000", "schedule_impact_days": "5",
             "customer_contact": "Liu Yang"}
    for name, value in typed.items():
        page.locator(f"#input-{name}").fill(value)
    # A person mistypes the effort; the server says so and keeps what was typed.
    page.locator("#input-effort_days").press_sequentially("abc")
    page.get_by_role("button", name=re.compile("提交|Submit")).click()
    for name in ("effort_days", "title"):
        expect(page.locator(f"#field-{name} .field-error")).to_be_visible()
        expect(page.locator(f"#input-{name}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-effort_days")).to_have_value("abc")
    expect(page.locator("#field-effort_days .field-error")).to_have_text("请输入数字。")
    for name, value in typed.items():
        expect(page.locator(f"#input-{name}")).to_have_value(value)
        expect(page.locator(f"#field-{name} .field-error")).to_have_count(0)
    shot(page, "start-form-errors")

    page.locator("#input-title").fill(TITLE)
    page.locator("#input-effort_days").fill("12")
    page.get_by_role("button", name=re.compile("提交|Submit")).click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    instance_url = page.url
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".meta .state-running")).to_be_visible()
    timeline = page.locator(".timeline li")
    expect(timeline.first).to_contain_text("李雷 Li Lei")
    expect(timeline.first).to_contain_text("变更申请")
    shot(page, "instance-started")

    # 4. The project manager approves; a second submit of the same task is refused.
    logout(page)
    login(page, "pm", passwords["pm"])
    row = page.locator("table.list tbody tr").filter(has_text=TITLE)
    expect(row.get_by_role("link", name="Project manager review")).to_be_visible()
    shot(page, "inbox-pm")
    open_task(page, "Project manager review")
    expect(page.locator(".step dl")).to_contain_text(REASON)
    expect(page.locator(".step dl")).to_contain_text("12")
    second_tab = page.context.new_page()
    second_tab.goto(page.url)
    decide(page, "Approve", "Fits the budget; please go ahead.")
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    expect(page.locator("main")).not_to_contain_text(TITLE)
    shot(page, "inbox-pm-after-approval")
    decide(second_tab, "Reject", "Too late, I changed my mind.")
    expect(second_tab.locator("main")).to_contain_text("Already done")
    expect(second_tab.locator("main")).to_contain_text("You have already completed this task")
    shot(second_tab, "task-conflict")
    second_tab.close()

    logout(page)
    login(page, "director", passwords["director"])
    open_task(page, "Delivery director approval")
    director_task_url = page.url
    expect(page.locator(".step h2")).to_contain_text(["Describe the change",
                                                      "Project manager review"])
    shot(page, "task-director")
    decide(page, "Approve", "Approved.")
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")
    page.goto(instance_url)
    expect(page.locator(".meta .state-completed")).to_have_text("Completed")
    shot(page, "instance-completed-director")

    logout(page)
    login(page, "engineer2", passwords["engineer2"])
    page.goto(director_task_url)
    expect(page.locator("main")).to_contain_text("Not allowed")
    expect(page.locator("main")).to_contain_text("You do not have permission")
    shot(page, "forbidden-engineer2")

    # 5. The requester finds the finished request and who did what (still in Chinese).
    logout(page)
    login(page, "engineer1", passwords["engineer1"])
    expect(nav_links(page)).to_have_text([re.compile(rf"^\s*{word}") for word in NAV_ZH])
    follow(page, page.locator("header nav").get_by_role("link", name="流程"))
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(instance_url)
    expect(page.locator(".meta .state-completed")).to_be_visible()
    for who in ("李雷 Li Lei", "王芳 Wang Fang", "陈静 Chen Jing"):
        expect(page.locator(".timeline")).to_contain_text(who)
    shot(page, "instance-completed-engineer1")

    # 6. A leader reads the open-tasks report, with the way it is computed.
    logout(page)
    login(page, "leader", passwords["leader"])
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    page.get_by_role("link", name="Open tasks by step").click()
    expect(page.locator("h1")).to_have_text("Open tasks by step")
    report = page.locator("table.report")
    expect(report.locator("thead th")).to_have_count(4)
    expect(report.locator("tbody tr").first).to_be_visible()
    expect(report.locator("tbody td.empty")).to_have_count(0)
    expect(page.locator(".formula")).to_contain_text("How it is computed")
    shot(page, "report-open-tasks")

    # An administrator, unlike the others, sees the Admin link.
    logout(page)
    login(page, "admin", passwords["admin"])
    expect(nav_links(page)).to_have_text([re.compile(rf"^\s*{word}")
                                          for word in [*NAV_EN, "Admin"]])
    page.locator("header nav").get_by_role("link", name="Admin").click()
    expect(page.locator("h1")).to_have_text("Admin")
    shot(page, "admin")


CHANGE = "报表导出增强 Scheduled exports of the dispatch report"


def start_change(page: Page) -> str:
    """Start a change of 6 + 2 man-days on the Grid dispatch project; return the instance URL."""
    page.locator("header nav").get_by_role("link", name="Start").click()
    page.get_by_role("link", name="Change approval").click()
    expect(page.locator("h1")).to_have_text("Change approval")
    page.locator("#input-project").press_sequentially("Grid", delay=50)
    page.get_by_role("button", name=re.compile("Grid dispatch")).click()
    expect(page.locator(".picked")).to_contain_text("Grid dispatch")
    typed = {"title": CHANGE, "reason": "客户要求 The dispatch centre asked for it",
             "scope": "A nightly export of the dispatch report by email",
             "cost_impact": "16000", "schedule_impact_days": "7", "requester": "刘洋 Liu Yang"}
    for name, value in typed.items():
        page.locator(f"#input-{name}").fill(value)
    fill_days(page, development_days="6", deployment_days="2")
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.locator("h1")).to_have_text(CHANGE)
    return page.url


def fill_days(page: Page, **days: str) -> None:
    """Type man-days one field at a time: each change redraws the computed total."""
    for name, value in days.items():
        with page.expect_response(lambda answer: answer.request.method == "POST"):
            page.locator(f"#input-{name}").fill(value)
            page.locator(f"#input-{name}").blur()  # a change redraws the form
        expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
        expect(page.locator(f"#input-{name}")).to_have_value(value)


def open_change_task(page: Page, step: str) -> None:
    """Open the inbox and this change's task at `step`."""
    follow(page, nav_links(page).first)
    row = page.locator("table.list tbody tr").filter(has_text=CHANGE)
    follow(page, row.get_by_role("link", name=step))
    expect(page.locator("h1")).to_have_text(step)


@pytest.mark.browser
def test_an_approved_change_updates_the_project_budget_and_shows_in_the_report(
        page: Page, serve: Callable[..., str], demo: Demo, passwords: dict[str, str],
        shot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    """An engineer asks, the project manager approves and records the customer's written
    confirmation; the project's budget and plan grow by what the customer confirmed."""
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(serve(worker=False))  # the worker runs below, when the test says so
    login(page, "engineer1", passwords["engineer1"])
    instance_url = start_change(page)
    shot(page, "change-started")

    logout(page)
    login(page, "pm", passwords["pm"])
    open_change_task(page, "Project manager review")
    expect(page.locator("main")).to_contain_text("Grid dispatch")
    expect(page.locator(".step dl")).to_contain_text("Total effort (man-days)")
    shot(page, "review-pm")
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Reason for the decision").fill("Fits the plan; the customer confirms.")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")

    # 8 man-days: no director; the customer confirms 5 + 2 in writing, evidence required.
    open_change_task(page, "Customer confirmation")
    page.get_by_label("Confirmed the effort in writing").check()
    fill_days(page, confirmed_development_days="5", confirmed_deployment_days="2")
    page.locator("#input-signed_by").fill("刘洋 Liu Yang")
    page.locator("#input-signed_on").fill("2026-03-05")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#field-evidence .field-error")).to_be_visible()
    expect(page.locator("#input-confirmed_development_days")).to_have_value("5")
    expect(page.locator("#field-confirmed_deployment_days .field-error")).to_have_count(0)
    shot(page, "confirmation-needs-evidence")
    sheet = tmp_path / "change-sheet.pdf"
    sheet.write_bytes(b"%PDF-1.4 signed by the customer")
    page.locator("#input-evidence").set_input_files(str(sheet))
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status")).to_have_text("Done. The task has left your inbox.")

    for _ in range(3):  # the service steps: update the project, keep the change record
        run_worker_once(demo)
    page.goto(instance_url)
    expect(page.locator(".meta .state-completed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Change approved")
    shot(page, "change-approved")

    follow(page, page.locator("header nav").get_by_role("link", name="Records"))
    follow(page, page.get_by_role("link", name="Client project"))
    follow(page, page.get_by_role("link", name=re.compile("Grid dispatch")).first)
    expect(page.locator("main")).to_contain_text(CHANGE)
    expect(page.locator("main")).to_contain_text("1,516,000")  # 1,500,000 + 16,000
    expect(page.locator("main")).to_contain_text("变更 Change: 报表导出增强")
    shot(page, "project-updated")

    logout(page)
    login(page, "leader", passwords["leader"])
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    page.get_by_role("link", name="Change requests by project").click()
    expect(page.locator("h1")).to_have_text("Change requests by project")
    row = page.locator("table.report tbody tr").filter(has_text="PRJ-2026-014")
    expect(row).to_contain_text("100")
    expect(row.locator("td")).to_have_text(["PRJ-2026-014", "1", "8", "7", re.compile("100")])
    expect(page.locator("[data-chart]")).to_have_attribute("data-drawn", "1")
    page.wait_for_timeout(1500)  # the bars grow in; the picture should show them grown
    shot(page, "report-change-requests")
