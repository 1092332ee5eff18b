"""A leader opens a shipped report, sees its chart, clicks a bar and reaches a task."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow
from .test_change_approval import login


@pytest.mark.browser
def test_a_bar_drills_down_to_the_tasks_behind_it(page: Page, server, passwords, shot):
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(server)
    login(page, "leader", passwords["leader"])
    follow(page, page.locator("header nav").get_by_role("link", name="Reports"))
    follow(page, page.get_by_role("link", name="On-time completion rate by step"))
    canvas = page.locator("[data-chart]")
    expect(canvas).to_have_attribute("data-drawn", "1")
    expect(page.locator("table.report tbody tr").first).to_contain_text("100.0%")
    expect(page.locator(".formula")).to_contain_text("On-time rate = number of Tasks where")
    shot(page, "report-bar")

    # the middle of the first bar (Project manager review, 100%), where ECharts drew it
    x, y = canvas.evaluate(
        "el => echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [0, 50])")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(re.compile(r"/reports/on_time_rate_by_step/drill\?"))
    expect(page.locator("h1")).to_contain_text("Project manager review")
    rows = page.locator("table.drill tbody tr")
    expect(rows).to_have_count(1)
    shot(page, "report-drill")
    follow(page, rows.first.get_by_role("link"))
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
