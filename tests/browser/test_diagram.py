"""The instance diagram: bpmn-js draws the flow in Chromium and colours the steps by state."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from .conftest import follow

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "browser"
TITLE = "Diagram check: move the build server"


def login(page: Page, server: str, username: str, password: str) -> None:
    """Sign in from the printed URL and wait for the inbox."""
    page.goto(server)
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))


def request_change(page: Page) -> str:
    """Start a change request through the Start page; return the instance page's URL."""
    page.locator("header nav").get_by_role("link", name="Start").click()
    page.get_by_role("link", name="Change request").click()
    fields = {"title": TITLE, "project": "PRJ-9", "reason": "Old disks",
              "scope_change": "New machine", "effort_days": "12", "cost_impact": "900",
              "schedule_impact_days": "1", "customer_contact": "Liu Yang"}
    for name, value in fields.items():
        page.locator(f"#input-{name}").fill(value)
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    return page.url


def render_partial(demo: Any, instance_id: int) -> str:
    """Render templates/instances/_diagram.html as the app would, for a bare test page."""
    from andon.app import create_app

    app = create_app({"instance_path": Path(demo.env["ANDON_INSTANCE_PATH"])})
    try:
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            from flask import render_template

            return render_template("instances/_diagram.html",
                                   instance=SimpleNamespace(id=instance_id))
    finally:
        app.extensions["andon.engine"].dispose()


def expect_drawn(page: Page) -> None:
    """Wait until the viewer has drawn the flow with submit done and the review waiting."""
    diagram = page.locator(".diagram")
    expect(diagram).to_have_attribute("data-diagram", "ready", timeout=15_000)
    expect(diagram.locator(".djs-element[data-element-id=pm_decision]")).to_have_count(1)
    expect(diagram.locator(".step-completed[data-element-id=submit]")).to_have_count(1)
    expect(diagram.locator(".step-active[data-element-id=pm_review]")).to_have_count(1)
    expect(diagram.locator(".bjs-powered-by")).to_be_visible()  # bpmn.io licence


def stroke(page: Page, element_id: str) -> str:
    """Return the computed stroke colour of a drawn step's outline."""
    return page.locator(f".djs-element[data-element-id={element_id}] .djs-visual > :nth-child(1)"
                        ).evaluate("node => getComputedStyle(node).stroke")


@pytest.mark.browser
def test_diagram_partial_draws_the_flow_with_coloured_steps(
        page: Page, server: str, demo: Any, passwords: dict[str, str]) -> None:
    """Render the real partial on a page of the running server; look at the picture."""
    login(page, server, "engineer1", passwords["engineer1"])
    instance_url = request_change(page)
    instance_id = int(instance_url.rsplit("/", 1)[1])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # A bare page on the server's origin holding only the stylesheet and the partial.
    html = render_partial(demo, instance_id)
    page.set_content(f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                     f'<link rel="stylesheet" href="/static/style.css"></head>'
                     f'<body><main style="max-width:1100px">{html}</main></body></html>')
    expect_drawn(page)
    assert stroke(page, "submit") == "rgb(30, 123, 74)"
    assert stroke(page, "pm_review") == "rgb(31, 95, 168)"
    assert stroke(page, "director_approval") != stroke(page, "pm_review")
    lanes = page.locator(".diagram .djs-element[data-element-id^=lane_]")
    expect(lanes).to_have_count(3)
    expect(page.locator(".diagram-legend li")).to_have_text(["Completed", "Open", "Overdue"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".diagram-card").screenshot(path=str(SCREENSHOTS / "diagram.png"))

    # An overdue review is drawn red (the server's answer is altered: no clock to move).
    def overdue(route: Route) -> None:
        body = route.fetch().json()
        body["steps"]["pm_review"] = "overdue"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(re.compile(r"/instances/\d+/diagram$"), overdue)
    page.set_content(f"<!doctype html><html><body>{html}</body></html>")
    expect(page.locator(".diagram")).to_have_attribute("data-diagram", "ready")
    expect(page.locator(".step-overdue[data-element-id=pm_review]")).to_have_count(1)
    assert stroke(page, "pm_review") == "rgb(180, 35, 24)"
    page.locator(".diagram-card").screenshot(path=str(SCREENSHOTS / "diagram-overdue.png"))
    assert errors == []


@pytest.mark.browser
def test_instance_page_shows_the_diagram_after_boosted_navigation(
        page: Page, server: str, passwords: dict[str, str]) -> None:
    """The record page, reached by an htmx-boosted link, draws the diagram once."""
    login(page, server, "engineer1", passwords["engineer1"])
    request_change(page)
    follow(page, page.locator("header nav").get_by_role("link", name="Flows"))
    expect(page).to_have_url(re.compile(r"/instances/$"))
    page.get_by_role("link", name=TITLE).first.click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect_drawn(page)
    expect(page.locator(".diagram .bjs-container")).to_have_count(1)  # drawn once
    page.reload()
    expect_drawn(page)
    expect(page.locator(".diagram .bjs-container")).to_have_count(1)
