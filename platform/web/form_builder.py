"""The form builder: administrators and designers make and change forms in the browser.

Every edit posts to the builder page with the draft revision it was made on and
is saved at once (``andon.forms.drafts``); the page comes back with the field
still selected, and htmx swaps just the workspace. A refused edit shows its
message by the input and keeps what was typed; an edit on a draft someone else
saved since shows their version and applies nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from andon import audit, catalog
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.forms import builder, builder_panel, drafts
from andon.forms.compare import compare
from andon.forms.names import ROW_ACTION, rearrange
from andon.forms.schema import FormSpec, check_definition
from andon.forms.taxonomies import KIND as TAXONOMY
from andon.forms.validation import validate_submission
from andon.i18n import Message, localize
from andon.identity.models import ROLES
from andon.web import db, definitions
from andon.web.auth import role_required
from andon.web.i18n import locale_code
from andon.web.pages import form_fields, me, timezone

bp = Blueprint("builder", __name__, url_prefix="/forms")
EDITORS = ("admin", "designer")


@bp.get("/")
@role_required(*EDITORS)
def index(errors: Mapping[str, Message] | None = None, values: Any = None,
          status: int = 200) -> Any:
    """List every form with its state, and offer to start a new one."""
    return render_template("builder/index.html", forms=drafts.forms(db.session()),
                           errors=errors or {}, values=values or {}), status


@bp.post("/")
@role_required(*EDITORS)
def create() -> Any:
    """Start a new form as a draft and open it in the builder."""
    session = db.session()
    key = request.form.get("key", "").strip()
    try:
        drafts.create(session, key, definitions.posted_title(), me())
    except InvalidSubmission as invalid:
        session.rollback()
        return index(invalid.errors, request.form, 422)
    session.commit()
    return redirect(url_for(".edit", key=key))


@bp.get("/<key>/")
@role_required(*EDITORS)
def edit(key: str) -> Any:
    """Show the builder on the form's draft, or on its newest version until something changes."""
    return _page(drafts.open_draft(db.session(), key))


@bp.post("/<key>/")
@role_required(*EDITORS)
def change(key: str) -> Any:
    """Apply one builder action to the draft and save it."""
    session = db.session()
    action = request.form.get("action", "")
    draft = drafts.at_revision(session, key, definitions.posted_revision())
    selected = builder.parse_path(request.form.get("path", ""))
    definition = copy.deepcopy(draft.definition)
    try:
        if action == "publish":
            return _publish(draft)
        if action == "discard":
            return _discard(draft)
        if action == "json":
            drafts.apply_json(session, draft, request.form.get("json", ""), me())
            session.commit()
            flash(gettext("The JSON was applied to the draft."))
            return redirect(url_for(".edit", key=key, tab="json"))
        selected = _edit(definition, action, selected)
        drafts.save(session, draft, definition, me())
    except catalog.StaleDraft as stale:
        session.rollback()
        fresh = drafts.open_draft(session, key)
        return _page(fresh, conflict=stale), 409
    except InvalidSubmission as invalid:
        session.rollback()
        return _page(draft, selected, invalid.errors, request.form), 422
    session.commit()
    return redirect(url_for(".edit", key=key, field="/".join(selected) or None))


def _edit(definition: dict[str, Any], action: str, selected: builder.Path) -> builder.Path:
    """Change the definition as the action says; return the field to select after."""
    form = request.form
    if action == "add":
        into = builder.parse_path(form.get("into", ""))
        return builder.add_field(definition, form.get("kind", ""), into,
                                 selected if selected else None)
    if action in ("up", "down"):
        builder.move_field(definition, selected, -1 if action == "up" else 1)
        return selected
    if action == "move":
        builder.move_to(definition, selected, form.get("before") or None)
        return selected
    if action == "remove":
        builder.remove_field(definition, selected)
        return ()
    if action == "update":
        return builder_panel.update_field(definition, selected, form,
                                    lambda: list(definition["schema"]["properties"]))
    if action == "settings":
        builder_panel.set_settings(definition, form, form.getlist("readers"),
                             form.getlist("editors"), ROLES)
        return ()
    raise NotFound(gettext("There is no such builder action."))


