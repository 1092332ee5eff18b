"""An admin builds "late tasks by cause, this quarter" from scratch in the report builder,
publishes it; a leader opens it, clicks a bar and reaches exactly the late tasks under
that cause, each linking to its task page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from andon import clock
from andon.database import make_engine, make_session_factory
from andon.flows import runtime
from andon.flows.models import Task
from andon.identity.models import User

from .conftest import Demo, follow
from .test_change_approval import login, logout

REQUEST = {"title": "Late review", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}
#: (days before now the review was completed, its cause); all a few days late
LATE = [(1, "external.system.contract_terms"), (1, "external.system.customer_budget"),
        (2, "external.system.contract_terms"), (2, "internal.people.overload"),
        (3, "external.mechanism.requirement_change"),
        (120, "external.system.customer_budget")]  # a quarter ago: not "this quarter"


def seed(demo: Demo) -> list[int]:
    """Complete change request reviews late, with causes, through the runtime; return the
    ids of this quarter's late reviews under External › System."""
    database = Path(demo.env["ANDON_INSTANCE_PATH"]) / "andon.db"
    engine = make_engine(f"sqlite:///{database}")
    expected = []
    with make_session_factory(engine)() as session:
        people = {u.username: u for u in session.query(User)}
        now = clock.now()
        for days, cause in LATE:
            done = now - timedelta(days=days)
            if days < 100 and (done.year, (done.month - 1) // 3) != (now.year,
                                                                     (now.month - 1) // 3):
                done = now  # on a quarter's first days, keep these in this quarter
            with clock.frozen(done - timedelta(days=8)):
                instance = runtime.start_instance(session, "change_request",
                                                  people["engineer1"], REQUEST)
            task = next(t for t in instance.tasks if t.state == "open")
            with clock.frozen(done):
                runtime.complete_task(session, task.id, people["pm"],
                                      {"decision": "approve"}, cause=cause)
            if days < 100 and cause.startswith("external.system."):
                expected.append(task.id)
        session.commit()
        assert all(session.get(Task, i).cause for i in expected)
    engine.dispose()
    return expected


def choose(page: Page, button: str, **values: str) -> None:
    """Choose values in one of the builder's forms and post it; wait for the new page."""
    for name, value in values.items():
        field = page.locator(f"#rb-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    follow(page, page.get_by_role("button", name=button, exact=True))


@pytest.mark.browser
def test_an_admin_builds_late_tasks_by_cause_and_a_reader_drills_into_a_cause(
        page: Page, demo: Demo, serve, passwords, shot):
    expected = seed(demo)
    server = serve()
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(server)
    login(page, "admin", passwords["admin"])
    page.goto(server + "/admin/")
    follow(page, page.get_by_role("link", name="Build and change reports in the report "
                                                "builder"))
    page.locator("#new-key").fill("late_by_cause")
    page.locator("#new-title_en").fill("Late tasks by cause, this quarter")
    page.locator("#new-title_zh").fill("本季度延误任务按原因")
    follow(page, page.get_by_role("button", name="Create and open the builder"))
    expect(page).to_have_url(re.compile(r"/admin/reports/late_by_cause/$"))

    choose(page, "Use this dataset", **{"dataset-choice": "tasks"})
    page.locator("#rb-filter_field").select_option("overdue")
    # a condition that does not suit a yes/no field is not even offered
    expect(page.locator("#rb-filter_op option[value=eq]")).to_be_disabled()
    choose(page, "Add filter", filter_op="is_true")
    expect(page.locator("#rb-filters")).to_contain_text("Overdue is yes")
    choose(page, "Add grouping", group_field="cause", group_unit="level2")
    choose(page, "Add measure", measure_agg="count", measure_key="late_tasks",
           measure_label_en="Late tasks", measure_label_zh="延误任务")
    page.locator("#rb-measures li").first.get_by_role("button", name="Remove").click()
    expect(page.locator("#rb-measures li")).to_have_count(1)
    choose(page, "Add sort", sort_key="late_tasks", sort_dir="desc")
    choose(page, "Use", vis_type="pareto")
    choose(page, "Add parameter", param_type="date_range", param_key="period",
           param_field="completed_at", param_default="this_quarter")

    preview = page.locator("#preview")
    expect(preview.locator("[data-chart]")).to_have_attribute("data-drawn", "1")
    expect(preview.locator(".formula")).to_contain_text("Grouped by: Cause at level 2")
    expect(preview.locator("table.report tbody tr").first).to_contain_text(
        re.compile(rf"External › System\s+{len(expected)}"))
    shot(page, "builder-preview")

    follow(page, page.get_by_role("button", name="Publish"))
    expect(page.locator("main")).to_contain_text("Version 1 of the report is published")
    logout(page)

    login(page, "leader", passwords["leader"])
    page.goto(server + "/reports/late_by_cause")
    canvas = page.locator("[data-chart]")
    expect(canvas).to_have_attribute("data-drawn", "1")
    expect(page.locator(".formula")).to_contain_text(
        "Completed within the period the reader chooses")
    shot(page, "reader-pareto")
    # the first (largest) bar is External › System; click the middle of it
    x, y = canvas.evaluate(
        f"el => echarts.getInstanceByDom(el).convertToPixel({{seriesIndex: 0}}, "
        f"[0, {len(expected) / 2}])")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(re.compile(r"/reports/late_by_cause/drill\?"))
    rows = page.locator("table.drill tbody tr")
    expect(rows).to_have_count(len(expected))
    expect(page.locator("table.drill")).to_contain_text("External › System › Contract scope")
    shot(page, "reader-drill")
    links = [rows.nth(i).get_by_role("link").first.get_attribute("href")
             for i in range(len(expected))]
    assert links == [f"/tasks/{task_id}" for task_id in expected]
    follow(page, rows.first.get_by_role("link").first)
    expect(page).to_have_url(re.compile(rf"/tasks/{expected[0]}$"))
    expect(page.locator("main")).to_contain_text(
        "Cause of the delay: External › System › Contract scope")
    shot(page, "task-page")

