"""An administrator builds a form in Chromium, publishes it, and a record is made with it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import follow

KINDS = ["Text", "Long text", "Number", "Money", "Date", "Drop-down", "Checkboxes", "Yes / no",
         "Table"]


def canvas(page: Page) -> list[str]:
    """Return the paths of the fields on the builder's canvas, in order."""
    return page.locator(".canvas-item").evaluate_all("items => items.map(i => i.dataset.path)")


def select_field(page: Page, path: str) -> None:
    """Select a field on the canvas by its path."""
    follow(page, page.locator(f".canvas-item[data-path='{path}'] > .canvas-row > a"))
    expect(page.locator("#panel-name")).to_have_value(path.rsplit("/", 1)[-1])


def apply(page: Page, **inputs: str) -> None:
    """Fill inputs of the property panel and press Apply."""
    for name, value in inputs.items():
        page.locator(f"#panel-{name}").fill(value)
    follow(page, page.locator(".panel").get_by_role("button", name="Apply"))


@pytest.mark.browser
def test_a_form_is_built_published_and_filled_in(
        page: Page, server: str, passwords: dict[str, str],
        shot: Callable[[Page, str], Path]) -> None:
    """From an empty form to a saved record, through the builder and the records pages."""
    page.goto(server)
    page.locator("#username").fill("admin")
    page.locator("#password").fill(passwords["admin"])
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    follow(page, page.locator("header nav").get_by_role("link", name="Admin"))
    follow(page, page.get_by_role("link", name="Build and change forms in the form builder"))
    expect(page.locator("h1")).to_have_text("Forms")

    # A new form, then one field of each kind from the palette.
    page.locator("#new-key").fill("site_visit")
    page.locator("#new-title_en").fill("Site visit")
    page.locator("#new-title_zh").fill("现场拜访")
    follow(page, page.get_by_role("button", name="Create and open the builder"))
    expect(page.locator("h1")).to_contain_text("Site visit")
    for number, kind in enumerate(KINDS, start=1):
        follow(page, page.locator(".palette").get_by_role("button", name=kind, exact=True))
        expect(page.locator(".canvas-item")).to_have_count(number)
    assert canvas(page) == ["text_1", "textarea_1", "number_1", "money_1", "date_1",
                            "select_1", "checkboxes_1", "yesno_1", "table_1"]

    # The table gets two columns: select it, and the palette adds into it.
    select_field(page, "table_1")
    expect(page.locator(".palette .help")).to_have_text("Into: table_1")
    follow(page, page.locator(".palette").get_by_role("button", name="Text", exact=True))
    select_field(page, "table_1")
    follow(page, page.locator(".palette").get_by_role("button", name="Number", exact=True))
    assert canvas(page)[-3:] == ["table_1", "table_1/text_1", "table_1/number_1"]

    # Properties: names, labels in both languages, required, options, a range.
    select_field(page, "text_1")
    page.locator("#panel-required").check()
    apply(page, name="customer", label_en="Customer", label_zh="客户")
    select_field(page, "money_1")
    page.locator("#panel-width").select_option("half")
    apply(page, name="budget", label_en="Budget", label_zh="预算", minimum="0")
    select_field(page, "select_1")
    apply(page, name="visit_kind", label_en="Kind of visit", label_zh="拜访方式",
          options="onsite | On site | 现场\nremote | Remote | 远程")
    select_field(page, "table_1")
    apply(page, name="attendees", label_en="Attendees", label_zh="参会人")
    select_field(page, "attendees/text_1")
    apply(page, name="person", label_en="Person", label_zh="姓名")

    # A bad property is refused by its input, and nothing typed is lost.
    select_field(page, "number_1")
    apply(page, name="Visit Hours", maximum="lots")
    expect(page.locator("#panel-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#panel-maximum")).to_have_value("lots")
    expect(page.locator(".panel [role=alert]")).to_be_visible()
    shot(page, "property-refused")
    page.locator("#panel-width").select_option("half")
    apply(page, name="hours", maximum="24", label_en="Hours")

    # Move the date to the top; the preview follows.
    select_field(page, "date_1")
    for _ in range(4):
        follow(page, page.locator(".canvas-item.selected > .canvas-row")
               .get_by_role("button", name=re.compile("up$")))
    assert canvas(page)[:2] == ["date_1", "customer"]
    # Dragging works too: the yes/no question goes before the customer.
    page.locator("main").evaluate("main => { main.dataset.replaced = 'no'; }")
    page.drag_and_drop(".canvas-item[data-path='yesno_1'] > .canvas-row",
                       ".canvas-item[data-path='customer'] > .canvas-row")
    expect(page.locator("main[data-replaced]")).to_have_count(0)
    assert canvas(page)[:3] == ["date_1", "yesno_1", "customer"]
    preview = page.locator("#builder-preview")
    expect(preview.locator("label").first).to_have_text(re.compile("Date"))
    expect(preview.locator("#input-budget")).to_be_visible()
    hours, budget = (preview.locator(f"#field-{name}").bounding_box()
                     for name in ("hours", "budget"))
    assert hours and budget and hours["y"] == budget["y"]  # half width: side by side
    expect(preview.get_by_role("button", name="Add a row")).to_be_visible()
    shot(page, "builder")

    # Publish; the versions page says who published it.
    follow(page, page.get_by_role("button", name="Publish", exact=True))
    expect(page.locator(".flash")).to_contain_text("Version 1 of the form is published")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody tr").first).to_contain_text("管理员")
    shot(page, "published")

    # Anyone now makes a record with it; one wrong value is named by its label.
    follow(page, page.locator("header nav").get_by_role("link", name="Records"))
    follow(page, page.locator(".tiles li").filter(has_text="Site visit")
           .get_by_role("link", name="New record"))
    page.locator("#input-customer").fill("中远物流 COSCO Logistics")
    page.locator("#input-budget").fill("12,000.505")
    page.locator("#input-visit_kind").select_option("onsite")
    page.locator("#input-hours").fill("3")
    page.get_by_role("button", name="Add a row").click()  # htmx redraws only the table
    page.locator("#input-attendees-0-person").fill("刘洋 Liu Yang")
    follow(page, page.get_by_role("button", name="Save", exact=True))
    error = page.locator("#field-budget .field-error")
    expect(error).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("Budget")
    expect(page.locator("#input-customer")).to_have_value("中远物流 COSCO Logistics")
    expect(page.locator("#input-attendees-0-person")).to_have_value("刘洋 Liu Yang")
    shot(page, "record-refused")

    page.locator("#input-budget").fill("12000.50")
    follow(page, page.get_by_role("button", name="Save", exact=True))
    expect(page).to_have_url(re.compile(r"/records/site_visit/\d+$"))
    main = page.locator("main")
    for shown in ("中远物流 COSCO Logistics", "¥12,000.50", "On site", "刘洋 Liu Yang"):
        expect(main).to_contain_text(shown)
    shot(page, "record-saved")
