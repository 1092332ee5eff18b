"""The form builder's operations, the comparison of versions, and drafts in the catalogue."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, InvalidSubmission
from andon.forms import builder, builder_panel, drafts
from andon.forms.builder_panel import update_field as update
from andon.forms.compare import compare
from andon.forms.fields import build_fields
from andon.forms.nodes import walk
from andon.forms.schema import check_definition
from andon.forms.store import deploy_form
from andon.forms.validation import validate_submission
from andon.identity.models import User

ROOT = Path(__file__).resolve().parents[2]


def panel(definition: dict[str, Any], path: builder.Path, **changes: str) -> dict[str, str]:
    """Return the property panel's values of a field with some inputs changed."""
    return {**builder_panel.panel_values(definition, path), **changes}


def expense_claim() -> dict[str, Any]:
    """Build, operation by operation, a form with every basic kind and a table of lines."""
    form = builder.new_definition("expense_claim", {"en": "Expense claim", "zh-CN": "费用报销"})
    title = builder.add_field(form, "text")
    title = update(form, title, panel(form, title, name="title", label_en="Title",
                                                    label_zh="标题", required="on"))
    for kind in ("date", "money", "percent", "email", "yesno", "select", "checkboxes",
                 "textarea", "integer"):
        builder.add_field(form, kind)
    kind_path = ("select_1",)
    update(form, kind_path, panel(
        form, kind_path, name="category", options="travel | Travel | 差旅\nmeals | Meals | 餐饮",
        required="on"))
    lines = builder.add_field(form, "table")
    lines = update(form, lines, panel(form, lines, name="lines",
                                                    label_en="Lines", label_zh="明细"))
    what = builder.add_field(form, "text", into=lines)
    update(form, what, panel(form, what, name="what", label_en="What",
                                           label_zh="内容", help_zh="写清楚用途", required="on"))
    amount = builder.add_field(form, "money", into=lines)
    update(form, amount, panel(form, amount, name="amount", label_en="Amount",
                                             label_zh="金额", minimum="0", width="third"))
    update(form, ("date_1",), panel(form, ("date_1",), width="half"))
    return form


def test_a_form_built_field_by_field_is_a_valid_definition_that_renders_and_validates() -> None:
    form = expense_claim()
    spec = check_definition(copy.deepcopy(form), "built")
    assert spec.order() == ["title", "date_1", "money_1", "percent_1", "email_1", "yesno_1",
                            "category", "checkboxes_1", "textarea_1", "integer_1", "lines"]
    assert spec.required == {"title", "category"}
    assert form["schema"]["properties"]["lines"]["items"]["required"] == ["what"]
    kinds = [node.kind.name for node in builder.outline(form, "en")]
    assert kinds == ["text", "date", "money", "percent", "email", "yesno", "select",
                     "checkboxes", "textarea", "integer", "table"]

    fields = build_fields(spec, "zh_Hans_CN", {"lines[#]": "1"}, {})
    labels = {node.name: node.label for node in walk(list(fields))}
    assert labels["title"] == "标题"
    assert labels["lines[0][what]"] == "内容"
    helps = {node.name: node.help for node in walk(list(fields)) if hasattr(node, "help")}
    assert helps["lines[0][what]"] == "写清楚用途"
    widths = {node.name: node.width for node in walk(list(fields)) if node.width}
    assert widths == {"date_1": "half", "lines[0][amount]": "third"}
    assert form["layout"]["fields"]["date_1"]["width"] == "half"
    assert form["schema"]["properties"]["lines"]["items"]["properties"]["amount"]["x-width"] \
        == "third"
    category = next(node for node in walk(list(fields)) if node.name == "category")
    assert category.options == [("travel", "差旅"), ("meals", "餐饮")]

    data, errors = validate_submission(spec, {
        "title": "Trip", "category": "travel", "money_1": "12.50", "lines[#]": "1",
        "lines[0][what]": "Taxi", "lines[0][amount]": "-3"})
    assert set(errors) == {"lines[0][amount]"}
    data, errors = validate_submission(spec, {
        "title": "Trip", "category": "travel", "lines[#]": "1", "lines[0][what]": "Taxi",
        "lines[0][amount]": "30"})
    assert errors == {}
    assert data["lines"] == [{"what": "Taxi", "amount": 30}]


