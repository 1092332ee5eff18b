"""An administrator inserts an approval step in the designer, publishes it, and work follows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow
from .test_change_approval import login, logout

BEFORE = "一期交付 Phase one delivery"
AFTER = "二期交付 Phase two delivery"
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


def start_delivery(page: Page, title: str) -> str:
    """Start a project delivery as the signed-in project manager; return the instance address."""
    follow(page, page.locator("header nav").get_by_role("link", name="Start", exact=True))
    follow(page, page.get_by_role("link", name="Project delivery"))
    page.locator("#input-title").fill(title)
    page.locator("#input-project").fill("1")  # the record number, as typed without a search
    page.locator("#input-delivery_director").select_option("director")
    page.locator("#input-tech_lead").select_option("engineer1")
    page.locator("#input-test_lead").select_option("engineer2")
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
    login(page, "pm", passwords["pm"])
    old_instance = start_delivery(page, BEFORE)
    logout(page)

    # The administrator opens the shipped project delivery flow in the designer.
    login(page, "admin", passwords["admin"])
    follow(page, page.locator("header nav").get_by_role("link", name="Admin"))
    follow(page, page.get_by_role("link", name="Model and change flows in the flow designer"))
    follow(page, page.get_by_role("link", name="Project delivery"))
    expect(page.locator("#designer[data-ready]")).to_have_count(1)
    expect(page.locator("#designer-problems")).to_contain_text("No problems")

    # A task from the palette, dropped on the path between two steps, splits it.
    target = page.evaluate(MIDDLE, "to_kickoff")
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
    assert around == ["start_delivery", "kickoff"]

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
    expect(page.locator("table.impact")).to_contain_text("Kickoff")
    expect(page.locator("table.impact")).to_contain_text("Build")  # the demo's delivery
    shot(page, "publish-review")
    page.get_by_role("button", name=re.compile(r"^Publish version \d+$")).click()
    expect(page).to_have_url(re.compile(r"/versions$"))
    expect(page.locator(".flash").first).to_contain_text("of the flow is published")
    logout(page)

    # New work reaches the new step, in the project managers' inbox, with its due time.
    login(page, "pm", passwords["pm"])
    start_delivery(page, AFTER)
    follow(page, page.locator("header nav").get_by_role("link", name=re.compile("^Inbox")))
    new_row = page.locator("table.list tbody tr").filter(has_text=AFTER)
    expect(new_row.get_by_role("link", name="Change request approval")).to_be_visible()
    expect(new_row.locator(".deadline")).to_contain_text("On track")
    expect(new_row.locator(".deadline-cell")).to_contain_text("due ")
    old_row = page.locator("table.list tbody tr").filter(has_text=BEFORE)
    expect(old_row.get_by_role("link", name="Kickoff")).to_be_visible()
    shot(page, "inbox-pm")
    page.goto(old_instance)
    expect(page.locator("main")).to_contain_text("Kickoff")
    expect(page.locator("main")).not_to_contain_text("Change request approval")
