"""Records in and out of Excel: import an .xlsx in steps, export a list to .xlsx or .csv.

Import: upload → map each column to a field → a validation report per row →
confirm. Nothing is saved before confirm; the read sheet waits server-side
under a token bound to the uploader (``andon.forms.record_imports``). Each
step is a plain form that works without JavaScript; with htmx the report is
drawn under the mapping without leaving the page. Export carries the list's
search, filters and sort and writes every matching row, not just one page.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from andon import catalog, temporal
from andon.errors import NotFound
from andon.flows import record_starts
from andon.forms import excel, exports, file_fields
from andon.forms import filters as listing
from andon.forms import record_imports as imports
from andon.forms.excel import SheetRefused
from andon.forms.models import Record
from andon.forms.records import current_form
from andon.forms.schema import FormSpec
from andon.web import db
from andon.web.i18n import locale_code, translate
from andon.web.pages import is_fragment_request, me, timezone

bp = Blueprint("excel", __name__, url_prefix="/records")
SHOWN_INVALID = 50
MULTIPART_MARGIN = 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pending_folder() -> Path:
    """Return the folder of imports waiting between steps."""
    return Path(current_app.config["ANDON"].instance_path) / "imports"


@bp.route("/<key>/import", methods=["GET", "POST"])
def upload(key: str) -> Any:
    """Show the upload form, or read the chosen .xlsx and go on to mapping its columns."""
    spec = current_form(db.session(), key, me())[1]
    if request.method == "GET":
        return _upload_page(spec, key, None)
    chosen = request.files.get("sheet")
    if chosen is None or not chosen.filename:
        return _upload_page(spec, key, _("Choose an .xlsx file to import.")), 422
    try:
        sheet = excel.read_sheet(chosen.stream, chosen.filename)
    except SheetRefused as refused:
        return _upload_page(spec, key, translate(refused.message)), 422
    pending = imports.keep_upload(pending_folder(), me(), key, chosen.filename, sheet)
    return redirect(url_for("excel.mapping", key=key, token=pending.token))


def _upload_page(spec: FormSpec, key: str, error: str | None) -> str:
    """Render the upload form with what went wrong, if anything."""
    return render_template("records/import.html", spec=spec, key=key, error=error,
                           max_rows=excel.MAX_ROWS, max_mb=excel.MAX_BYTES // (1024 * 1024),
                           starts=_started_flow(spec))


def _started_flow(spec: FormSpec) -> str | None:
    """Return the name of the flow each new record of the form starts, if any."""
    key = record_starts.flow_of(spec)
    if key is None:
        return None
    try:
        return catalog.current(db.session(), "flow", key).label(locale_code())
    except NotFound:
        return key


@bp.get("/<key>/import/template.xlsx")
def template(key: str) -> Any:
    """Send a workbook with the form's columns and one example row, to fill in and import."""
    spec = current_form(db.session(), key, me())[1]
    locale = locale_code()
    sample = {name: prop["examples"][0] for name, prop in spec.properties.items()
              if isinstance(prop.get("examples"), list) and prop["examples"]}
    sample |= {name: prop["default"] for name, prop in spec.properties.items()
               if "default" in prop and name not in sample}
    row = exports.export_row(spec, sample, locale, timezone(), _)
    name = f"{spec.title_in(locale)}-{_('template')}.xlsx"
    return _download(exports.write_xlsx(exports.headers_of(spec, locale), [row]), XLSX_TYPE, name)


@bp.record_once
def _allow_uploads(state: Any) -> None:
    """Raise the request size limit for the upload before the CSRF check reads the form."""
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