def test_moving_renaming_and_removing_keep_schema_and_layout_in_step() -> None:
    form = expense_claim()
    builder.move_field(form, ("category",), -6)
    builder.move_field(form, ("title",), -1)  # already first: nothing moves
    assert form["layout"]["order"][:2] == ["title", "category"]
    assert list(form["schema"]["properties"])[:2] == ["title", "category"]
    builder.move_to(form, ("lines", "amount"), "what")
    assert list(form["schema"]["properties"]["lines"]["items"]["properties"]) == \
        ["amount", "what"]

    renamed = update(form, ("category",),
                                   panel(form, ("category",), name="expense_kind"))
    assert renamed == ("expense_kind",)
    assert form["layout"]["order"][1] == "expense_kind"
    assert "expense_kind" in form["schema"]["required"]
    assert form["layout"]["fields"]["expense_kind"]["options"]["meals"] == \
        {"en": "Meals", "zh-CN": "餐饮"}

    builder.remove_field(form, ("expense_kind",))
    builder.remove_field(form, ("lines", "what"))
    assert "expense_kind" not in form["layout"]["fields"]
    assert "expense_kind" not in form["layout"]["order"]
    assert form["schema"]["required"] == ["title"]
    assert form["schema"]["properties"]["lines"]["items"]["required"] == []
    check_definition(copy.deepcopy(form), "after")


def test_a_bad_property_edit_names_each_input_and_changes_nothing() -> None:
    form = expense_claim()
    before = copy.deepcopy(form)
    with pytest.raises(InvalidSubmission) as refused:
        update(form, ("category",), panel(
            form, ("category",), name="Title!", label_en="", label_zh="",
            options="a | A\n | missing value"))
    assert set(refused.value.errors) == {"name", "label_en", "options"}
    assert refused.value.errors["options"].params == {"line": 2}
    with pytest.raises(InvalidSubmission) as refused:
        update(form, ("money_1",), panel(form, ("money_1",), name="title",
                                                       minimum="lots", currency="yuan"))
    assert set(refused.value.errors) == {"name", "minimum", "currency"}
    with pytest.raises(InvalidSubmission) as refused:
        update(form, ("textarea_1",), panel(form, ("textarea_1",),
                                                          pattern="(a", max_length="-1"))
    assert set(refused.value.errors) == {"pattern", "max_length"}
    assert form == before


def test_computed_fields_and_conditions_are_checked_against_the_form() -> None:
    form = expense_claim()
    roi = builder.add_field(form, "computed")
    with pytest.raises(InvalidSubmission) as refused:
        update(form, roi, panel(form, roi, computed="money_1 / nothing",
                                              show_field="ghost", show_values=""))
    assert set(refused.value.errors) == {"computed", "show_field", "show_values"}
    update(form, roi, panel(form, roi, computed="money_1 * integer_1",
                                          show_field="yesno_1", show_values="true"))
    entry = form["layout"]["fields"]["computed_1"]
    assert entry["computed"] == "money_1 * integer_1"
    assert entry["show_when"] == {"field": "yesno_1", "equals": "true"}
    check_definition(copy.deepcopy(form), "computed")
    with pytest.raises(InvalidSubmission):
        builder.add_field(form, "taxonomy", into=("lines",))


def test_a_record_link_names_the_form_it_links_at_the_top_and_inside_a_table() -> None:
    form = expense_claim()
    supplier = builder.add_field(form, "record")
    with pytest.raises(InvalidSubmission) as refused:
        update(form, supplier, panel(form, supplier))
    assert set(refused.value.errors) == {"record_form"}
    update(form, supplier, panel(form, supplier, record_form="change_request"))
    inside = builder.add_field(form, "record", into=("lines",))
    update(form, inside, panel(form, inside, record_form="change_request"))
    assert form["layout"]["fields"]["record_1"] == {
        "label": {"en": "Record link", "zh-CN": "关联记录"}, "widget": "record",
        "form": "change_request"}
    nested = form["schema"]["properties"]["lines"]["items"]["properties"]["record_1"]
    assert (nested["type"], nested["x-widget"], nested["x-form"]) == \
        ("integer", "record", "change_request")
    assert builder_panel.panel_values(form, inside)["record_form"] == "change_request"
    check_definition(copy.deepcopy(form), "links")


def test_a_file_field_takes_its_limits_from_the_panel() -> None:
    form = expense_claim()
    receipts = builder.add_field(form, "file")
    assert form["schema"]["properties"]["file_1"] == {"type": "array", "items": {"type": "string"}}
    with pytest.raises(InvalidSubmission) as refused:
        update(form, receipts, panel(form, receipts, max_size_mb="-1",
                                                   accept="pdf files"))
    assert set(refused.value.errors) == {"max_size_mb", "accept"}
    update(form, receipts, panel(form, receipts, max_size_mb="5",
                                               accept=".pdf, image/*", multiple=""))
    assert form["schema"]["properties"]["file_1"] == {"type": "string"}
    entry = form["layout"]["fields"]["file_1"]
    assert (entry["widget"], entry["max_size_mb"], entry["accept"]) == \
        ("file", 5, [".pdf", "image/*"])
    assert "multiple" not in entry
    assert builder.kind_of(form, receipts).name == "file"
    check_definition(copy.deepcopy(form), "files")
    with pytest.raises(InvalidSubmission):
        builder.add_field(form, "file", into=("lines",))


