"""Andon's widgets: money, percent, people pickers, computed fields and conditional fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.errors import InvalidDefinition
from andon.forms import widget_rules, widgets_people
from andon.forms.fields import build_fields, display
from andon.forms.records import create_record
from andon.forms.schema import check_definition
from andon.forms.store import deploy_form
from andon.forms.validation import validate_submission
from andon.forms.widget_fields import complete, readable
from andon.identity.models import User

BENEFIT = Path(__file__).resolve().parents[1] / "data" / "widgets" / "benefit.json"
FORM = {"title": "Cache the price list", "severity": "high", "root_cause": "No cache",
        "avoided_loss": "1,000.10", "saved_cost": "$200", "investment": "400",
        "completion": "12.5%", "owner": "engineer1", "team": "engineers",
        "unit": "delivery-east"}


def definition() -> dict:
    """Return the test form's definition."""
    return json.loads(BENEFIT.read_text())


def spec_of(change=None):
    """Return the checked test form, optionally changed first."""
    data = definition()
    if change:
        change(data)
    return check_definition(data, "benefit.json")


def problems(change) -> list[tuple[str, str]]:
    """Return the (path, message) problems of the test form after ``change``."""
    with pytest.raises(InvalidDefinition) as caught:
        spec_of(change)
    return caught.value.problems


def texts(errors) -> dict[str, str]:
    """Return each error rendered in English."""
    return {name: message.render() for name, message in errors.items()}


def test_money_reads_separators_and_signs_exactly_and_refuses_a_third_decimal():
    data, errors = validate_submission(spec_of(), FORM)
    assert errors == {}
    assert data["avoided_loss"] == 1000.1 and data["saved_cost"] == 200
    assert isinstance(data["saved_cost"], int)
    _, errors = validate_submission(spec_of(), {**FORM, "avoided_loss": "0.295"})
    assert texts(errors) == {
        "avoided_loss": "Enter an amount with at most two decimals, such as 1234.50."}
    data, errors = validate_submission(spec_of(), {**FORM, "avoided_loss": "0.29"})
    assert errors == {} and data["avoided_loss"] == 0.29  # 0.29 is a multiple of 0.01 here


def test_money_and_percent_show_their_signs_with_thousands_separators():
    spec = spec_of()
    data, _ = validate_submission(spec, {**FORM, "avoided_loss": "1234567.5"})
    shown = dict(display(spec, "en", data))
    assert shown["Avoided loss"] == "¥1,234,567.50"
    assert shown["Saved cost"] == "$200.00"
    assert shown["Completion"] == "12.5%"


def test_a_percent_is_stored_on_the_0_to_100_scale_and_checked_there():
    data, errors = validate_submission(spec_of(), {**FORM, "completion": "85"})
    assert errors == {} and data["completion"] == 85
    _, errors = validate_submission(spec_of(), {**FORM, "completion": "120%"})
    assert "completion" in errors
    _, errors = validate_submission(spec_of(), {**FORM, "completion": "most"})
    assert texts(errors) == {"completion": "Enter a percentage, such as 12.5."}


def test_a_computed_value_is_the_servers_never_the_posted_one():
    data, errors = validate_submission(spec_of(), {**FORM, "roi": "99999"})
    assert errors == {} and data["roi"] == 300.025  # (1000.10 + 200) / 400 * 100


def test_a_computed_value_is_empty_when_it_cannot_be_worked_out():
    spec = spec_of(lambda d: d["schema"]["properties"]["investment"].pop("exclusiveMinimum"))
    data, errors = validate_submission(spec, {**FORM, "investment": "0", "roi": "5"})
    assert errors == {} and "roi" not in data
    data, _ = validate_submission(spec, {**FORM, "saved_cost": "", "roi": "5"})
    assert "roi" not in data and "saved_cost" not in data


def test_a_computed_field_can_count_the_fields_filled_in():
    spec = spec_of(lambda d: d["layout"]["fields"]["roi"].update(
        computed="(1 if avoided_loss else 0) + (1 if saved_cost else 0)"
                 " + (1 if completion else 0)"))
    assert validate_submission(spec, FORM)[0]["roi"] == 3
    data, _ = validate_submission(spec, {**FORM, "saved_cost": "", "completion": ""})
    assert data["roi"] == 1  # empty fields read as None, so they count as not filled in


def test_a_computed_field_draws_read_only_with_the_servers_value():
    spec = spec_of()
    fields = widget_rules.draw(spec, build_fields(spec, "en", {**FORM, "roi": "1"}, {}), "en")
    roi = fields.find("roi")
    assert roi.read_only and roi.template == "_computed_field.html"
    assert roi.value == "300.025" and roi.extra["shown"] == "300.025%"
    investment = fields.find("investment")
    assert (investment.refresh, investment.target) == ("", "#fields-root")
    assert fields.find("title").refresh == "title"  # nothing depends on it