def _upload_limit() -> None:
    """Let an import upload be as large as the import limit."""
    if request.endpoint == "excel.upload":
        request.max_content_length = excel.MAX_BYTES + MULTIPART_MARGIN


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    """Say the file is over the limit; nothing was read."""
    key = (request.view_args or {}).get("key", "")
    spec = current_form(db.session(), key, me())[1]
    message = _("The file is larger than the limit of %(limit)s MB.",
                limit=excel.MAX_BYTES // (1024 * 1024))
    return _upload_page(spec, key, message), 413


@bp.get("/<key>/import/<token>")
def mapping(key: str, token: str) -> Any:
    """Show each column with the field it goes to (guessed by label or key), to change."""
    spec = current_form(db.session(), key, me())[1]
    pending = imports.open_pending(pending_folder(), token, me(), key)
    chosen = pending.mapping or excel.guess_mapping(spec, pending.sheet.headers)
    return render_template("records/import_mapping.html", **_mapping_view(spec, key, pending,
                                                                          chosen))


def _mapping_view(spec: FormSpec, key: str, pending: imports.PendingImport,
                  chosen: list[str | None]) -> dict[str, Any]:
    """Return what the mapping page needs: columns with samples, fields, missing ones."""
    locale = locale_code()
    samples = [[_sample(cells[i]) for _, cells in pending.sheet.rows[:3]]
               for i in range(len(pending.sheet.headers))]
    return {"spec": spec, "key": key, "pending": pending,
            "columns": list(zip(pending.sheet.headers, chosen, samples, strict=True)),
            "fields": [(name, spec.label(name, locale)) for name in excel.mappable(spec)],
            "missing": [spec.label(n, locale) for n in excel.unmapped_required(spec, chosen)]}


def _sample(cell: Any) -> str:
    """Return a cell as a short text to recognise a column by."""
    if isinstance(cell, datetime):
        cell = cell.date() if cell.time() == time(0) else cell.isoformat(" ", "minutes")
    text = cell.isoformat() if isinstance(cell, date) else ("" if cell is None else str(cell))
    return text if len(text) <= 40 else text[:39] + "…"


@bp.post("/<key>/import/<token>")
def check(key: str, token: str) -> Any:
    """Keep the chosen mapping and show the report (htmx: under the mapping)."""
    spec = current_form(db.session(), key, me())[1]
    folder = pending_folder()
    pending = imports.open_pending(folder, token, me(), key)
    chosen = [request.form.get(f"column-{i}") or None for i in range(len(pending.sheet.headers))]
    twice = [spec.label(n, locale_code()) for n in excel.mappable(spec) if chosen.count(n) > 1]
    if twice:
        error = _("Each field can take one column only; chosen more than once: %(fields)s.",
                  fields=", ".join(twice))
        if is_fragment_request():
            return render_template("records/_import_error.html", error=error), 422
        return render_template("records/import_mapping.html", error=error,
                               **_mapping_view(spec, key, pending, chosen)), 422
    pending.mapping = excel.clean_mapping(spec, chosen)
    imports.save_pending(folder, pending)
    if is_fragment_request():
        return render_template("records/_import_report.html", **_report_view(spec, key, pending))
    return redirect(url_for("excel.report", key=key, token=token))


@bp.get("/<key>/import/<token>/report")
def report(key: str, token: str) -> Any:
    """Show how many rows are valid and the invalid ones with their errors."""
    spec = current_form(db.session(), key, me())[1]
    pending = imports.open_pending(pending_folder(), token, me(), key)
    if pending.mapping is None:
        return redirect(url_for("excel.mapping", key=key, token=token))
    return render_template("records/import_report.html", **_report_view(spec, key, pending))


def _report_view(spec: FormSpec, key: str, pending: imports.PendingImport) -> dict[str, Any]:
    """Check every row against the form and return what the report shows."""
    result = _checked(spec, pending)
    locale = locale_code()
    return {"spec": spec, "key": key, "pending": pending, "report": result,
            "shown": [(row, _error_rows(spec, row, locale))
                      for row in result.invalid[:SHOWN_INVALID]],
            "missing": [spec.label(n, locale) for n in result.unmapped_required]}


def _checked(spec: FormSpec, pending: imports.PendingImport) -> excel.Report:
    """Return the report of a pending import with its mapping (record numbers checked too)."""
    report = imports.check_references(
        db.session(), spec, excel.check_rows(spec, pending.sheet, pending.mapping or [],
                                             timezone()), me())
    return _check_starts(spec, report)


def _check_starts(spec: FormSpec, report: excel.Report) -> excel.Report:
    """Move the valid rows whose flow (the form's ``start_flow``) would not start to the invalid."""
    found = record_starts.check_rows(db.session(), spec, [row.data for row in report.valid], me())
    for row, errors in zip(report.valid, found, strict=True):
        row.errors.update(errors)
    report.invalid = sorted(report.invalid + [row for row in report.valid if row.errors],
                            key=lambda row: row.number)
    report.valid = [row for row in report.valid if not row.errors]
    return report


def _error_rows(spec: FormSpec, row: excel.RowResult, locale: str) -> list[tuple[str, str]]:
    """Return (field label, message) for each error of a row, in form order."""
    order = {name: index for index, name in enumerate(spec.order())}
    return [(spec.label(name, locale), translate(row.errors[name]))
            for name in sorted(row.errors, key=lambda n: order.get(n, len(order)))]


@bp.post("/<key>/import/<token>/confirm")
def confirm(key: str, token: str) -> Any:
    """Save every valid row as a record, all in one transaction; then forget the upload."""
    session, user, folder = db.session(), me(), pending_folder()
    spec = current_form(session, key, user)[1]
    pending = imports.open_pending(folder, token, user, key)
    result = _checked(spec, pending)
    if result.unmapped_required or not result.valid:
        flash(_("Nothing was imported: no row is valid."), "error")
        return redirect(url_for("excel.report", key=key, token=token))
    try:
        with imports.claimed(folder, token):
            ids = imports.save_rows(session, key, [row.data for row in result.valid], user,
                                    pending.filename)
            _start_flows(spec, [row.number for row in result.valid], ids)
            session.commit()
    except record_starts.RowNotStarted as refused:
        session.rollback()
        flash(_("Nothing was imported: row %(row)s, column “%(column)s”: %(error)s",
                row=refused.row, column=_column_of(spec, pending, refused.field),
                error=translate(refused.error)), "error")
        return redirect(url_for("excel.report", key=key, token=token))
    flash(_("%(count)s records imported from “%(file)s”.", count=len(result.valid),
            file=pending.filename))
    if result.invalid:
        flash(_("%(count)s invalid rows were not imported.", count=len(result.invalid)),
              "error")
    return redirect(url_for("records.listing_page", key=key))


def _start_flows(spec: FormSpec, numbers: list[int], ids: list[int]) -> None:
    """Start the form's flow for each imported record (sheet row number, record id)."""
    if record_starts.flow_of(spec) is None:
        return
    session = db.session()
    found = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
    record_starts.start_all(session, spec, [(n, found[i]) for n, i in zip(numbers, ids,
                                                                          strict=True)], me())


def _column_of(spec: FormSpec, pending: imports.PendingImport, field: str) -> str:
    """Return the header of the column mapped to a field, else the field's label."""
    for header, name in zip(pending.sheet.headers, pending.mapping or [], strict=False):
        if name == field:
            return header
    return spec.label(field, locale_code())


@bp.get("/<key>/import/<token>/invalid.xlsx")
def invalid_rows(key: str, token: str) -> Any:
    """Send the invalid rows as uploaded, with a column naming each row's errors."""
    spec = current_form(db.session(), key, me())[1]
    pending = imports.open_pending(pending_folder(), token, me(), key)
    locale = locale_code()
    content = exports.invalid_workbook(
        pending.sheet, _checked(spec, pending).invalid, _("Errors"),
        lambda row: excel.error_text(spec, row.errors, locale, translate))
    stem, suffix = pending.filename.rsplit(".", 1)[0], _("errors")
    return _download(content, XLSX_TYPE, f"{stem}-{suffix}.xlsx")


@bp.get("/<key>/export.<kind>")
def export(key: str, kind: str) -> Any:
    """Send every record the list's search and filters find, in its sort, as .xlsx or .csv."""
    session = db.session()
    spec = current_form(session, key, me())[1]
    if kind not in ("xlsx", "csv"):
        return redirect(url_for("records.listing_page", key=key))
    found, _errors = listing.parse_filters(spec, request.args.to_dict(flat=False))
    query = listing.list_records(spec, request.args.get("q", "").strip(), found,
                                 request.args.get("sort", "-created"))
    count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    exports.check_size(count or 0)
    locale, zone = locale_code(), timezone()
    named = file_fields.fields_of(spec)  # files go out by name, not by attachment id
    rows = (exports.export_row(spec, file_fields.readable(session, spec, record.data)
                               if named else record.data, locale, zone, _)
            for record in session.scalars(query.execution_options(yield_per=500)))
    headers = exports.headers_of(spec, locale)
    name = f"{spec.title_in(locale)}-{temporal.today().isoformat()}.{kind}"
    if kind == "xlsx":
        return _download(exports.write_xlsx(headers, rows), XLSX_TYPE, name)
    # Written whole, not streamed: the database session ends with the request.
    return _download("".join(exports.write_csv(headers, rows, _)).encode("utf-8"),
                     "text/csv; charset=utf-8", name)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    """Return a file to save, named in any language, never cached."""
    from urllib.parse import quote

    response = Response(body, mimetype=mimetype)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response
