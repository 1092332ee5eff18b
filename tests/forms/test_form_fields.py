"""Field view-models, coercion of submitted strings, and read-only display."""

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from andon.forms.fields import build_fields, coerce, display
from andon.forms.schema import check_definition
from andon.i18n import Message

FORMS = Path(__file__).resolve().parents[2] / "definitions" / "forms"

KITCHEN_SINK = {
    "key": "kitchen_sink",
    "title": {"en": "All widgets", "zh-CN": "所有控件"},
    "schema": {
        "type": "object",
        "required": ["due"],
        "properties": {
            "due": {"type": "string", "format": "date"},
            "notes": {"type": "string", "maxLength": 500},
            "short": {"type": "string", "maxLength": 20},
            "urgent": {"type": "boolean"},
            "severity": {"type": "integer", "oneOf": [
                {"const": 1, "title": "Low"}, {"const": 2, "title": "High"}]},
            "channel": {"type": "string", "enum": ["mail", "phone"]},
            "attachments": {"type": "array", "items": {"type": "string"}},
            "ticket": {"type": "string", "readOnly": True},
        },
    },
    "layout": {"fields": {
        "channel": {"widget": "radio", "options": {
            "mail": {"en": "E-mail", "zh-CN": "邮件"}, "phone": {"en": "Phone", "zh-CN": "电话"}}},
    }},
}


def load(name: str):
    """Return a shipped form definition as a FormSpec."""
    data = json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))
    return check_definition(data, f"{name}.json")


@pytest.fixture
def request_spec():
    return load("change_request")


@pytest.fixture
def sink():
    return check_definition(KITCHEN_SINK, "kitchen_sink.json")


def by_name(fields):
    return {f.name: f for f in fields}


def test_change_request_fields_in_order_with_widgets_and_limits(request_spec):
    fields = build_fields(request_spec, "zh_Hans_CN", {}, {})
    assert [f.name for f in fields] == [
        "title", "project", "reason", "scope_change", "effort_days", "cost_impact",
        "schedule_impact_days", "customer_contact"]
    f = by_name(fields)
    assert (f["title"].widget, f["title"].max_length, f["title"].required) == ("text", 200, True)
    assert f["reason"].widget == "textarea" and f["scope_change"].required is False
    effort = f["effort_days"]
    assert (effort.widget, effort.minimum, effort.maximum, effort.step) == (
        "number", "0", "10000", "any")
    assert f["schedule_impact_days"].step == "1"
    assert effort.label == "工作量（人天）" and effort.help == "以人天计的工作量。"
    assert f["title"].placeholder == "用一句话描述变更"


def test_kitchen_sink_widgets(sink):
    f = by_name(build_fields(sink, "en", {}, {}))
    assert f["attachments"].node == "table" and f["attachments"].rows == []
    assert f["due"].widget == "date" and f["due"].required
    assert f["notes"].widget == "textarea"
    assert f["short"].widget == "text"
    assert f["urgent"].widget == "checkbox"
    assert f["severity"].widget == "select"
    assert f["severity"].options == [("1", "Low"), ("2", "High")]
    assert f["channel"].widget == "radio"
    assert f["channel"].options == [("mail", "E-mail"), ("phone", "Phone")]
    assert f["ticket"].read_only is True


def test_option_labels_follow_the_locale():
    spec = load("change_review")
    decision = build_fields(spec, "zh_Hans_CN", {}, {})[0]
    assert decision.widget == "radio"
    assert decision.options == [("approve", "批准"), ("reject", "驳回")]
    assert build_fields(spec, "en", {}, {})[0].options == [
        ("approve", "Approve"), ("reject", "Reject")]


def test_fields_keep_typed_text_and_carry_errors(request_spec):
    error = Message("Enter a number.")
    fields = build_fields(request_spec, "en", {"effort_days": "abc", "cost_impact": 1200.5},
                          {"effort_days": error})
    f = by_name(fields)
    assert f["effort_days"].value == "abc" and f["effort_days"].error is error
    assert f["cost_impact"].value == "1200.5" and f["cost_impact"].error is None


