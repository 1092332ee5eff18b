"""Record-reference fields and the links between records, both ways, on both databases."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.errors import Forbidden, InvalidDefinition, InvalidSubmission
from andon.forms import record_refs, widgets_people
from andon.forms.excel import Sheet, check_rows
from andon.forms.fields import build_fields, display
from andon.forms.models import RecordLink
from andon.forms.record_access import published_spec
from andon.forms.record_imports import check_references, save_rows
from andon.forms.record_links import linked_from, links_to
from andon.forms.records import create_record, update_record
from andon.forms.schema import check_definition
from andon.forms.store import deploy_form
from andon.forms.validation import validate_submission
from andon.forms.widget_fields import complete, readable
from andon.identity.models import User

DATA = Path(__file__).resolve().parents[1] / "data" / "refs"
SUPPLIER, VAULT, ORDER = (json.loads((DATA / f"{key}.json").read_text())
                          for key in ("supplier", "vault", "order"))


def deploy(session, *definitions) -> None:
    """Publish form definitions, in order."""
    for definition in definitions:
        deploy_form(session, json.dumps(definition, ensure_ascii=False),
                    f"{definition['key']}.json")
    session.commit()


@pytest.fixture
def forms(session, staff):
    """Publish the supplier, vault and order forms; return the demo people."""
    deploy(session, SUPPLIER, VAULT, ORDER)
    return staff


def supplier(session, user, name, city="Wuxi"):
    """Create a supplier record."""
    return create_record(session, "supplier", {"name": name, "city": city}, user)


def links(session, record_id) -> dict[str, int]:
    """Return the stored outgoing links of a record by field path."""
    rows = session.execute(select(RecordLink.field_path, RecordLink.target_id)
                           .where(RecordLink.source_id == record_id)).all()
    return dict(rows)


def changed(change):
    """Return a copy of the order definition changed by ``change``."""
    definition = copy.deepcopy(ORDER)
    change(definition)
    return definition


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda d: d["schema"]["properties"]["supplier"].update(type="string"),
     "$.layout.fields.supplier.widget", "type integer"),
    (lambda d: d["layout"]["fields"]["supplier"].pop("form"),
     "$.layout.fields.supplier.form", "Name the form"),
    (lambda d: d["layout"]["fields"].update(title={"form": "supplier"}),
     "$.layout.fields.title.form", "record field"),
])
def test_a_bad_record_field_layout_is_named_by_its_json_path(change, path, words):
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(changed(change), "order.json")
    assert [p for p, _ in caught.value.problems] == [path]
    assert words in caught.value.problems[0][1]


def test_a_record_field_must_name_a_loaded_form_at_the_top_and_nested(session, staff):
    deploy(session, SUPPLIER, VAULT)

    def unknown(definition):
        definition["layout"]["fields"]["supplier"]["form"] = "vendor"
        maker = definition["schema"]["properties"]["lines"]["items"]["properties"]["maker"]
        maker.update({"x-form": "maker", "type": "string"})

    with pytest.raises(InvalidDefinition) as caught:
        deploy(session, changed(unknown))
    nested = "$.schema.properties.lines.items.properties.maker"
    assert [p for p, _ in caught.value.problems] == [
        "$.layout.fields.supplier.form", f"{nested}.type", f"{nested}.x-form"]
    assert "'vendor'" in caught.value.problems[0][1]
    deploy(session, changed(lambda d: d["layout"]["fields"]["vault"].update(form="order")))


def test_links_follow_the_data_on_create_update_and_removal(session, forms):
    engineer = forms["engineer1"]
    acme, bolt, cog = (supplier(session, engineer, n) for n in ("Acme", "Bolt", "Cog"))
    order = create_record(session, "order", {
        "title": "Pumps", "supplier": acme.id,
        "lines": [{"part": "seal", "maker": bolt.id}, {"part": "shaft"}]}, engineer)
    session.commit()
    assert links(session, order.id) == {"supplier": acme.id, "lines[0][maker]": bolt.id}
    update_record(session, order.id, {**order.data, "supplier": cog.id}, engineer, 1)
    session.commit()
    assert links(session, order.id) == {"supplier": cog.id, "lines[0][maker]": bolt.id}
    update_record(session, order.id, {"title": "Pumps", "lines": []}, engineer, 2)
    session.commit()
    assert links(session, order.id) == {}


def test_a_record_reads_its_links_both_ways_by_title_and_field(session, forms):
    engineer = forms["engineer1"]
    acme = supplier(session, engineer, "Acme", "Suzhou")
    first = create_record(session, "order", {"title": "Pumps", "supplier": acme.id}, engineer)
    second = create_record(session, "order", {
        "title": "Valves", "lines": [{"part": "seal", "maker": acme.id}]}, engineer)
    session.commit()
    [out] = links_to(session, first, engineer, "en")
    assert (out.field, out.record_id, out.form_title, out.title) == (
        "Supplier", acme.id, "Supplier", f"#{acme.id} Acme · Suzhou")
    incoming = linked_from(session, acme, engineer, "en")
    assert [(link.record_id, link.form_title, link.field) for link in incoming] == [
        (second.id, "Order", "Lines › 1 › Maker"), (first.id, "Order", "Supplier")]
    assert incoming[1].title == f"#{first.id} Pumps"


def test_only_records_the_reader_may_read_are_listed_or_titled(session, forms):
    leader, engineer = forms["leader"], forms["engineer1"]
    vault = create_record(session, "vault", {"name": "Gold"}, leader)
    acme = supplier(session, engineer, "Acme")
    order = create_record(session, "order", {"title": "Secret", "supplier": acme.id,
                                             "vault": vault.id}, leader)
    session.commit()
    assert [link.record_id for link in links_to(session, order, leader, "en")] == [
        acme.id, vault.id]
    assert [link.record_id for link in links_to(session, order, engineer, "en")] == [acme.id]
    assert [link.record_id for link in linked_from(session, vault, leader, "en")] == [order.id]
    spec = published_spec(session, "order")
    assert readable(session, spec, order.data, "en", user=engineer)["vault"] == f"#{vault.id}"
    assert readable(session, spec, order.data, "en", user=leader)["vault"] == f"#{vault.id} Gold"
    deploy(session, changed(lambda d: d["layout"].update(records={"readers": ["leader"]})))
    assert linked_from(session, acme, engineer, "en") == []
    assert [link.record_id for link in linked_from(session, acme, leader, "en")] == [order.id]


def test_a_reference_must_name_a_readable_record_of_its_form(session, forms):
    leader, engineer = forms["leader"], forms["engineer1"]
    vault = create_record(session, "vault", {"name": "Gold"}, leader)
    acme = supplier(session, engineer, "Acme")
    session.commit()
    for data, name in (({"supplier": 9999}, "supplier"), ({"supplier": vault.id}, "supplier"),
                       ({"vault": vault.id}, "vault"),
                       ({"lines": [{"maker": vault.id}]}, "lines[0][maker]")):
        with pytest.raises(InvalidSubmission) as caught:
            create_record(session, "order", {"title": "x", **data}, engineer)
        assert list(caught.value.errors) == [name]
        assert "you may read" in caught.value.errors[name].render()
    order = create_record(session, "order", {"title": "x", "supplier": acme.id,
                                             "vault": vault.id}, leader)
    session.commit()
    # someone who cannot read the vault record may keep it while it stays unchanged
    spec = published_spec(session, "order")
    assert record_refs.validate_references(session, spec, order.data, engineer,
                                           previous=order.data) == {}
    assert list(record_refs.validate_references(session, spec, order.data, engineer)) == [
        "vault"]


def test_the_record_number_is_read_as_typed_and_a_word_is_refused(session, forms):
    spec = published_spec(session, "order")
    data, errors = validate_submission(spec, {"title": "x", "supplier": "#12",
                                              "lines[#]": "1", "lines[0][maker]": " 7 "})
    assert errors == {} and data["supplier"] == 12 and data["lines"][0]["maker"] == 7
    _, errors = validate_submission(spec, {"title": "x", "supplier": "Acme"})
    assert errors["supplier"].render().startswith("Type the number of a record")


def test_the_picker_shows_the_chosen_records_title_to_who_may_read_it(session, forms):
    acme = supplier(session, forms["engineer1"], "Acme")
    session.commit()
    spec = published_spec(session, "order")
    built = build_fields(spec, "en", {"title": "x", "supplier": acme.id}, {})
    field = complete(session, spec, built, "en", forms["engineer1"]).find("supplier")
    assert field.extra == {"form": "supplier", "record_id": acme.id,
                           "shown": f"#{acme.id} Acme · Wuxi"}
    assert complete(session, spec, build_fields(spec, "en", {}, {}), "en",
                    forms["engineer1"]).find("supplier").extra["record_id"] is None
    shown = dict(display(spec, "en", readable(session, spec, {"supplier": acme.id}, "en",
                                              user=forms["pm"])))
    assert shown["Supplier"] == f"#{acme.id} Acme · Wuxi"


def test_search_finds_readable_records_by_text_or_number(session, forms):
    engineer = forms["engineer1"]
    acme, bolt = supplier(session, engineer, "Acme", "Suzhou"), supplier(session, engineer, "Bolt")
    session.commit()
    assert [t.id for t in record_refs.search(session, "supplier", "suz", engineer, "en")] == [
        acme.id]
    assert [t.id for t in record_refs.search(session, "supplier", f"#{bolt.id}", engineer,
                                             "en")][0] == bolt.id
    with pytest.raises(Forbidden):
        record_refs.search(session, "vault", "gold", engineer, "en")


def test_an_excel_import_checks_record_numbers_and_keeps_the_links(session, forms):
    engineer = forms["engineer1"]
    acme = supplier(session, engineer, "Acme")
    vault = create_record(session, "vault", {"name": "Gold"}, forms["leader"])
    session.commit()
    spec = published_spec(session, "order")
    sheet = Sheet(["Title", "Supplier"], [(2, ["a", acme.id]), (3, ["b", f"#{vault.id}"]),
                                          (4, ["c", 9999]), (5, ["d", None])])
    report = check_references(session, spec, check_rows(spec, sheet, ["title", "supplier"]),
                              engineer)
    assert [row.number for row in report.valid] == [2, 5]
    assert [(row.number, list(row.errors)) for row in report.invalid] == [
        (3, ["supplier"]), (4, ["supplier"])]
    ids = save_rows(session, "order", [row.data for row in report.valid], engineer)
    assert links(session, ids[0]) == {"supplier": acme.id} and links(session, ids[1]) == {}
    ids = save_rows(session, "order", [{"title": "e", "supplier": vault.id}], engineer)
    assert links(session, ids[0]) == {}  # unchecked rows never link to another form


def test_the_people_picker_becomes_a_search_box_for_many_users(session, forms):
    spec = check_definition(changed(lambda d: d["schema"]["properties"].update(
        owner={"type": "string"}) or d["layout"]["fields"].update(owner={"widget": "user"})),
        "order.json")
    drawn = complete(session, spec, build_fields(spec, "en", {"owner": "pm"}, {}), "en")
    assert drawn.find("owner").extra["choices"] and "search" not in drawn.find("owner").extra
    session.add_all(User(username=f"temp{i:02}", display_name=f"Temp {i:02}",
                         password_hash="x") for i in range(widgets_people.SEARCH_ABOVE))
    session.flush()
    drawn = complete(session, spec, build_fields(spec, "en", {"owner": "pm"}, {}), "en")
    assert drawn.find("owner").extra == {"search": True, "choices": [],
                                         "shown": "王芳 Wang Fang"}
    assert widgets_people.search(session, "user", "wang") == [("pm", "王芳 Wang Fang")]
    assert [k for k, _ in widgets_people.search(session, "user", "temp1")][:2] == [
        "temp10", "temp11"]
    assert widgets_people.search(session, "group", "engineer") == [
        ("engineers", "工程师 Engineers")]
