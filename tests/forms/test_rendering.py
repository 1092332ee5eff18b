"""Any JSON Schema draws as a form and reads back as typed JSON: sections, rows, choices."""

from __future__ import annotations

import json
from dataclasses import asdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from andon import clock
from andon.forms import widgets
from andon.forms.fields import build_fields, coerce, display
from andon.forms.names import rearrange
from andon.forms.nodes import walk
from andon.forms.schema import FormSpec, check_definition
from andon.forms.validation import validate_submission
from andon.i18n import Message

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "platform" / "web" / "templates"
ORDER = json.loads((ROOT / "tests/data/order_form/forms/order.json").read_text("utf-8"))
VOID = {"input", "br", "hr", "img", "meta", "link"}


def spec_of(schema: dict, layout: dict | None = None) -> FormSpec:
    """Return a checked FormSpec for a schema."""
    return check_definition({"key": "t", "title": "T", "schema": schema,
                             "layout": layout or {}}, "t.json")


@pytest.fixture
def order() -> FormSpec:
    return check_definition(ORDER, "order.json")


class Balanced(HTMLParser):
    """Fail on a closing tag that does not close the open element; collect ids and names."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.ids += [found["id"]] if "id" in found else []
        self.names += [found["name"]] if "name" in found else []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing open"


PAGE = Environment(loader=FileSystemLoader(str(TEMPLATES))).from_string(
    "{% from '_fields.html' import render_fields %}{{ render_fields(fields, None) }}")


def html_of(fields) -> Balanced:
    """Render the fields with _fields.html and check the markup is balanced, ids unique."""
    html = PAGE.render(fields=fields)
    parser = Balanced()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], "unclosed elements"
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    parser.html = html  # type: ignore[attr-defined]
    return parser


def test_nested_objects_are_sections_and_arrays_are_tables_with_defaults(order):
    fields = build_fields(order, "zh_Hans_CN", {}, {})
    customer, lines, payment = fields[0], fields[1], fields[2]
    assert (customer.node, customer.label, customer.required) == ("section", "Customer", True)
    assert [f.name for f in customer.children] == ["customer[name]", "customer[email]"]
    assert customer.children[1].input_type == "email"
    assert (lines.node, lines.label, lines.tabular) == ("table", "订单行", True)
    assert lines.columns == ["Item", "Quantity", "Unit price"]
    (row,) = lines.rows  # minItems: 1 row, its quantity defaulted
    assert [c.name for c in row.cells] == ["lines[0][item]", "lines[0][qty]", "lines[0][price]"]
    assert row.cells[1].value == "1" and row.cells[2].step == "0.01"
    assert (lines.can_remove, lines.can_add) == (False, True)
    assert payment.choice.options == [("0", "Card"), ("1", "Invoice")]
    assert [c.name for c in payment.children] == ["payment[card]"]
    page = html_of(fields)
    assert '<legend>Customer<span class="required"' in page.html
    assert '<th scope="col">Quantity</th>' in page.html


def test_fields_keep_the_written_order_after_storage_sorts_the_keys(order):
    stored = FormSpec(**json.loads(json.dumps(asdict(order), sort_keys=True)))
    fields = build_fields(stored, "en", {}, {})
    assert [f.name for f in fields.find("customer").children] == [
        "customer[name]", "customer[email]"]
    assert fields.find("lines").columns == ["Item", "Quantity", "Unit price"]


def test_nested_names_read_back_as_typed_json(order):
    data, errors = coerce(order, {
        "customer[name]": " Acme ", "lines[#]": "2", "lines[0][item]": "Bolts",
        "lines[0][qty]": "3", "lines[1][item]": "Nuts", "lines[1][qty]": "4",
        "lines[1][price]": "0.5", "express": "on", "courier": "SF", "tags[2]": "gift",
        "tags[0]": "urgent", "payment[?]": "0", "payment[card]": "4111111111111111"})
    assert errors == {}
    assert data == {"customer": {"name": "Acme"},
                    "lines": [{"item": "Bolts", "qty": 3}, {"item": "Nuts", "qty": 4,
                                                            "price": 0.5}],
                    "tags": ["urgent", "gift"], "express": True, "courier": "SF",
                    "payment": {"card": "4111111111111111"}}


def test_typed_data_draws_back_into_the_same_inputs(order):
    stored = {"customer": {"name": "Acme"}, "lines": [{"item": "A", "qty": 2},
                                                      {"item": "B", "qty": 5}],
              "tags": ["gift"], "payment": {"vat": "CN-1"}, "express": False}
    fields = build_fields(order, "en", stored, {})
    assert fields.find("lines[1][qty]").value == "5"
    assert fields.find("tags").chosen == ["gift"]
    assert fields.find("payment").choice.value == "1"  # the alternative the data matches
    assert fields.find("payment[vat]").value == "CN-1"
    assert fields.find("express").value == ""  # stored False is not re-defaulted


@pytest.mark.parametrize("action, items", [
    ("add:lines", ["A", "B", "C", ""]),
    ("remove:lines[1]", ["A", "C"]),
    ("up:lines[2]", ["A", "C", "B"]),
    ("down:lines[0]", ["B", "A", "C"]),
    ("up:lines[0]", ["A", "B", "C"]),
    ("remove:lines[9]", ["A", "B", "C"]),
])
def test_row_actions_keep_everything_typed(order, action, items):
    form = {"lines[#]": "3", "customer[name]": "Acme"}
    for index, item in enumerate(["A", "B", "C"]):
        form |= {f"lines[{index}][item]": item, f"lines[{index}][qty]": str(index + 1)}
    changed = rearrange(form, action)
    fields = build_fields(order, "en", changed, {})
    rows = fields.find("lines").rows
    assert [row.cells[0].value for row in rows] == items
    assert fields.find("customer[name]").value == "Acme"
    if action == "add:lines":
        assert rows[3].cells[1].value == "1"  # the new row gets its defaults


def test_errors_land_on_the_exact_field_and_the_summary_names_its_label(order):
    form = {"customer[name]": "", "lines[#]": "1", "lines[0][item]": "A",
            "lines[0][qty]": "x", "lines[0][price]": "19.999", "payment[?]": "1"}
    data, errors = validate_submission(order, form)
    assert errors == {
        "customer[name]": Message("This field is required."),
        "lines[0][qty]": Message("Enter a whole number."),
        "lines[0][price]": Message("Enter a multiple of %(limit)s.", {"limit": "0.01"}),
        "payment[vat]": Message("This field is required."),
    }
    fields = build_fields(order, "en", form, errors)
    assert [(anchor, label) for anchor, label, _ in fields.summary] == [
        ("field-customer-name", "Name"), ("field-lines-0-qty", "Quantity"),
        ("field-lines-0-price", "Unit price"), ("field-payment-vat", "VAT number")]
    assert fields.find("lines[0][qty]").value == "x"  # what was typed stays
    page = html_of(fields)
    assert 'aria-describedby="error-lines-0-qty"' in page.html


def test_money_multiples_are_checked_in_decimal(order):
    form = {"customer[name]": "A", "lines[#]": "1", "lines[0][item]": "A",
            "lines[0][qty]": "1", "lines[0][price]": "19.99", "payment[?]": "1",
            "payment[vat]": "V"}
    assert validate_submission(order, form)[1] == {}


def test_if_then_shows_and_requires_the_dependent_field_only_when_it_holds(order):
    base = {"customer[name]": "A", "lines[#]": "1", "lines[0][item]": "A",
            "lines[0][qty]": "1", "payment[?]": "1", "payment[vat]": "V"}
    assert build_fields(order, "en", base, {}).find("courier") is None
    assert validate_submission(order, base)[1] == {}
    express = {**base, "express": "on"}
    fields = build_fields(order, "en", express, {})
    courier, switch = fields.find("courier"), fields.find("express")
    assert courier.required and courier.target == "#field-courier"  # validates itself
    assert switch.refresh == "" and switch.target == "#fields-root"  # redraws the form
    assert fields.find("customer[name]").target == "#field-customer-name"
    assert validate_submission(order, express)[1] == {
        "courier": Message("This field is required.")}


def test_dependent_required_and_else_branch():
    spec = spec_of({"type": "object", "properties": {
        "country": {"enum": ["CN", "US"]}, "province": {"type": "string"},
        "card": {"type": "string"}, "cvv": {"type": "string"}},
        "dependentRequired": {"card": ["cvv"]},
        "if": {"properties": {"country": {"const": "CN"}}, "required": ["country"]},
        "then": {"required": ["province"]},
        "else": {"properties": {"zip": {"type": "string", "title": "ZIP"}}}})
    fields = build_fields(spec, "en", {"country": "US", "card": "4111"}, {})
    assert fields.find("zip").label == "ZIP" and fields.find("cvv").required
    assert not fields.find("province").required
    _, errors = validate_submission(spec, {"country": "CN", "card": "4111"})
    assert set(errors) == {"province", "cvv"}


def test_formats_get_their_inputs_and_date_times_keep_the_users_offset():
    spec = spec_of({"type": "object", "properties": {
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "time": {"type": "string", "format": "time"},
        "mail": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "note": {"type": "string", "readOnly": True, "default": "set by Andon"}}})
    fields = build_fields(spec, "en", {"at": "2026-11-22T02:30:00+00:00"}, {},
                          "Asia/Shanghai")
    assert [(f.name, f.input_type) for f in fields] == [
        ("day", "date"), ("at", "datetime-local"), ("time", "time"), ("mail", "email"),
        ("site", "url"), ("note", "text")]
    assert fields.find("at").value == "2026-11-22T10:30"  # shown in the reader's zone
    with clock.frozen(clock.now().replace(month=7, day=1)):
        data, errors = coerce(spec, {"at": "2026-11-22T10:30", "time": "09:15", "note": "x",
                                     "site": "example.com", "_tz": "Asia/Shanghai"})
    assert data == {"at": "2026-11-22T10:30:00+08:00", "time": "09:15:00+08:00"}
    assert errors == {"site": Message(
        "Enter a full web address, such as https://example.com.")}
    assert build_fields(spec, "en", {}, {}).find("note").read_only


def test_alternatives_of_the_whole_form_are_chosen_first():
    spec = spec_of({"type": "object", "oneOf": [
        {"title": "Person", "properties": {"kind": {"const": "person"},
                                           "name": {"type": "string"}}, "required": ["name"]},
        {"title": "Company", "properties": {"kind": {"const": "company"},
                                            "tax_id": {"type": "string", "title": "Tax ID"}},
         "required": ["tax_id"]}]})
    fields = build_fields(spec, "en", {"kind": "company"}, {})
    assert fields.choice.value == "1" and fields.choice.options == [
        ("0", "Person"), ("1", "Company")]
    assert [f.name for f in fields] == ["kind", "tax_id"]
    _, errors = validate_submission(spec, {"?": "1", "kind": "company"})
    assert errors == {"tax_id": Message("This field is required.")}
    assert build_fields(spec, "en", {"?": "1"}, errors).summary[0][:2] == (
        "field-tax_id", "Tax ID")


def test_read_only_defaults_stay_after_a_failed_submission():
    spec = spec_of({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "source": {"type": "string", "readOnly": True,
                                               "default": "import"}}})
    assert build_fields(spec, "en", {"name": ""}, {}).find("source").value == "import"
    assert coerce(spec, {"name": "x", "source": "forged"})[0] == {"name": "x"}


def test_refs_to_defs_and_arrays_of_scalars():
    spec = spec_of({"type": "object", "$defs": {"score": {"type": "integer", "maximum": 5}},
                    "properties": {"scores": {"type": "array", "items": {"$ref": "#/$defs/score"},
                                              "title": "Scores"}}})
    form = {"scores[#]": "2", "scores[0]": "3", "scores[1]": "9"}
    data, errors = validate_submission(spec, form)
    assert data == {"scores": [3, 9]}
    assert errors == {"scores[1]": Message("Enter a value less than or equal to %(limit)s.",
                                           {"limit": "5"})}
    table = build_fields(spec, "en", form, errors).find("scores")
    assert table.columns == ["Scores"] and table.rows[1].cells[0].label == "Scores 2"
    assert table.rows[1].cells[0].error is not None


def test_display_shows_nested_values_in_one_line(order):
    shown = dict(display(order, "en", {"customer": {"name": "Acme"},
                                       "lines": [{"item": "A", "qty": 2}],
                                       "tags": ["gift", "urgent"]}))
    assert shown["Customer"] == "Name: Acme"
    assert shown["Order lines"] == "Item: A; Quantity: 2"
    assert shown["Tags"] == "gift | urgent"


def test_a_registered_widget_draws_with_its_template_and_reads_its_own_way(tmp_path):
    (tmp_path / "_stars.html").write_text(
        '<span class="stars" data-name="{{ field.name }}">{{ field.value }}</span>')
    widgets.register("stars", widgets.Widget(template="_stars.html",
                                             coerce=lambda text, _schema: len(text)))
    try:
        spec = spec_of({"type": "object", "properties": {"rating": {"type": "integer"}}},
                       {"fields": {"rating": {"widget": "stars"}}})
        fields = build_fields(spec, "en", {"rating": "***"}, {})
        assert fields[0].widget == "stars"
        env = Environment(loader=FileSystemLoader([str(TEMPLATES), str(tmp_path)]))
        html = env.from_string("{% from '_fields.html' import render_fields %}"
                               "{{ render_fields(fields, None) }}").render(fields=fields)
        assert '<span class="stars" data-name="rating">***</span>' in html
        assert coerce(spec, {"rating": "****"})[0] == {"rating": 4}
    finally:
        widgets._registry.pop("stars")


CORPUS: list[dict] = [
    {"type": "object"},
    {"type": "object", "properties": {"a": True, "b": False, "c": {}}},
    {"type": "object", "properties": {"a": {"type": ["string", "null"]},
                                      "b": {"type": ["null"]}, "c": {"type": "null"}}},
    {"type": "object", "properties": {"x": {"not": {"type": "string"}, "x-unknown": [1, {}]}},
     "unevaluatedProperties": False, "propertyNames": {"maxLength": 3}},
    {"type": "object", "$defs": {"node": {"type": "object", "required": ["child"], "properties": {
        "name": {"type": "string"}, "child": {"$ref": "#/$defs/node"},
        "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
     "properties": {"root": {"$ref": "#/$defs/node"}}, "required": ["root"]},
    {"type": "object", "properties": {"loop": {"$ref": "#/properties/loop"}}},
    {"type": "object", "properties": {"missing": {"$ref": "#/$defs/nowhere"},
                                      "anchor": {"$ref": "#"}}},
    {"type": "object", "properties": {"grid": {"type": "array", "items": {
        "type": "array", "items": {"type": "number"}}}}},
    {"type": "object", "properties": {"pair": {"type": "array", "prefixItems": [
        {"type": "string"}, {"type": "integer"}], "items": False, "minItems": 2}}},
    {"type": "object", "properties": {"mixed": {"oneOf": [{"type": "string"},
                                                          {"type": "integer"}]}}},
    {"type": "object", "properties": {"any": {"anyOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"$ref": "#/$defs/b"}]}}, "$defs": {"b": {"properties": {"b": {"type": "integer"}}}}},
    {"type": "object", "allOf": [{"properties": {"a": {"type": "string"}}},
                                 {"properties": {"b": {"type": "boolean", "default": True}},
                                  "required": ["b"]}]},
    {"type": "object", "properties": {"e": {"enum": [None, 1, "x", True, 2.5, [1], {"k": 1}]}}},
    {"type": "object", "properties": {"c": {"const": "fixed"}, "d": {"default": [1, 2]}}},
    {"type": "object", "properties": {"n": {"type": "number", "minimum": 0.5,
                                            "multipleOf": 0.1, "maxLength": 3, "format": "odd"}}},
    {"type": "object", "properties": {"s": {"type": "array", "uniqueItems": True,
                                            "items": {"oneOf": [{"const": 1, "title": "One"},
                                                                {"const": 2}]}}}},
    {"type": "object", "if": {"properties": {"a": {"const": 1}}}, "then": True, "else": False,
     "properties": {"a": {"type": "integer"}}},
    {"type": "object", "dependentSchemas": {"a": {"properties": {"b": {"type": "string"}}}},
     "properties": {"a": {"type": "string"}}},
    {"type": "object", "patternProperties": {"^x-": {"type": "string"}},
     "additionalProperties": {"type": "integer"}, "properties": {"weird key [0]": {}}},
    {"type": "object", "oneOf": [{"properties": {"kind": {"const": "a"}, "a": {"type": "string"}},
                                  "required": ["kind"]},
                                 {"properties": {"kind": {"const": "b"}, "b": {"type": "number"}},
                                  "required": ["kind", "b"]}]},
    {"type": "object", "properties": {"deep": {"type": "object", "properties": {"deeper": {
        "type": "object", "properties": {"deepest": {"type": "array", "minItems": 2, "items": {
            "type": "object",
            "properties": {"v": {"type": "string", "format": "date-time"}}}}}}}}}},
]
FORMS = [
    {},
    {"a": "1", "b": "on", "x": "", "root[name]": "n", "root[kids][#]": "2", "grid[#]": "1",
     "grid[0][#]": "2", "grid[0][0]": "1.5", "grid[0][1]": "x", "pair[0]": "p", "pair[1]": "2",
     "mixed": "3", "any[?]": "1", "any[b]": "7", "e": "x", "n": "0.3", "s[0]": "1", "?": "1",
     "kind": "b", "deep[deeper][deepest][#]": "3", "deep[deeper][deepest][1][v]": "soon",
     "weird key [0]": "w", "d[#]": "1", "d[0]": "z", "_tz": "Nowhere/Land"},
    {"a[#]": "-3", "root[kids][#]": "99999", "grid": "flat", "any[?]": "9", "?": "x",
     "e[0]": "deep"},
]


@pytest.mark.parametrize("schema", CORPUS, ids=[str(i) for i in range(len(CORPUS))])
def test_odd_schemas_render_and_submit_without_exceptions(schema):
    spec = spec_of(schema)
    for form in FORMS:
        data, errors = validate_submission(spec, form)
        json.dumps(data)
        fields = build_fields(spec, "zh_Hans_CN", form, errors, "Asia/Shanghai")
        html_of(fields)
        assert all(isinstance(node.label, str) for node in walk(list(fields)))
        display(spec, "en", data)
        for node in walk(list(fields)):
            if node.node == "table" and node.rows:
                build_fields(spec, "en", rearrange(form, f"remove:{node.rows[0].name}"), {})