def _publish(draft: drafts.Draft) -> Any:
    """Publish the draft, or show what keeps it from being published."""
    session = db.session()
    try:
        version = drafts.publish(session, draft.key, draft.revision, me())
    except InvalidDefinition as invalid:
        session.rollback()
        return _page(draft, publish_problems=invalid.problems), 422
    audit.record(session, "form.published", "definition", version.definition_id, me().id,
                 key=draft.key, number=version.number)
    session.commit()
    flash(gettext("Version %(number)s of the form is published. New records and tasks use it.",
                  number=version.number))
    return redirect(url_for(".versions", key=draft.key))


def _discard(draft: drafts.Draft) -> Any:
    """Throw the draft away; the published version stays as it is."""
    session = db.session()
    if draft.saved is not None and draft.saved.revision != draft.revision:
        raise catalog.StaleDraft(draft.saved)
    catalog.discard_draft(session, drafts.KIND, draft.key)
    session.commit()
    flash(gettext("The draft was discarded."))
    if catalog.versions_of(session, drafts.KIND, draft.key):
        return redirect(url_for(".versions", key=draft.key))
    return redirect(url_for(".index"))


def _page(draft: drafts.Draft, selected: builder.Path = (),
          errors: Mapping[str, Message] | None = None, typed: Any = None,
          conflict: catalog.StaleDraft | None = None,
          publish_problems: list[tuple[str, str]] | None = None) -> str:
    """Render the builder on a draft, with the selected field's panel."""
    session = db.session()
    locale = locale_code()
    if not selected and request.method == "GET":
        selected = builder.parse_path(request.args.get("field", ""))
    definition = draft.definition
    nodes = builder.outline(definition, locale) if _usable(definition) else []
    try:
        node = _find(nodes, selected)
    except NotFound:
        node = None
    panel = builder_panel.panel_values(definition, node.path) if node else \
        builder_panel.settings_values(definition)
    if typed is not None:
        panel = {**panel, **{name: typed.get(name, "") for name in typed}}
        if hasattr(typed, "getlist"):
            panel["readers"], panel["editors"] = typed.getlist("readers"), \
                typed.getlist("editors")
    problems = publish_problems if publish_problems is not None else \
        drafts.problems(session, definition)
    return render_template(
        "builder/edit.html", draft=draft, definition=definition, nodes=nodes, node=node,
        panel=panel, errors=errors or {}, conflict=conflict, problems=problems,
        publishing=publish_problems is not None,
        tab="json" if typed is not None and "json" in typed else request.args.get("tab"),
        source=typed.get("json") if typed is not None and "json" in typed else draft.source,
        palette=builder.PALETTE, groups=builder.GROUPS, roles=ROLES,
        title=localize(definition.get("title"), locale) or draft.key,
        preview=_preview(definition, problems), taxonomies=_published(TAXONOMY),
        record_forms=_published(drafts.KIND),
        versions=catalog.versions_of(session, drafts.KIND, draft.key),
        field_choices=[(n.key, n.label) for n in nodes if not n.container and
                       (node is None or n.key != node.key)])


def _usable(definition: Mapping[str, Any]) -> bool:
    """Tell whether the definition is shaped well enough for the canvas (else: JSON only)."""
    schema = definition.get("schema")
    return isinstance(schema, dict) and isinstance(schema.get("properties", {}), dict) \
        and isinstance(definition.get("layout", {}), dict)


def _find(nodes: list[builder.Node], path: builder.Path) -> builder.Node | None:
    """Return the node at ``path`` on the canvas, None for no selection."""
    if not path:
        return None
    for node in nodes:
        if node.path == path:
            return node
        if node.path == path[:len(node.path)]:
            return _find(node.children, path)
    raise NotFound(gettext("There is no such field."))


