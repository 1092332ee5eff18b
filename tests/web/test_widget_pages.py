"""Andon's widgets through the records pages, with and without htmx."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import catalog
from andon.forms.models import Record
from andon.forms.store import deploy_form

BENEFIT = Path(__file__).resolve().parents[1] / "data" / "widgets" / "benefit.json"
HTMX = {"HX-Request": "true"}
FORM = {"title": "Cache the price list", "severity": "high", "root_cause": "No cache",
        "avoided_loss": "1,000.10", "saved_cost": "200", "investment": "400",
        "completion": "12.5", "owner": "engineer1", "team": "engineers",
        "unit": "delivery-east", "summary": "Cheaper pages"}


@pytest.fixture
def benefit(session, people):
    """Publish the widget test form; return its version id."""
    deploy_form(session, BENEFIT.read_text(), "benefit.json")
    session.commit()
    return catalog.current(session, "form", "benefit").id


def field_html(page: str, name: str) -> str:
    """Return the HTML of one field's wrapper div (up to the next field)."""
    match = re.search(rf'<div[^>]*id="field-{name}".*?(?=<div class="field |\Z)',
                      page, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def test_the_new_page_draws_every_widget(auth, benefit):
    auth.login("engineer1")
    page = auth.client.get("/records/benefit/new").get_data(as_text=True)
    assert '<span class="affix" aria-hidden="true">¥</span>' in field_html(page, "investment")
    assert '<span class="affix" aria-hidden="true">$</span>' in field_html(page, "saved_cost")
    assert 'aria-hidden="true">%</span>' in field_html(page, "completion")
    owner = field_html(page, "owner")
    assert '<option value="engineer1">李雷 Li Lei</option>' in owner
    assert '<option value="engineers">工程师 Engineers</option>' in field_html(page, "team")
    assert 'value="delivery-east"' in field_html(page, "unit")
    roi = field_html(page, "roi")
    assert '<output id="input-roi" class="computed" data-value=""></output>' in roi
    assert 'name="roi"' not in page
    assert '<span>0</span> / 120' in field_html(page, "summary")
    assert 'id="field-root_cause"' not in page  # no severity chosen: the field is hidden
    severity = field_html(page, "severity")
    assert 'hx-target="#fields-root"' in severity and '"_node": ""' in severity


def test_a_submission_keeps_what_was_typed_on_error_and_stores_the_servers_values(
        auth, benefit, session):
    auth.login("engineer1")
    response = auth.post("/records/benefit/new", {**FORM, "avoided_loss": "1,000.105",
                                                  "roi": "99999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    loss = field_html(page, "avoided_loss")
    assert "at most two decimals" in loss and 'value="1,000.105"' in loss
    assert '<span>13</span> / 120' in field_html(page, "summary")
    response = auth.post("/records/benefit/new", {**FORM, "roi": "99999"})
    assert response.status_code == 302
    record = session.scalar(select(Record).where(Record.form_key == "benefit"))
    assert record.data["roi"] == 300.025 and record.data["avoided_loss"] == 1000.1
    assert record.data["owner"] == "engineer1" and record.data["unit"] == "delivery-east"
    shown = auth.client.get(response.location).get_data(as_text=True)
    assert "¥1,000.10" in shown and "$200.00" in shown and "300.025%" in shown
    assert "12.5%" in shown and "<dd>李雷 Li Lei</dd>" in shown  # the picked person by name


def test_a_hidden_field_is_not_required_and_its_value_is_not_stored(auth, benefit, session):
    auth.login("engineer1")
    response = auth.post("/records/benefit/new", {**FORM, "severity": "low",
                                                  "root_cause": "typed while it showed"})
    assert response.status_code == 302
    record = session.scalar(select(Record).where(Record.form_key == "benefit"))
    assert "root_cause" not in record.data
    response = auth.post("/records/benefit/new", {**FORM, "severity": "medium",
                                                  "root_cause": ""})
    assert response.status_code == 422
    assert "This field is required." in field_html(response.get_data(as_text=True),
                                                   "root_cause")


def test_htmx_changes_redraw_conditions_and_computed_values(auth, benefit):
    auth.login("engineer1")
    url = f"/forms/{benefit}/node"
    shown = auth.post(url, {**FORM, "_node": "", "_field": "severity"}, headers=HTMX)
    html = shown.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="form-fields" id="fields-root"')
    assert 'name="root_cause"' in html and "300.025%" in field_html(html, "roi")
    hidden = auth.post(url, {**FORM, "severity": "low", "_node": "", "_field": "severity"},
                       headers=HTMX).get_data(as_text=True)
    assert 'name="root_cause"' not in hidden
    zero = auth.post(url, {**FORM, "investment": "0", "_node": "", "_field": "investment"},
                     headers=HTMX).get_data(as_text=True)
    assert 'class="computed" data-value=""></output>' in field_html(zero, "roi")
    assert "must be" not in field_html(zero, "roi")  # empty, not an error


def test_without_htmx_a_full_submit_redraws_the_condition(auth, benefit):
    auth.login("engineer1")
    page = auth.post("/records/benefit/new", {**FORM, "severity": "low", "title": ""}
                     ).get_data(as_text=True)
    assert 'id="field-root_cause"' not in page and "This field is required." in page
    page = auth.post("/records/benefit/new", {**FORM, "title": ""}).get_data(as_text=True)
    assert 'name="root_cause"' in page and 'No cache' in page


def test_a_pick_that_names_nobody_is_refused_on_the_page(auth, benefit, session):
    auth.login("engineer1")
    response = auth.post("/records/benefit/new", {**FORM, "owner": "ghost"})
    assert response.status_code == 422
    owner = field_html(response.get_data(as_text=True), "owner")
    assert "There is no active user named ghost" in owner
    assert session.scalar(select(Record).where(Record.form_key == "benefit")) is None
