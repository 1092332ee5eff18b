"""Records of every form: list with search, filters, sort and pages; detail, new and edit.

Who may see and edit is one rule in ``andon.forms.records`` (signed-in users
read and create unless the form names reader roles; the creator, admins and
the form's editor roles edit). The list works without JavaScript: the filter
form is a GET form and every link carries the state in its URL; with htmx
only the table is swapped and the URL is pushed, so reloading keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from andon import projects
from andon.database import utcnow
from andon.errors import InvalidSubmission
from andon.flows import record_starts
from andon.flows.models import Task
from andon.forms import file_fields, record_links
from andon.forms import filters as listing
from andon.forms.fields import display, options, supported
from andon.forms.models import Record
from andon.forms.records import (
    StaleRecord,
    create_record,
    current_form,
    get_record,
    history,
    may_edit,
    readable_forms,
    record_spec,
    rules_spec,
    update_record,
)
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.forms.validation import validate_submission
from andon.forms.widget_fields import readable
from andon.forms.widgets_numbers import show_money
from andon.web import db, uploads
from andon.web.i18n import locale_code
from andon.web.pages import form_fields, is_fragment_request, me, submit

bp = Blueprint("records", __name__, url_prefix="/records")
uploads.allow_on(bp, "records.new", "records.edit")
PAGE_SIZE = 25
COLUMNS = 6


@bp.get("/")
def index() -> Any:
    """List the forms whose records the user may read."""
    return render_template("records/index.html", forms=readable_forms(db.session(), me()))


@bp.get("/<key>")
def listing_page(key: str) -> Any:
    """List a form's records; an htmx request gets only the table."""
    _, spec = current_form(db.session(), key, me())
    filters, errors = listing.parse_filters(spec, request.args.to_dict(flat=False))
    search, sort = request.args.get("q", "").strip(), request.args.get("sort", "-created")
    page = max(1, request.args.get("page", 1, type=int))
    query = listing.list_records(spec, search, filters, sort)
    found = list(db.session().scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    names = [name for name, _, _ in supported(spec)][:COLUMNS]
    rows = [(record, [shown[n] for n in names]) for record in found[:PAGE_SIZE]
            for shown in [_shown(spec, record.data)]]
    # Going back restores a pushed URL with HX-Request too: it needs the whole page.
    table_only = is_fragment_request() and not request.headers.get("HX-History-Restore-Request")
    page_html = render_template(
        "records/_table.html" if table_only else "records/list.html", spec=spec, key=key,
        rows=rows, search=search, sort=sort, page=page, more=len(found) > PAGE_SIZE,
        errors=errors, columns=[(n, spec.label(n, locale_code())) for n in names],
        filtering=bool(filters or errors), args=request.args, state_url=_state_url,
        **_filter_form(spec))
    return page_html, {"Vary": "HX-Request"}


def _filter_form(spec: FormSpec) -> dict[str, Any]:
    """Return what the filter form needs: every field's label, kind and options."""
    locale = locale_code()
    return {"filterable": [(n, spec.label(n, locale)) for n, _, _ in supported(spec)],
            "kinds": listing.field_kinds(spec),
            "options": {n: options(prop, spec.field_layout(n), locale)
                        for n, kind, prop in supported(spec) if kind == "enum"}}


def _state_url(**changes: Any) -> str:
    """Return this list's URL with some query arguments changed (None removes one)."""
    args = MultiDict(request.args)
    for name, value in changes.items():
        args.pop(name, None)
        if value is not None:
            args[name] = value
    return url_for("records.listing_page", key=request.view_args["key"],  # type: ignore[index]
                   **args.to_dict(flat=False))


def _shown(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, str]:
    """Return {field: shown value} in the user's language, options by their label."""
    names = [name for name, _, _ in supported(spec)]
    shown = display(spec, locale_code(), _readable(spec, data), gettext)
    return {name: value for name, (_, value) in zip(names, shown, strict=True)}


def _readable(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the data with taxonomy codes as paths, people by name, records by title."""
    return readable(db.session(), spec, data, locale_code(), gettext, me())


@bp.get("/<key>/<int:record_id>")
def show(key: str, record_id: int) -> Any:
    """Show a record's values by label and its history of changes."""
    session, record = db.session(), _record(key, record_id)
    spec = record_spec(session, record)
    changes = [(change, _change_rows(spec, change.changes))
               for change in session.scalars(history(record.id))]
    links = _links(record)
    return render_template("records/show.html", record=record, spec=spec, key=key,
                           values=display(spec, locale_code(), _readable(spec, record.data),
                                          gettext),
                           changes=changes,
                           files=file_fields.of_record(session, spec, record, locale_code()),
                           editable=may_edit(rules_spec(session, record), record, me()),
                           **links, **_project(record, spec, links["linked_from"]))


def _project(record: Record, spec: FormSpec,
             linked_from: list[record_links.Link]) -> dict[str, Any]:
    """Return what a client project's page adds: stages, open tasks, changes, budget."""
    if record.form_key != projects.FORM:
        return {}
    session, locale = db.session(), locale_code()
    found = projects.overview(session, record, me())
    layout = spec.field_layout("contract_value")
    return {"project": found, "budget": projects.budget(record.data), "now": utcnow(),
            "retro_flows": projects.retrospective_flows(found),
            "retro_records": [link for link in linked_from
                              if projects.RETROSPECTIVE in link.form_key],
            "retro_rows": {task.id: _task_rows(session, task) for task in found.retrospective},
            "money": lambda value: show_money(value, {}, layout, locale)}


def _task_rows(session: Session, task: Task) -> list[tuple[str, str]]:
    """Return a completed task's non-empty values as (label, value), record fields left out."""
    if task.form_version_id is None:
        return []
    spec, locale = form_spec_at(session, task.form_version_id), locale_code()
    shown = display(spec, locale, readable(session, spec, task.data, locale, gettext, me()),
                    gettext)
    names = [name for name, _, _ in supported(spec)]
    return [(label, value) for (label, value), name in zip(shown, names, strict=True)
            if value and spec.field_layout(name).get("widget") != "record"]


def _links(record: Record) -> dict[str, Any]:
    """Return the records this one links to and is linked from, those the reader may read."""
    session, user, locale = db.session(), me(), locale_code()
    links_to = record_links.links_to(session, record, user, locale, gettext)
    return {"links_to": links_to,
            "linked_from": record_links.linked_from(session, record, user, locale, gettext),
            "value_links": {link.field: url_for("records.show", key=link.form_key,
                                                record_id=link.record_id)
                            for link in links_to if "[" not in link.path}}


def _record(key: str, record_id: int) -> Record:
    """Return the record of this form that the user may read."""
    record = get_record(db.session(), record_id, me())
    if record.form_key != key:
        abort(404)
    return record


def _change_rows(spec: FormSpec, changes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return (label, before, after) for each changed field, shown as a reader sees them."""
    before = _shown(spec, {name: pair[0] for name, pair in changes.items()})
    after = _shown(spec, {name: pair[1] for name, pair in changes.items()})
    return [(spec.label(name, locale_code()), before.get(name, str(pair[0] or "")),
             after.get(name, str(pair[1] or ""))) for name, pair in changes.items()]


@bp.route("/<key>/new", methods=["GET", "POST"])
def new(key: str) -> Any:
    """Show an empty form, or create a record from what was submitted."""
    session = db.session()
    version_id, spec = current_form(session, key, me())
    form, refused = uploads.receive(spec, request.form, me())
    done = submit(lambda: _created(session, spec, form, refused))
    if done.result is not None:
        flash(gettext("Saved."))
        return redirect(url_for("records.show", key=key, record_id=done.result.id))
    fields = form_fields(spec, done.values, done.errors, version_id)
    return render_template("records/new.html", spec=spec, key=key, fields=fields,
                           errors=done.errors), (422 if done.errors else 200)


def _created(session: Session, spec: FormSpec, form: Mapping[str, str],
             refused: Mapping[str, Any]) -> Record:
    """Create a record and start the flow its form names for new records, if any."""
    record = create_record(session, spec.key, _typed(spec, form, refused=refused), me())
    try:
        record_starts.start_for(session, spec, record, me())
    except record_starts.RowNotStarted as refusal:
        raise InvalidSubmission({refusal.field: refusal.error}, form) from None
    return record


def _typed(spec: FormSpec, form: Mapping[str, str], kept: Mapping[str, Any] | None = None,
           refused: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the submission as typed data, keeping stored values the form does not edit.

    ``refused`` are the errors of files that were not kept (``uploads.receive``).
    """
    data, errors = validate_submission(spec, form)
    errors = {**errors, **(refused or {})}
    if errors:
        raise InvalidSubmission(errors, form)
    editable = {name for name, _, prop in supported(spec) if not prop.get("readOnly")}
    return {**{k: v for k, v in (kept or {}).items() if k not in editable}, **data}


@bp.route("/<key>/<int:record_id>/edit", methods=["GET", "POST"])
def edit(key: str, record_id: int) -> Any:
    """Show the edit form, or save it unless someone else saved in between."""
    session, record, user = db.session(), _record(key, record_id), me()
    if not may_edit(rules_spec(session, record), record, user):
        abort(403)
    spec = record_spec(session, record)
    expected = request.form.get("version", record.lock_version, type=int)
    form, refused = uploads.receive(spec, request.form, user)
    try:
        done = submit(lambda: update_record(
            session, record_id, _typed(spec, form, record.data, refused), user, expected))
    except StaleRecord as stale:
        session.rollback()
        return _edit_page(spec, record, form, {}, stale), 409
    if done.result is not None:
        flash(gettext("Saved."))
        return redirect(url_for("records.show", key=key, record_id=record_id))
    values = done.values if request.method == "POST" else record.data
    return _edit_page(spec, record, values, done.errors, None, expected), (
        422 if done.errors else 200)


def _edit_page(spec: FormSpec, record: Record, values: Mapping[str, Any],
               errors: dict[str, Any], stale: StaleRecord | None,
               version: int | None = None) -> str:
    """Render the edit form; after a stale save, their values beside yours."""
    compare = []
    if stale is not None:
        version = stale.version
        yours, _ = validate_submission(spec, values)
        theirs, mine = _shown(spec, stale.current), _shown(spec, yours)
        compare = [(spec.label(name, locale_code()), theirs[name], mine[name])
                   for name in theirs if theirs[name] != mine[name]]
    return render_template("records/edit.html", spec=spec, record=record, key=record.form_key,
                           fields=form_fields(spec, values, errors, record.form_version_id),
                           errors=errors, stale=stale, compare=compare,
                           version=version or record.lock_version)


@bp.get("/<key>/<int:record_id>/files/<int:attachment_id>")
def download(key: str, record_id: int, attachment_id: int) -> Any:
    """Send a file the record holds in a file field, to someone who may read the record."""
    session, record = db.session(), _record(key, record_id)
    attachment = file_fields.held_by(session, record_spec(session, record), record, attachment_id)
    if attachment is None:
        abort(404)
    return uploads.send(attachment)
