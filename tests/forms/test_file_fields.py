"""File fields: layout checks at load, files kept outside the row, claimed by one record only."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from andon import files
from andon.errors import InvalidDefinition, InvalidSubmission
from andon.forms import file_fields
from andon.forms.records import create_record, update_record
from andon.forms.schema import FormSpec, check_definition
from andon.forms.store import deploy_form


def definition(props: dict, fields: dict) -> dict:
    """Return a form definition with a title field and these properties and layout entries."""
    return {"key": "incident", "title": "Incident",
            "schema": {"type": "object", "required": ["title"],
                       "properties": {"title": {"type": "string"}, **props}},
            "layout": {"fields": fields}}


def problems(props: dict, fields: dict) -> list[tuple[str, str]]:
    """Return the problems of a definition, [] when it loads."""
    try:
        check_definition(definition(props, fields), "incident.json")
    except InvalidDefinition as invalid:
        return invalid.problems
    return []


def test_a_file_field_loads_with_its_options():
    assert problems({"report": {"type": "string"},
                     "photos": {"type": "array", "items": {"type": "string"}}},
                    {"report": {"widget": "file", "accept": [".pdf", "image/*",
                                                             "application/vnd.ms-excel"],
                                "max_size_mb": 5},
                     "photos": {"widget": "file", "multiple": True}}) == []


@pytest.mark.parametrize(("prop", "entry", "where", "text"), [
    ({"type": "integer"}, {"widget": "file"}, "$.layout.fields.report.widget",
     "must be a property of type string"),
    ({"type": "string"}, {"widget": "file", "multiple": True}, "$.layout.fields.report.widget",
     "type array whose items are of type string"),
    ({"type": "array", "items": {"type": "string"}}, {"widget": "file"},
     "$.layout.fields.report.widget", "must be a property of type string"),
    ({"type": "string"}, {"widget": "file", "multiple": "yes"},
     "$.layout.fields.report.multiple", "true or false"),
    ({"type": "string"}, {"widget": "file", "max_size_mb": 0},
     "$.layout.fields.report.max_size_mb", "number above 0"),
    ({"type": "string"}, {"widget": "file", "max_size_mb": 5000},
     "$.layout.fields.report.max_size_mb", "at most 1024"),
    ({"type": "string"}, {"widget": "file", "accept": ".pdf"},
     "$.layout.fields.report.accept", "Give a list"),
    ({"type": "string"}, {"widget": "file", "accept": [".pdf", "pdf"]},
     "$.layout.fields.report.accept[1]", "'pdf' is neither an extension"),
    ({"type": "string"}, {"accept": [".pdf"]}, "$.layout.fields.report.accept",
     "an option of file fields"),
])
def test_a_bad_file_field_is_refused_naming_its_path(prop, entry, where, text):
    found = problems({"report": prop}, {"report": entry})
    assert [path for path, message in found if text in message] == [where]


def test_a_nested_file_field_is_refused():
    nested = {"lines": {"type": "array", "items": {"type": "object", "properties": {
        "scan": {"type": "string", "x-widget": "file"}}}}}
    found = problems(nested, {})
    assert found == [("$.schema.properties.lines.items.properties.scan.x-widget",
                      "File fields are top-level fields named in the layout (\"widget\": "
                      "\"file\"); a nested field cannot hold files.")]


@pytest.fixture
def form(session, staff) -> FormSpec:
    """Publish an incident form with a one-PDF report (at most 1 KB) and several photos."""
    source = definition({"report": {"type": "string"},
                         "photos": {"type": "array", "items": {"type": "string"}}},
                        {"report": {"widget": "file", "accept": [".pdf"],
                                    "max_size_mb": 1 / 1024},
                         "photos": {"widget": "file", "multiple": True}})
    deploy_form(session, json.dumps(source), "incident.json")
    session.commit()
    return FormSpec(**{**source, "title": {"en": "Incident"}, "layout": source["layout"]})


@pytest.fixture
def uploads(tmp_path) -> files.UploadSettings:
    """Keep files in a temporary folder, at most 4 KB each."""
    return files.UploadSettings(folder=tmp_path / "uploads", max_bytes=4096)


def keep(session, uploads, form, user, name, content, filename) -> files.Attachment:
    """Receive one file in a field."""
    return file_fields.receive(session, uploads, form, name, io.BytesIO(content), filename, user)


def test_a_file_is_kept_outside_the_row_and_the_record_holds_its_id(session, staff, form,
                                                                     uploads):
    user = staff["engineer1"]
    report = keep(session, uploads, form, user, "report", b"%PDF-1.4", "报告.pdf")
    photo = keep(session, uploads, form, user, "photos", b"\x89PNG", "site.png")
    assert files.path_of(uploads, report.sha256).read_bytes() == b"%PDF-1.4"
    assert report.sha256 == hashlib.sha256(b"%PDF-1.4").hexdigest()
    assert (report.field, report.record_id, report.filename) == ("report", None, "报告.pdf")

    record = create_record(session, "incident", {"title": "Fire", "report": str(report.id),
                                                 "photos": [str(photo.id)]}, user)
    assert record.data["report"] == str(report.id)
    assert report.record_id == photo.record_id == record.id
    assert [(label, [a.filename for a in held]) for label, held in
            file_fields.of_record(session, form, record)] == [("report", ["报告.pdf"]),
                                                              ("photos", ["site.png"])]
    assert file_fields.held_by(session, form, record, report.id) is report
    assert file_fields.held_by(session, form, record, 999) is None

    updated = update_record(session, record.id, {"title": "Fire", "report": str(report.id)},
                            user, record.lock_version)
    assert "photos" not in updated.data and file_fields.held_by(session, form, updated,
                                                                photo.id) is None


@pytest.mark.parametrize(("content", "filename", "text"), [
    (b"x" * 1025, "big.pdf", "“big.pdf” was not attached: it is larger than the limit of 1 KB."),
    (b"%PDF", "report.docx", "files of type .docx are not accepted here. Accepted: .pdf."),
    (b"", "empty.pdf", "“empty.pdf” was not attached: it is empty."),
])
def test_a_file_that_does_not_fit_the_field_is_refused(session, staff, form, uploads, content,
                                                       filename, text):
    with pytest.raises(files.FileRefused) as refused:
        keep(session, uploads, form, staff["engineer1"], "report", content, filename)
    assert text in refused.value.message.render()
    assert session.query(files.Attachment).count() == 0


def test_the_installation_limit_caps_the_field(session, staff, form, uploads):
    tight = files.UploadSettings(folder=uploads.folder, max_bytes=512)
    with pytest.raises(files.FileRefused) as refused:
        keep(session, tight, form, staff["engineer1"], "photos", b"x" * 600, "big.png")
    assert "larger than the limit of 512 B" in refused.value.message.render()
    with pytest.raises(files.FileRefused):  # the field cannot widen the installation's types
        keep(session, uploads, form, staff["engineer1"], "photos", b"MZ", "setup.exe")


def test_a_record_cannot_take_a_file_that_is_not_its_own(session, staff, form, uploads):
    mine = keep(session, uploads, form, staff["engineer1"], "report", b"%PDF", "a.pdf")
    photo = keep(session, uploads, form, staff["engineer1"], "photos", b"PNG", "a.png")
    for user, data in ((staff["engineer2"], {"report": str(mine.id)}),  # someone else's
                       (staff["engineer1"], {"report": str(photo.id)}),  # another field's
                       (staff["engineer1"], {"report": "424242"})):  # nobody's
        with pytest.raises(InvalidSubmission) as invalid:
            create_record(session, "incident", {"title": "t", **data}, user)
        assert "Choose the file again" in invalid.value.errors["report"].render()
    create_record(session, "incident", {"title": "t", "report": str(mine.id)}, staff["engineer1"])
    with pytest.raises(InvalidSubmission):  # once a record holds it, no other record may
        create_record(session, "incident", {"title": "u", "report": str(mine.id)},
                      staff["engineer1"])
