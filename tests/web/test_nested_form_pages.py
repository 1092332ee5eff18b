"""A form with sections, a table and alternatives through the pages, with and without htmx."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import catalog
from andon.flows.models import FlowInstance, Task
from andon.loader import load_folder

DATA = Path(__file__).resolve().parents[1] / "data" / "order_form"
ORDER = {"customer[name]": "Acme", "customer[email]": "buyer@acme.example",
         "lines[#]": "1", "lines[0][item]": "Bolts", "lines[0][qty]": "3",
         "lines[0][price]": "19.99", "payment[?]": "1", "payment[vat]": "CN-42",
         "tags[0]": "urgent", "tags[2]": "gift", "tags[#]": "0",
         "deliver_at": "2026-11-23T09:30", "_tz": "Asia/Shanghai"}


@pytest.fixture
def order(session, people):
    """Load the order flow and its form; return the form version id."""
    assert [r.error for r in load_folder(session, DATA) if r.error] == []
    session.commit()
    return catalog.current(session, "form", "order").id


def part(page: str, element_id: str) -> str:
    """Return the HTML from the element with ``element_id`` to the end of the page."""
    start = page.find(f'id="{element_id}"')
    assert start >= 0, f"no element {element_id}"
    return page[start:]


def test_row_buttons_without_js_redraw_the_page_with_everything_kept(auth, order, session):
    auth.login("engineer1")
    added = auth.post("/start/order", {**ORDER, "_rows": "add:lines"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and "<html" in page
    assert 'name="lines[1][qty]"' in page and 'value="1"' in part(page, "input-lines-1-qty")
    assert 'value="Bolts"' in part(page, "input-lines-0-item")
    assert 'value="Acme"' in part(page, "input-customer-name")
    assert page.index('name="customer[name]"') < page.index('name="customer[email]"')
    assert "checked" in part(page, "input-tags-3")[:200]
    assert session.scalar(select(FlowInstance.id)) is None

    moved = auth.post("/start/order", {**ORDER, "lines[#]": "2", "lines[1][item]": "Nuts",
                                       "lines[1][qty]": "7", "_rows": "up:lines[1]"})
    page = moved.get_data(as_text=True)
    assert 'value="Nuts"' in part(page, "input-lines-0-item")[:300]
    assert 'value="Bolts"' in part(page, "input-lines-1-item")[:300]

    removed = auth.post("/start/order", {**ORDER, "lines[#]": "2", "lines[1][item]": "Nuts",
                                         "_rows": "remove:lines[0]"})
    page = removed.get_data(as_text=True)
    assert 'value="Nuts"' in part(page, "input-lines-0-item")[:300]
    assert 'name="lines[1][item]"' not in page


def test_invalid_nested_values_are_named_by_label_and_nothing_is_saved(auth, order, session):
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "en", "next": "/"})
    response = auth.post("/start/order", {**ORDER, "lines[0][qty]": "0",
                                          "lines[0][price]": "1.234", "payment[vat]": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a value greater than or equal to 1." in part(page, "field-lines-0-qty")[:900]
    assert "Enter a multiple of 0.01." in part(page, "field-lines-0-price")[:900]
    assert "This field is required." in part(page, "field-payment-vat")[:900]
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', page, re.S).group(1)
    assert 'href="#field-lines-0-qty">Quantity: Enter a value greater' in summary
    assert "VAT number: This field is required." in summary
    assert 'value="19.99"' not in page and 'value="1.234"' in page  # what was typed stays
    assert session.scalar(select(FlowInstance.id)) is None


def test_valid_nested_order_is_stored_as_typed_json(auth, order, session):
    auth.login("engineer1")
    response = auth.post("/start/order", ORDER)
    assert response.status_code == 302, response.get_data(as_text=True)
    task = session.scalar(select(Task).where(Task.step_id == "submit"))
    assert task.data == {
        "customer": {"name": "Acme", "email": "buyer@acme.example"},
        "lines": [{"item": "Bolts", "qty": 3, "price": 19.99}],
        "tags": ["urgent", "gift"], "deliver_at": "2026-11-23T09:30:00+08:00",
        "express": False, "payment": {"vat": "CN-42"}}
    check = session.scalar(select(Task).where(Task.step_id == "check"))
    page = auth.client.get(f"/tasks/{check.id}").get_data(as_text=True)
    assert 'value="Acme"' not in page  # a new step starts empty ...
    assert f'hx-post="/forms/{order}/node"' in page  # ... and its parts redraw through htmx


def test_htmx_row_action_returns_only_the_table(auth, order):
    auth.login("engineer1")
    response = auth.post(f"/forms/{order}/node", {**ORDER, "_node": "lines",
                                                  "_rows": "add:lines"},
                         headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div class="rows-field" id="node-lines"')
    assert 'name="lines[#]" value="2"' in html and 'value="Bolts"' in html


def test_htmx_blur_validates_one_field_in_context(auth, order):
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "en", "next": "/"})
    response = auth.post(f"/forms/{order}/node", {
        **ORDER, "lines[0][qty]": "two", "customer[name]": "",
        "_node": "lines[0][qty]", "_field": "lines[0][qty]"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="field field-number field-invalid" '
                                    'id="field-lines-0-qty"')
    assert "Enter a whole number." in html and 'value="two"' in html
    assert "customer" not in html  # only the field that changed comes back


def test_htmx_change_of_a_condition_redraws_the_section_with_the_dependent_field(auth, order):
    auth.login("engineer1")
    response = auth.post(f"/forms/{order}/node", {
        **ORDER, "express": "on", "_node": "", "_field": "express"},
        headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="form-fields" id="fields-root"')
    assert 'name="courier"' in html
    quiet = auth.post(f"/forms/{order}/node", {**ORDER, "_node": "", "_field": "express"},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="courier"' not in quiet


def test_boosted_row_button_gets_the_whole_page(auth, order):
    auth.login("engineer1")
    response = auth.post("/start/order", {**ORDER, "_rows": "remove:lines[0]"},
                         headers={"HX-Request": "true", "HX-Boosted": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    assert 'name="lines[#]" value="0"' in page and "Add at least" not in page


def test_draft_of_a_nested_form_comes_back_as_typed(auth, order, session):
    auth.login("engineer1")
    assert auth.post("/start/order", ORDER).status_code == 302
    check = session.scalar(select(Task).where(Task.step_id == "check"))
    draft = {**ORDER, "lines[#]": "2", "lines[1][item]": "Nuts", "tags[1]": "fragile"}
    assert auth.post(f"/tasks/{check.id}/draft", draft).status_code == 302
    page = auth.client.get(f"/tasks/{check.id}").get_data(as_text=True)
    assert 'value="Nuts"' in part(page, "input-lines-1-item")[:300]
    assert "checked" in part(page, "input-tags-2")[:200]
    assert 'value="2026-11-23T09:30"' in part(page, "input-deliver_at")[:300]
