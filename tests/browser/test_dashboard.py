"""A leader signs in to their dashboard, changes the shared period and drills into a bar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_change_approval import login

BY_FLOW = 1  # the tile of the on-time rate by flow


@pytest.mark.browser
def test_a_leader_lands_on_the_dashboard_and_drills_down_from_a_tile(page: Page, server,
                                                                      passwords, shot):
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(server)
    login(page, "leader", passwords["leader"])
    expect(page).to_have_url(re.compile(r"/dashboards/delivery_overview$"))
    expect(page.locator("h1")).to_have_text("Delivery overview")
    tile = page.locator(f"[data-tile='{BY_FLOW}']")
    expect(tile.locator("[data-chart]")).to_have_attribute("data-drawn", "1")
    expect(page.locator("[data-tile='0'] .kpi-value")).to_be_visible()
    expect(page.locator("[data-tile] h2 a")).to_have_count(8)  # every tile has loaded
    shot(page, "dashboard")

    # a period before anything happened: every tile redraws, empty, and the URL says so
    page.locator("input[name=period_from]").fill("2020-01-01")
    page.locator("input[name=period_to]").fill("2020-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period_from=2020-01-01&period_to=2020-01-31"))
    expect(tile.locator("td.empty")).to_have_text("No rows.")
    expect(tile.locator("[data-chart]")).to_have_count(0)
    shot(page, "dashboard-empty-period")

    page.locator("input[name=period_to]").fill("")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period_from=2020-01-01&period_to=&"))
    canvas = tile.locator("[data-chart]")
    expect(canvas).to_have_attribute("data-drawn", "1")
    shot(page, "dashboard-since-2020")

    # the first bar of the on-time rate by flow, where ECharts drew it
    x, y = canvas.evaluate("el => { const c = echarts.getInstanceByDom(el); const v ="
                           " c.getOption().series[0].data[0].value;"
                           " return c.convertToPixel({seriesIndex: 0}, [0, v / 2]); }")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(re.compile(r"/reports/on_time_rate_by_flow/drill\?.*"
                                        r"period_from=2020-01-01"))
    expect(page.locator("table.drill tbody tr").first.get_by_role("link")).to_be_visible()
    shot(page, "dashboard-drill")