def test_the_shipped_change_request_opens_in_the_builder_as_written() -> None:
    written = json.loads((ROOT / "definitions/forms/change_request.json").read_text())
    nodes = builder.outline(written, "zh-CN")
    assert [n.path[0] for n in nodes] == written["layout"]["order"]
    assert {n.kind.name for n in nodes} == {"text", "textarea", "number", "integer"}
    assert nodes[0].label == "标题"
    values = builder_panel.panel_values(written, ("title",))
    assert values["placeholder_zh"] == "用一句话描述变更"
    assert values["max_length"] == "200"
    unchanged = copy.deepcopy(written)
    update(unchanged, ("title",), values)
    assert unchanged == written


def test_the_comparison_names_fields_added_removed_and_changed() -> None:
    old = expense_claim()
    new = copy.deepcopy(old)
    builder.remove_field(new, ("email_1",))
    builder.add_field(new, "time", into=(), after=("title",))
    update(new, ("category",), panel(
        new, ("category",), required="", options="travel | Travel | 差旅\nhotel | Hotel | 住宿"))
    result = compare(old, new, "en")
    assert result.added == [("time_1", "Time")]
    assert result.removed == [("email_1", "Email")]
    [change] = result.changed
    assert change.path == "category"
    assert [d[0] for d in change.differences] == ["required", "options"]
    assert change.differences[0][2:] == ("on", "")
    assert not result.reordered
    assert compare(old, copy.deepcopy(old), "en").same


def admin(session: Session, people: dict[str, User]) -> User:
    """Return the demo administrator."""
    return people["admin"]


def test_drafts_keep_every_edit_refuse_stale_saves_and_publish_only_when_valid(
        session: Session, people: dict[str, User]) -> None:
    editor, other = people["admin"], people["pm"]
    draft = drafts.create(session, "expense_claim",
                          {"en": "Expense claim", "zh-CN": "费用报销"}, editor)
    with pytest.raises(InvalidSubmission) as taken:
        drafts.create(session, "expense_claim", {"en": "Again"}, editor)
    assert set(taken.value.errors) == {"key"}

    form = expense_claim()
    draft = drafts.save(session, draft, form, editor)
    stale = drafts.at_revision(session, "expense_claim", draft.revision - 1)
    with pytest.raises(catalog.StaleDraft) as conflict:
        drafts.save(session, stale, {**form, "title": {"en": "Theirs"}}, other)
    assert conflict.value.draft.updated_by_id == editor.id
    assert drafts.open_draft(session, "expense_claim").definition == form

    broken = copy.deepcopy(form)
    broken["schema"]["properties"]["money_1"]["minimum"] = "zero"
    draft = drafts.save(session, draft, broken, editor)
    assert [p[0] for p in drafts.problems(session, broken)] == \
        ["$.schema.properties.money_1.minimum"]
    with pytest.raises(InvalidDefinition):
        drafts.publish(session, "expense_claim", draft.revision, editor)
    assert drafts.open_draft(session, "expense_claim").definition == broken

    draft = drafts.save(session, draft, form, editor)
    with pytest.raises(catalog.StaleDraft):
        drafts.publish(session, "expense_claim", draft.revision - 1, editor)
    version = drafts.publish(session, "expense_claim", draft.revision, editor)
    assert (version.number, version.status, version.created_by_id) == (1, "published", editor.id)
    assert catalog.draft(session, "form", "expense_claim") is None
    # What was published is a file `andon load` reads back without a new version.
    again, changed = deploy_form(session, version.source, "expense_claim.json")
    assert (again.id, changed) == (version.id, False)

    # Editing again starts from the published version; the list shows both.
    reopened = drafts.open_draft(session, "expense_claim")
    assert reopened.definition == form
    [summary] = [s for s in drafts.forms(session) if s.key == "expense_claim"]
    assert (summary.status, summary.published, summary.draft) == \
        ("published", version, reopened.saved)

    catalog.retire(session, "form", "expense_claim")
    [summary] = [s for s in drafts.forms(session) if s.key == "expense_claim"]
    assert summary.status == "retired"
    assert catalog.reactivate(session, "form", "expense_claim").id == version.id


def test_json_typed_in_the_builder_names_the_line_and_keeps_the_draft(
        session: Session, people: dict[str, User]) -> None:
    editor = people["admin"]
    draft = drafts.create(session, "visit", {"en": "Visit"}, editor)
    with pytest.raises(InvalidSubmission) as refused:
        drafts.apply_json(session, draft, '{\n  "key": "visit",\n  "title": }', editor)
    assert "line 3" in refused.value.errors["json"].params["where"]
    with pytest.raises(InvalidSubmission):
        drafts.apply_json(session, draft, '{"key": "other"}', editor)
    applied = drafts.apply_json(session, draft, json.dumps(expense_claim() | {"key": "visit"}),
                                editor)
    assert applied.revision == draft.revision + 1
    assert builder.outline(applied.definition, "en")[0].label == "Title"