def test_a_hidden_field_is_not_required_and_its_value_is_dropped():
    spec = spec_of()
    low = {**FORM, "severity": "low", "root_cause": "typed before the change"}
    data, errors = validate_submission(spec, low)
    assert errors == {} and "root_cause" not in data
    _, errors = validate_submission(spec, {**FORM, "severity": "low", "root_cause": ""})
    assert errors == {}
    _, errors = validate_submission(spec, {**FORM, "severity": "medium", "root_cause": ""})
    assert texts(errors) == {"root_cause": "This field is required."}
    fields = widget_rules.draw(spec, build_fields(spec, "en", low, {}), "en")
    assert fields.find("root_cause") is None and fields.find("severity") is not None
    fields = widget_rules.draw(spec, build_fields(spec, "en", FORM, {}), "en")
    assert fields.find("root_cause").required


def test_typed_data_stored_directly_is_settled_too(session, people):
    deploy_form(session, BENEFIT.read_text(), "benefit.json")
    data, _ = validate_submission(spec_of(), {**FORM, "severity": "low"})
    record = create_record(session, "benefit", {**data, "roi": 1, "root_cause": "x"},
                           people["engineer1"])
    assert record.data["roi"] == 300.025 and "root_cause" not in record.data


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda d: d["layout"]["fields"]["roi"].update(computed="(avoided_loss + gain) / 2"),
     "$.layout.fields.roi.computed", "Unknown name 'gain'"),
    (lambda d: d["layout"]["fields"]["roi"].update(computed="avoided_loss +"),
     "$.layout.fields.roi.computed", "line 1"),
    (lambda d: d["layout"]["fields"]["roi"].update(computed="investment.real"),
     "$.layout.fields.roi.computed", "not allowed"),
    (lambda d: d["layout"]["fields"]["root_cause"].update(
        show_when={"field": "severity_level", "equals": "high"}),
     "$.layout.fields.root_cause.show_when.field", "severity_level"),
    (lambda d: d["layout"]["fields"]["root_cause"].update(show_when={"field": "severity"}),
     "$.layout.fields.root_cause.show_when", "equals"),
    (lambda d: d["layout"]["fields"]["title"].update(widget="money"),
     "$.layout.fields.title.widget", "type number"),
    (lambda d: d["layout"]["fields"]["investment"].update(widget="user"),
     "$.layout.fields.investment.widget", "type string"),
    (lambda d: d["layout"]["fields"]["investment"].update(currency="yuan"),
     "$.layout.fields.investment.currency", "three-letter"),
])
def test_bad_widget_layouts_are_named_by_their_json_path(change, path, words):
    found = problems(change)
    assert [p for p, _ in found] == [path]
    assert words in found[0][1]


def test_pickers_offer_active_people_and_store_stable_keys(session, people):
    people["director"].active = False
    session.flush()
    users = [key for key, _, _ in widgets_people.choices(session, "user")]
    assert "engineer1" in users and "director" not in users
    spec = spec_of()
    fields = complete(session, spec, build_fields(spec, "en", FORM, {}), "en")
    owner = fields.find("owner")
    assert ("engineer1", "李雷 Li Lei", False) in owner.extra["choices"]
    assert owner.extra["shown"] == "李雷 Li Lei"
    assert ("engineers", "工程师 Engineers", False) in fields.find("team").extra["choices"]
    assert fields.find("unit").extra["shown"] == "华东交付中心 East delivery centre"
    assert fields.find("investment").extra == {"sign": "¥", "before": True}


def test_picked_keys_must_name_someone_and_an_inactive_user_may_only_stay(session, people):
    spec = spec_of()
    data, _ = validate_submission(spec, {**FORM, "owner": "nobody", "team": "cooks"})
    errors = texts(widgets_people.validate_keys(session, spec, data))
    assert errors == {
        "owner": "There is no active user named nobody; choose one from the list.",
        "team": "There is no group cooks; choose one from the list."}
    people["director"].active = False
    session.flush()
    data = {**data, "owner": "director", "team": "engineers"}
    assert list(widgets_people.validate_keys(session, spec, data)) == ["owner"]
    assert widgets_people.validate_keys(session, spec, data, previous=copy.deepcopy(data)) == {}
    shown = readable(session, spec, data, "en")
    assert shown["owner"] == "陈静 Chen Jing (inactive)" and shown["team"] == "工程师 Engineers"
    assert session.scalar(select(User.username).where(User.username == "director"))