def test_checkbox_value_from_stored_bool_or_submitted_on(sink):
    assert by_name(build_fields(sink, "en", {"urgent": True}, {}))["urgent"].value == "on"
    assert by_name(build_fields(sink, "en", {"urgent": "on"}, {}))["urgent"].value == "on"
    assert by_name(build_fields(sink, "en", {"urgent": False}, {}))["urgent"].value == ""


@pytest.mark.parametrize("raw, typed", [
    ("12.5", 12.5), ("12", 12), (" 3 ", 3), ("0", 0), ("-1.25", -1.25), ("1e3", 1000.0)])
def test_number_coercion(request_spec, raw, typed):
    data, errors = coerce(request_spec, {"effort_days": raw})
    assert errors == {}
    assert data["effort_days"] == typed and type(data["effort_days"]) is type(typed)


@pytest.mark.parametrize("raw", ["abc", "12,5", "nan", "inf", "1..2"])
def test_number_that_cannot_be_read_gets_a_message(request_spec, raw):
    data, errors = coerce(request_spec, {"effort_days": raw})
    assert "effort_days" not in data
    assert errors["effort_days"] == Message("Enter a number.")


@pytest.mark.parametrize("raw, typed", [("7", 7), ("7.0", 7), ("-2", -2)])
def test_integer_coercion(request_spec, raw, typed):
    data, errors = coerce(request_spec, {"schedule_impact_days": raw})
    assert errors == {} and data["schedule_impact_days"] == typed
    assert isinstance(data["schedule_impact_days"], int)


@pytest.mark.parametrize("raw", ["1.5", "two", "1e3"])
def test_integer_that_is_not_whole_gets_a_message(request_spec, raw):
    _, errors = coerce(request_spec, {"schedule_impact_days": raw})
    assert errors["schedule_impact_days"].msgid == "Enter a whole number."


def test_empty_strings_are_omitted_and_unknown_keys_ignored(request_spec):
    data, errors = coerce(request_spec, MultiDict(
        [("title", "  "), ("effort_days", ""), ("project", "Apollo"), ("hacker", "x")]))
    assert data == {"project": "Apollo"} and errors == {}


def test_text_is_trimmed_and_line_breaks_normalised(request_spec):
    data, _ = coerce(request_spec, {"reason": "  first\r\nsecond  "})
    assert data["reason"] == "first\nsecond"


def test_checkbox_on_or_absent_becomes_bool(sink):
    assert coerce(sink, {"urgent": "on"})[0]["urgent"] is True
    assert coerce(sink, {})[0]["urgent"] is False


def test_enum_values_regain_their_type_and_read_only_is_ignored(sink):
    data, errors = coerce(sink, {"severity": "2", "channel": "phone", "ticket": "forged"})
    assert data == {"severity": 2, "channel": "phone", "urgent": False} and errors == {}


def test_unknown_enum_value_is_passed_on_for_validation(sink):
    data, _ = coerce(sink, {"channel": "fax"})
    assert data["channel"] == "fax"


def test_display_shows_enum_labels_in_both_locales():
    spec = load("change_review")
    data = {"decision": "reject", "comment": "预算不足"}
    assert display(spec, "zh_Hans_CN", data) == [("决定", "驳回"), ("意见", "预算不足")]
    assert display(spec, "en", data) == [("Decision", "Reject"), ("Comment", "预算不足")]
    assert display(spec, "en", {"decision": "approve"})[0] == ("Decision", "Approve")


def test_display_formats_numbers_and_booleans(request_spec, sink):
    shown = dict(display(request_spec, "en", {"effort_days": 12.0, "cost_impact": 99.5}))
    assert shown["Effort (man-days)"] == "12" and shown["Cost impact (CNY)"] == "99.5"
    assert shown["Scope change"] == ""
    in_chinese = {"Yes": "是", "No": "否"}.__getitem__
    assert dict(display(sink, "zh_Hans_CN", {"urgent": True}, in_chinese))["urgent"] == "是"
    assert dict(display(sink, "en", {"urgent": False}))["urgent"] == "No"
    assert dict(display(sink, "en", {"severity": 2}))["severity"] == "High"
