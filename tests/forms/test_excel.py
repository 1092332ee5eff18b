"""Records from and to spreadsheets: mapping, typed cells, errors per row, limits, bulk save."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from andon import catalog, clock
from andon.audit import AuditEvent
from andon.errors import Forbidden, NotFound
from andon.forms import excel, exports
from andon.forms.excel import SheetRefused, check_rows, guess_mapping, read_sheet
from andon.forms.models import Record, RecordChange
from andon.forms.record_imports import claimed, keep_upload, open_pending, save_rows
from andon.forms.records import create_record
from andon.forms.schema import FormSpec
from andon.forms.store import deploy_form

ISSUE = Path(__file__).resolve().parent.parent / "data" / "records" / "issue.json"


def workbook(*rows, name: str = "issues.xlsx") -> io.BytesIO:
    """Return an .xlsx holding the rows (the first is the header row)."""
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = name
    return out


def spec_of(session) -> FormSpec:
    """Return the published issue form."""
    return FormSpec(**catalog.current(session, "form", "issue").content)


@pytest.fixture
def issue(session, staff):
    """Publish the issue form; return the demo people."""
    deploy_form(session, ISSUE.read_text(), "issue.json")
    session.commit()
    return staff


def test_headers_map_by_label_in_either_language_or_key_and_unknown_ones_are_ignored(
        session, issue):
    mapping = guess_mapping(spec_of(session), ["标题", "Severity", "loss", "Comments", "备注",
                                               "Title"])
    assert mapping == ["title", "severity", "loss", None, "note", None]
    assert excel.unmapped_required(spec_of(session), [None, "loss"]) == ["title", "severity"]


def test_typed_cells_and_text_cells_become_the_forms_types(session, issue):
    sheet = read_sheet(workbook(
        ["Title", "严重程度", "Revenue loss", "Found on", "Recurring", "Note"],
        ["Disk full", "High", 1200.5, datetime(2026, 3, 1), True, 42],
        ["数据库超时", "低", "99", "2026-05-02", "否", None],
        ["Fan", "high", 7, date(2026, 6, 3), "yes", "x"]), "issues.xlsx")
    report = check_rows(spec_of(session), sheet, guess_mapping(spec_of(session), sheet.headers))
    assert [r.errors for r in report.invalid] == []
    assert [r.data for r in report.valid] == [
        {"title": "Disk full", "severity": "high", "loss": 1200.5, "found_on": "2026-03-01",
         "recurring": True, "note": "42"},
        {"title": "数据库超时", "severity": "low", "loss": 99, "found_on": "2026-05-02",
         "recurring": False},
        {"title": "Fan", "severity": "high", "loss": 7, "found_on": "2026-06-03",
         "recurring": True, "note": "x"}]


def test_each_invalid_row_names_its_fields_errors_and_keeps_its_sheet_row_number(
        session, issue):
    sheet = read_sheet(workbook(
        ["Title", "Severity", "Revenue loss", "Found on", "Recurring"],
        ["ok", "low", 1, None, None],
        [None, None, None, None, None],  # an empty row is skipped, numbers stay the sheet's
        ["", "urgent", "lots", "2026-13-01", "maybe"],
        ["neg", "low", -5, "yesterday", None]), "issues.xlsx")
    spec = spec_of(session)
    report = check_rows(spec, sheet, guess_mapping(spec, sheet.headers))
    assert [r.number for r in report.valid] == [2]
    assert [(r.number, sorted(r.errors)) for r in report.invalid] == [
        (4, ["found_on", "loss", "recurring", "severity", "title"]),
        (5, ["found_on", "loss"])]
    line = excel.error_text(spec, report.invalid[1].errors, "en", lambda m: m.render())
    assert line == ("Revenue loss: Enter a value greater than or equal to 0.; "
                    "Found on: Enter a date as YYYY-MM-DD.")
    assert "Recurring: Choose yes or no." in excel.error_text(
        spec, report.invalid[0].errors, "en", lambda m: m.render())


def test_the_invalid_rows_file_keeps_the_cells_adds_errors_and_imports_again(session, issue):
    spec = spec_of(session)
    sheet = read_sheet(workbook(["标题", "严重程度", "收入损失", "发现日期"],
                                ["好的", "低", 3, date(2026, 1, 5)],
                                ["坏的", "中", 4, date(2026, 2, 6)]), "问题.xlsx")
    report = check_rows(spec, sheet, guess_mapping(spec, sheet.headers))
    content = exports.invalid_workbook(sheet, report.invalid, "错误", lambda row: excel.error_text(
        spec, row.errors, "zh-CN", lambda m: m.render()))
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows == [("标题", "严重程度", "收入损失", "发现日期", "错误"),
                    ("坏的", "中", 4, datetime(2026, 2, 6), "严重程度: Choose one of the listed "
                                                          "options.")]
    again = read_sheet(io.BytesIO(content), "问题-errors.xlsx")
    assert guess_mapping(spec, again.headers) == ["title", "severity", "loss", "found_on", None]
    again.rows[0][1][1] = "高"  # the user corrects the option
    fixed = check_rows(spec, again, guess_mapping(spec, again.headers))
    assert [r.data for r in fixed.valid] == [
        {"title": "坏的", "severity": "high", "loss": 4, "found_on": "2026-02-06"}]


def test_macro_workbooks_other_files_and_oversized_ones_are_refused():
    with pytest.raises(SheetRefused, match=r"macros \(\.xlsm\)"):
        read_sheet(workbook(["a"], ["b"]), "budget.xlsm")
    with pytest.raises(SheetRefused, match="not an .xlsx"):
        read_sheet(io.BytesIO(b"a,b\n1,2\n"), "budget.csv")
    with pytest.raises(SheetRefused, match="could not be read"):
        read_sheet(io.BytesIO(b"PK\x03\x04 but not a zip"), "broken.xlsx")
    with pytest.raises(SheetRefused, match="larger than the limit of 1 MB"):
        read_sheet(io.BytesIO(b"PK\x03\x04" + b"0" * (1024 * 1024)), "big.xlsx",
                   max_bytes=1024 * 1024)
    renamed = io.BytesIO(workbook(["a"], ["b"]).getvalue())
    with zipfile.ZipFile(renamed, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"macro")
    renamed.seek(0)
    with pytest.raises(SheetRefused, match="macros"):
        read_sheet(renamed, "renamed.xlsx")


def test_too_many_rows_or_columns_are_refused_with_the_limit(monkeypatch):
    rows = [["n", None, None], *([i] for i in range(6))]
    sheet = read_sheet(workbook(*rows), "six.xlsx", max_rows=6)
    assert sheet.headers == ["n"] and len(sheet.rows) == 6  # empty header cells at the end go
    with pytest.raises(SheetRefused, match="more than 5 rows"):
        read_sheet(workbook(*rows), "six.xlsx", max_rows=5)
    monkeypatch.setattr(excel, "MAX_COLUMNS", 2)
    with pytest.raises(SheetRefused, match="more than 2 columns"):
        read_sheet(workbook(["a", "b", "c"]), "wide.xlsx")


def test_formulas_give_the_value_excel_saved_never_the_formula():
    content = io.BytesIO()
    with zipfile.ZipFile(workbook(["n", "double"], [2, "=A2*2"])) as source, \
            zipfile.ZipFile(content, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":  # as Excel saves it: with a value
                data = data.replace(b"<f>A2*2</f><v></v>", b"<f>A2*2</f><v>4</v>")
            target.writestr(entry, data)
    content.seek(0)
    assert read_sheet(content, "f.xlsx").rows == [(2, [2, 4])]


def test_a_pending_import_is_its_uploaders_and_expires(session, issue, tmp_path):
    sheet = read_sheet(workbook(["Title", "Found on"], ["a", datetime(2026, 3, 1, 9, 30)]),
                       "a.xlsx")
    with clock.frozen(datetime(2026, 11, 22, 8, tzinfo=UTC)):
        pending = keep_upload(tmp_path, issue["engineer1"], "issue", "a.xlsx", sheet)
        again = open_pending(tmp_path, pending.token, issue["engineer1"], "issue")
        assert again.sheet == sheet and again.filename == "a.xlsx"
        with pytest.raises(NotFound):
            open_pending(tmp_path, pending.token, issue["engineer2"], "issue")
        with pytest.raises(NotFound):
            open_pending(tmp_path, "../../etc/passwd", issue["engineer1"], "issue")
    with clock.frozen(datetime(2026, 11, 22, 11, tzinfo=UTC)), pytest.raises(NotFound):
        open_pending(tmp_path, pending.token, issue["engineer1"], "issue")


def test_a_pending_import_is_saved_once_and_kept_if_saving_fails(session, issue, tmp_path):
    sheet = read_sheet(workbook(["Title"], ["a"]), "a.xlsx")
    user = issue["engineer1"]
    token = keep_upload(tmp_path, user, "issue", "a.xlsx", sheet).token
    with pytest.raises(RuntimeError), claimed(tmp_path, token):
        raise RuntimeError("the database went away")
    with claimed(tmp_path, token):
        with pytest.raises(NotFound):  # a second confirm at the same time
            open_pending(tmp_path, token, user, "issue")
        with pytest.raises(NotFound), claimed(tmp_path, token):
            pass
    with pytest.raises(NotFound):
        open_pending(tmp_path, token, user, "issue")


def test_saving_rows_stores_records_with_an_imported_history_and_one_audit_event(
        session, issue):
    create_record(session, "issue", {"title": "before", "severity": "low"}, issue["admin"])
    rows = [{"title": f"row {i}", "severity": "high", "loss": i} for i in range(2500)]
    ids = save_rows(session, "issue", rows, issue["engineer1"], "big.xlsx")
    session.commit()
    assert len(ids) == 2500 and ids == sorted(ids)
    first = session.get(Record, ids[0])
    assert first.data == rows[0] and first.lock_version == 1 and "row 0" in first.search_text
    assert session.get(Record, ids[-1]).data["title"] == "row 2499"
    kinds = session.execute(select(RecordChange.kind, func.count()).group_by(RecordChange.kind))
    assert dict(kinds.all()) == {"created": 1, "imported": 2500}
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.kind == "record.imported")))
    assert len(events) == 1 and events[0].detail["count"] == 2500
    assert events[0].detail["file"] == "big.xlsx" and events[0].actor_id == issue["engineer1"].id


def test_only_readers_may_import(session, issue):
    definition = json.loads(ISSUE.read_text())
    definition["layout"]["records"] = {"readers": ["leader"]}
    deploy_form(session, json.dumps(definition), "issue.json")
    with pytest.raises(Forbidden):
        save_rows(session, "issue", [{"title": "x", "severity": "low"}], issue["engineer1"])


def test_export_rows_are_typed_and_options_are_labels(session, issue):
    spec = spec_of(session)
    row = exports.export_row(spec, {"title": "a", "severity": "high", "loss": 2.5,
                                  "found_on": "2026-03-01", "recurring": True}, "zh-CN",
                           "Asia/Shanghai", str)
    assert row == ["a", "高", 2.5, date(2026, 3, 1), True, None]
    text = "".join(exports.write_csv(exports.headers_of(spec, "zh-CN"), [row], str))
    assert text.startswith("\ufeff标题,严重程度,收入损失,发现日期,反复出现,备注\r\n")
    assert text.endswith("a,高,2.5,2026-03-01,Yes,\r\n")
