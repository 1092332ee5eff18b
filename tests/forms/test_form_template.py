"""The _fields.html macro renders each field accessibly and keeps what was typed."""

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from andon.forms.fields import build_fields
from andon.forms.schema import check_definition
from andon.forms.validation import validate_submission

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "definitions" / "forms"
VOID = {"input", "br", "hr", "img", "meta", "link"}


class Node:
    """One parsed element with its attributes, children and direct text."""

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, **attrs):
        return [n for n in self.walk() if all(n.attrs.get(k) == v for k, v in attrs.items())]

    def ancestor_ids(self):
        node, ids = self.parent, []
        while node is not None:
            ids.append(node.attrs.get("id"))
            node = node.parent
        return ids


class TreeBuilder(HTMLParser):
    """Build a Node tree from HTML, failing on mismatched closing tags."""

    def __init__(self):
        super().__init__()
        self.root = self.current = Node("root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        self.current = self.current.parent

    def handle_data(self, data):
        self.current.text += data


def load(name: str):
    data = json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))
    return check_definition(data, f"{name}.json")


def render(fields, translate=None) -> Node:
    """Render the macro with a plain Jinja environment and parse the result."""
    env = Environment(loader=FileSystemLoader(str(ROOT / "platform" / "web" / "templates")))
    template = env.from_string(
        "{% from '_fields.html' import render_fields %}{{ render_fields(fields, t) }}")
    builder = TreeBuilder()
    builder.feed(template.render(fields=fields, t=translate))
    builder.close()
    assert builder.current is builder.root, "unclosed element"
    return builder.root


@pytest.fixture
def invalid_request():
    spec = load("change_request")
    form = {"title": "Add <SSO> & audit", "effort_days": "abc", "reason": "line 1\nline 2",
            "schedule_impact_days": "3"}
    _, errors = validate_submission(spec, form)
    return build_fields(spec, "en", form, errors)


def test_error_sits_inside_its_field_and_typed_value_is_kept(invalid_request):
    chinese = {"Enter a number.": "请输入数字。"}
    tree = render(invalid_request, translate=lambda s: chinese.get(s, s))
    (error,) = tree.find(id="error-effort_days")
    assert "field-error" in error.attrs["class"] and error.text == "请输入数字。"
    assert error.ancestor_ids()[0] == "field-effort_days"
    (box,) = tree.find(id="input-effort_days")
    assert box.parent is error.parent
    # A browser would blank type=number holding "abc": the rejected text stays visible.
    assert box.attrs["type"] == "text" and box.attrs["inputmode"] == "decimal"
    assert box.attrs["value"] == "abc"
    assert box.attrs["aria-invalid"] == "true"
    assert "error-effort_days" in box.attrs["aria-describedby"].split()
    assert "help-effort_days" in box.attrs["aria-describedby"].split()
    assert "min" not in box.attrs  # the server checks ranges; the browser must not drop input
    assert "required" in box.attrs


def test_labels_inputs_and_required_attributes(invalid_request):
    tree = render(invalid_request)
    for field in invalid_request:
        (label,) = tree.find(**{"for": f"input-{field.name}"})
        assert field.label in label.text
        (control,) = tree.find(id=f"input-{field.name}")
        assert ("required" in control.attrs) == field.required
    (title,) = tree.find(id="input-title")
    assert title.attrs["value"] == "Add <SSO> & audit" and title.attrs["maxlength"] == "200"
    (reason,) = tree.find(id="input-reason")
    # Browsers drop one newline right after <textarea>; html.parser keeps it.
    assert reason.tag == "textarea" and reason.text.removeprefix("\n") == "line 1\nline 2"
    (days,) = tree.find(id="input-schedule_impact_days")
    assert (days.attrs["type"], days.attrs["value"], days.attrs["inputmode"]) == (
        "text", "3", "numeric")


def test_only_invalid_fields_get_error_paragraphs(invalid_request):
    tree = render(invalid_request)
    errors = {n.attrs["id"] for n in tree.walk() if n.attrs.get("class") == "field-error"}
    assert errors == {"error-project", "error-effort_days", "error-customer_contact"}
    assert "aria-invalid" not in tree.find(id="input-title")[0].attrs


def test_markup_in_values_is_escaped(invalid_request):
    env = Environment(loader=FileSystemLoader(str(ROOT / "platform" / "web" / "templates")))
    html = env.from_string("{% from '_fields.html' import render_fields %}"
                           "{{ render_fields(fields, None) }}").render(fields=invalid_request)
    assert "Add &lt;SSO&gt; &amp; audit" in html and "<SSO>" not in html


def test_radio_group_keeps_the_choice():
    spec = load("change_review")
    fields = build_fields(spec, "zh_Hans_CN", {"decision": "reject"}, {})
    tree = render(fields)
    (group,) = [n for n in tree.walk() if n.tag == "fieldset"]
    assert group.parent.attrs["id"] == "field-decision"
    radios = [n for n in group.walk() if n.attrs.get("type") == "radio"]
    assert [(r.attrs["value"], "checked" in r.attrs) for r in radios] == [
        ("approve", False), ("reject", True)]
    labels = [n for n in group.walk() if n.tag == "label"]
    assert [lb.attrs["for"] for lb in labels] == [r.attrs["id"] for r in radios]
    assert "驳回" in labels[1].text
