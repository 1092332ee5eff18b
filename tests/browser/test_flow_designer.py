"""An administrator inserts an approval step in the designer, publishes it, and work follows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow
from .test_change_approval import login, logout

BEFORE = "更换日志平台 Replace the log platform"
AFTER = "扩容存储 Add storage"
# The screen point in the middle of a connection's longest segment.
MIDDLE = """id => {
  const modeler = window.andonModeler, canvas = modeler.get('canvas');
  const points = modeler.get('elementRegistry').get(id).waypoints;
  let best = null;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1], b = points[i], length = Math.hypot(b.x - a.x, b.y - a.y);
    if (!best || length > best.length) best = {length, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2};
  }
  const box = canvas.viewbox(), rect = canvas._container.getBoundingClientRect();
  return {x: rect.left + (best.x - box.x) * box.scale, y: rect.top + (best.y - box.y) * box.scale};
}"""


def request_change(page: Page, title: str) -> str:
    """Submit a change request as the signed-in person; return the instance's address."""
    follow(page, page.locator("header nav").get_by_role("link", name="Start", exact=True))
    follow(page, page.get_by_role("link", name="Change request"))
    for name, value in {"title": title, "project": "PRJ-77", "reason": "Growth",
                        "effort_days": "4", "customer_contact": "Liu Yang"}.items():
        page.locator(f"#input-{name}").fill(value)
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    return page.url


def apply(page: Page) -> None:
    """Press the panel's Apply and wait until the draft says it saved."""
    page.locator("#designer-panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#designer-panel .notice")).to_have_text("Saved to the draft.")


@pytest.mark.browser
def test_an_approval_step_is_inserted_published_and_reached_by_new_work_only(
        page: Page, server: str, passwords: dict[str, str],
        shot: Callable[[Page, str], Path]) -> None:
    """The issue's walk: insert, configure, publish; old work stays on its version."""
    page.goto(server)
    login(page, "engineer1", passwords["engineer1"])
    old_instance = request_change(page, BEFORE)
    logout(page)

    # The administrator opens the shipped change request flow in the designer.
    login(page, "admin", passwords["admin"])
    follow(page, page.locator("header nav").get_by_role("link", name="Admin"))
    follow(page, page.get_by_role("link", name="Model and change flows in the flow designer"))
    follow(page, page.get_by_role("link", name="Change request"))
    expect(page.locator("#designer[data-ready]")).to_have_count(1)
    expect(page.locator("#designer-problems")).to_contain_text("No problems")

    # A task from the palette, dropped on the path between two steps, splits it.
    target = page.evaluate(MIDDLE, "to_pm_review")
    entry = page.locator(".djs-palette .entry[data-action='create.task']").bounding_box()
    assert entry is not None
    page.mouse.move(entry["x"] + entry["width"] / 2, entry["y"] + entry["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] - 20, target["y"] - 20, steps=10)
    page.mouse.move(target["x"], target["y"], steps=10)
    page.mouse.up()
    page.keyboard.type("Change request approval")
    page.keyboard.press("Enter")  # the name is kept and the new task stays selected
    expect(page.locator("#designer-status")).to_have_text("Saved")
    expect(page.locator("#designer-problems")).to_contain_text("task is not supported")
    new = page.evaluate("() => window.andonModeler.get('elementRegistry').filter("
                        "e => e.businessObject.name === 'Change request approval')[0].id")
    around = page.evaluate("id => { const e = window.andonModeler.get('elementRegistry')"
                           ".get(id); return [e.incoming[0].source.id, e.outgoing[0].target.id]"
                           "; }", new)
    assert around == ["submit", "pm_review"]

    # The side panel makes it a user task with a form, an owner and 2 working days.
    expect(page.locator("#designer-panel h2")).to_contain_text("Change request approval")
    page.locator("#panel-step_type").select_option("userTask")
    apply(page)
    page.locator("#panel-name_zh").fill("变更审批")
    page.locator("#panel-form").select_option("change_review")
    page.locator("#panel-owner").select_option("group:project-managers")
    page.locator("input[name=deadline_mode][value=duration]").check()
    page.locator("#panel-deadline").fill("2d")
    page.locator("#panel-deadline_time").select_option("working")
    apply(page)
    expect(page.locator("#panel-deadline")).to_have_value("2d")
    expect(page.locator("#designer-problems")).to_contain_text("No problems")
    shot(page, "designer-configured")

    # Publishing shows what changes and who is running; running work is left where it is.
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page).to_have_url(re.compile(r"/publish$"))
    expect(page.locator(".diff-added")).to_contain_text("Change request approval")
    expect(page.locator("table.impact")).to_contain_text("Project manager review")
    shot(page, "publish-review")
    page.get_by_role("button", name=re.compile(r"^Publish version \d+$")).click()
    expect(page).to_have_url(re.compile(r"/versions$"))
    expect(page.locator(".flash").first).to_contain_text("of the flow is published")
    logout(page)

    # New work reaches the new step, in the project managers' inbox, with its due time.
    login(page, "engineer1", passwords["engineer1"])
    request_change(page, AFTER)
    logout(page)
    login(page, "pm", passwords["pm"])
    new_row = page.locator("table.list tbody tr").filter(has_text=AFTER)
    expect(new_row.get_by_role("link", name="Change request approval")).to_be_visible()
    expect(new_row.locator(".deadline")).to_contain_text("On track")
    old_row = page.locator("table.list tbody tr").filter(has_text=BEFORE)
    expect(old_row.get_by_role("link", name="Project manager review")).to_be_visible()
    shot(page, "inbox-pm")
    page.goto(old_instance)
    expect(page.locator("main")).to_contain_text("Project manager review")
    expect(page.locator("main")).not_to_contain_text("Change request approval")
