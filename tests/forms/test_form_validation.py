"""Validation of form data: one translatable Message per field, validators cached."""

import json
from pathlib import Path

import pytest

from andon.forms.schema import check_definition
from andon.forms.validation import (
    FORM_ERROR,
    validate,
    validate_submission,
    validator_for,
)
from andon.i18n import Message

FORMS = Path(__file__).resolve().parents[2] / "definitions" / "forms"

VALID = {"title": "Add SSO", "project": "Apollo", "reason": "Customer asked",
         "effort_days": "12.5", "customer_contact": "Ms Li"}


def load(name: str):
    """Return a shipped form definition as a FormSpec."""
    data = json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))
    return check_definition(data, f"{name}.json")


def spec_with(properties: dict, required: list | None = None):
    """Return a one-off FormSpec with the given top-level properties."""
    schema = {"type": "object", "properties": properties, "required": required or []}
    return check_definition({"key": "probe", "title": "Probe", "schema": schema}, "probe.json")


@pytest.fixture
def request_spec():
    return load("change_request")


def test_valid_submission_gives_typed_data_and_no_errors(request_spec):
    data, errors = validate_submission(request_spec, VALID)
    assert errors == {}
    assert data["effort_days"] == 12.5 and data["title"] == "Add SSO"


def test_missing_required_fields_are_named(request_spec):
    errors = validate(request_spec, {"title": "Add SSO"})
    assert set(errors) == {"project", "reason", "effort_days", "customer_contact"}
    assert all(isinstance(m, Message) for m in errors.values())
    assert errors["project"].msgid == "This field is required."


def test_maximum_names_the_field_and_the_limit(request_spec):
    _, errors = validate_submission(request_spec, {**VALID, "effort_days": "10001"})
    assert errors == {"effort_days": Message(
        "Enter a value less than or equal to %(limit)s.", {"limit": "10000"})}
    assert errors["effort_days"].render() == "Enter a value less than or equal to 10000."


def test_minimum_and_max_length(request_spec):
    _, errors = validate_submission(
        request_spec, {**VALID, "cost_impact": "-5", "title": "x" * 201})
    assert errors["cost_impact"].msgid == "Enter a value greater than or equal to %(limit)s."
    assert errors["title"].params == {"limit": "200", "length": 201}
    assert errors["title"].render() == "Enter at most 200 characters (you entered 201)."


def test_coercion_error_wins_over_required(request_spec):
    _, errors = validate_submission(request_spec, {**VALID, "effort_days": "lots"})
    assert errors == {"effort_days": Message("Enter a number.")}


def test_wrong_type_without_coercion(request_spec):
    errors = validate(request_spec, {**VALID, "effort_days": "12", "schedule_impact_days": 1.5})
    assert errors["effort_days"].msgid == "Enter a number."
    assert errors["schedule_impact_days"].msgid == "Enter a whole number."


def test_unknown_decision_is_a_choice_error():
    _, errors = validate_submission(load("change_review"), {"decision": "maybe"})
    assert errors == {"decision": Message("Choose one of the listed options.")}


def test_review_requires_a_decision_and_bounds_the_comment():
    _, errors = validate_submission(load("change_review"), {"comment": "x" * 2001})
    assert errors["decision"].msgid == "This field is required."
    assert errors["comment"].params["limit"] == "2000"


@pytest.mark.parametrize("prop, value, msgid, params", [
    ({"type": "number", "exclusiveMinimum": 0}, 0,
     "Enter a value greater than %(limit)s.", {"limit": "0"}),
    ({"type": "number", "exclusiveMaximum": 1.5}, 1.5,
     "Enter a value less than %(limit)s.", {"limit": "1.5"}),
    ({"type": "integer", "multipleOf": 5}, 7, "Enter a multiple of %(limit)s.", {"limit": "5"}),
    ({"type": "string", "minLength": 3}, "ab",
     "Enter at least %(limit)s characters (you entered %(length)s).",
     {"limit": "3", "length": 2}),
    ({"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}, "abc-1",
     "Enter a value in the expected format.", {}),
    ({"type": "string", "format": "date"}, "2024-02-30", "Enter a date as YYYY-MM-DD.", {}),
    ({"type": "string", "format": "email"}, "nobody", "Enter an email address.", {}),
    ({"type": "string", "format": "ipv4"}, "999.1.1.1",
     "Enter a value in the %(format)s format.", {"format": "ipv4"}),
    ({"enum": ["a", "b"]}, "c", "Choose one of the listed options.", {}),
    ({"const": "yes"}, "no", "Choose one of the listed options.", {}),
    ({"type": "string", "not": {"const": "x"}}, "x", "This value is not valid.", {}),
])
def test_message_per_keyword(prop, value, msgid, params):
    errors = validate(spec_with({"probe": prop}), {"probe": value})
    assert errors == {"probe": Message(msgid, params)}


def test_valid_date_passes():
    assert validate(spec_with({"due": {"type": "string", "format": "date"}}),
                    {"due": "2024-02-29"}) == {}


def test_errors_about_the_whole_form_use_the_form_key():
    spec = check_definition({"key": "probe", "title": "Probe", "schema": {
        "type": "object", "minProperties": 1, "properties": {"a": {"type": "string"}}}}, "p.json")
    assert validate(spec, {}) == {FORM_ERROR: Message("This value is not valid.")}


def test_conditionally_required_field_is_named():
    spec = check_definition({"key": "probe", "title": "Probe", "schema": {
        "type": "object",
        "properties": {"decision": {"enum": ["approve", "reject"]}, "comment": {"type": "string"}},
        "if": {"properties": {"decision": {"const": "reject"}}},
        "then": {"required": ["comment"]}}}, "p.json")
    assert validate(spec, {"decision": "reject"}) == {
        "comment": Message("This field is required.")}
    assert validate(spec, {"decision": "approve"}) == {}


def test_validator_cache_returns_the_same_object_for_an_equal_schema(request_spec):
    first = validator_for(request_spec.schema)
    equal = json.loads(json.dumps(request_spec.schema))
    reordered = dict(reversed(list(equal.items())))
    assert validator_for(reordered) is first
    assert validator_for(load("change_review").schema) is not first