def _preview(definition: Mapping[str, Any], problems: list[tuple[str, str]],
             values: Any = None, errors: Mapping[str, Message] | None = None) -> Any:
    """Return the drawn form for the preview, or None while the draft has problems."""
    if problems:
        return None
    spec = check_definition(copy.deepcopy(dict(definition)), "draft")
    return form_fields(spec, values or {}, dict(errors or {}))


def _published(kind: str) -> list[tuple[str, str]]:
    """Return (key, title) of every published taxonomy or form, for the panel's choices."""
    return [(version.definition.key, version.label(locale_code()))
            for version in catalog.published(db.session(), kind)]


@bp.post("/<key>/try")
@role_required(*EDITORS)
def try_out(key: str) -> Any:
    """Check values typed into the preview as a submission would be, saving nothing."""
    session = db.session()
    draft = drafts.open_draft(session, key)
    problems = drafts.problems(session, draft.definition)
    if problems:
        return _page(draft), 422
    if request.form.get(ROW_ACTION):  # a table's add, remove or move button
        values = rearrange(request.form, request.form[ROW_ACTION])
        return render_template("builder/_preview.html", draft=draft,
                               preview=_preview(draft.definition, problems, values))
    spec = check_definition(copy.deepcopy(draft.definition), "draft")
    _, errors = validate_submission(spec, request.form, timezone())
    preview = _preview(draft.definition, problems, request.form, errors)
    return render_template("builder/_preview.html", preview=preview, draft=draft,
                           tried=True, errors=errors), (422 if errors else 200)


@bp.get("/<key>/versions")
@role_required(*EDITORS)
def versions(key: str) -> Any:
    """Show the versions with who published them, and compare two of them."""
    session = db.session()
    found = catalog.versions_of(session, drafts.KIND, key)
    draft = catalog.draft(session, drafts.KIND, key)
    if not found and draft is None:
        raise NotFound(gettext("There is no form named %(key)s.", key=key))
    older, newer, by_number = definitions.pair(found)
    comparison = None
    if older in by_number and newer in by_number and older != newer:
        comparison = compare(drafts.definition_of(by_number[older]),
                             drafts.definition_of(by_number[newer]), locale_code())
    spec = FormSpec(**found[0].content) if found else None
    return render_template("builder/versions.html", key=key, versions=found, draft=draft,
                           older=older, newer=newer, comparison=comparison,
                           title=spec.title_in(locale_code()) if spec else key,
                           published=any(v.status == "published" for v in found),
                           history=audit.history(session, "definition", found[0].definition_id)
                           if found else [])


@bp.get("/<key>/versions/<int:number>.json")
@role_required(*EDITORS)
def export(key: str, number: int) -> Any:
    """Download one version as the file it was published from (``andon load`` takes it)."""
    found = {v.number: v for v in catalog.versions_of(db.session(), drafts.KIND, key)}
    if number not in found:
        raise NotFound(gettext("There is no version %(number)s of this form.", number=number))
    return definitions.download(found[number].source, f"{key}.json", "application/json")


@bp.post("/<key>/retire")
@role_required(*EDITORS)
def retire(key: str) -> Any:
    """Retire the form: no new records or start forms; what exists stays readable."""
    session = db.session()
    version = catalog.retire(session, drafts.KIND, key)
    audit.record(session, "form.retired", "definition", version.definition_id, me().id,
                 key=key, number=version.number)
    session.commit()
    flash(gettext("The form is retired. Its records stay readable."))
    return redirect(url_for(".versions", key=key))


@bp.post("/<key>/reactivate")
@role_required(*EDITORS)
def reactivate(key: str) -> Any:
    """Publish the newest version of a retired form again."""
    session = db.session()
    version = catalog.reactivate(session, drafts.KIND, key)
    audit.record(session, "form.reactivated", "definition", version.definition_id, me().id,
                 key=key, number=version.number)
    session.commit()
    flash(gettext("Version %(number)s of the form is published again.", number=version.number))
    return redirect(url_for(".versions", key=key))
