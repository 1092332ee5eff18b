"""The flow designer: model a flow in bpmn-js, configure each step in a side panel, publish.

The modeller saves the whole diagram as the flow's draft after each change
(``POST draft``, with the revision it was loaded at); the side panel is drawn
here for the selected element and its changes are written into the same draft
(``POST panel``, with the modeller's current XML). Either answers 409 when
someone else saved the draft since, and nothing is overwritten.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from andon import audit, catalog, clock
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.flows import designer, migration, plain_time, step_panel
from andon.flows.bpmn import MAX_BYTES
from andon.flows.compare import compare
from andon.flows.deadlines import ACTIONS
from andon.flows.elements import NS
from andon.flows.models import FlowInstance
from andon.forms.schema import FormSpec
from andon.i18n import N_, Message
from andon.identity.models import ROLES, Group, OrgUnit, User
from andon.web import db, definitions
from andon.web.auth import role_required
from andon.web.i18n import locale_code, role_name, translate
from andon.web.pages import me

bp = Blueprint("designer", __name__, url_prefix="/flows")
EDITORS = ("admin", "designer")


@bp.get("/")
@role_required(*EDITORS)
def index(errors: dict[str, Message] | None = None, values: Any = None,
          status: int = 200) -> Any:
    """List the flows with their state; start a new one from a template, or import a file."""
    session = db.session()
    definitions = session.scalars(select(catalog.Definition).where(
        catalog.Definition.kind == designer.KIND).order_by(catalog.Definition.key))
    running = dict(session.execute(
        select(catalog.DefinitionVersion.definition_id, func.count())
        .join(FlowInstance, FlowInstance.version_id == catalog.DefinitionVersion.id)
        .where(FlowInstance.status.in_(("running", "suspended")))
        .group_by(catalog.DefinitionVersion.definition_id)).all())
    flows = []
    for definition in definitions:
        versions = sorted(definition.versions, key=lambda v: v.number)
        draft = catalog.draft(session, designer.KIND, definition.key)
        if not versions and draft is None:
            continue
        flows.append({"key": definition.key, "latest": versions[-1] if versions else None,
                      "published": any(v.status == "published" for v in versions),
                      "draft": draft, "running": running.get(definition.id, 0)})
    return render_template("designer/index.html", flows=flows, templates=designer.TEMPLATES,
                           errors=errors or {}, values=values or {}), status


@bp.post("/")
@role_required(*EDITORS)
def create() -> Any:
    """Start a new flow from a template."""
    session = db.session()
    key = request.form.get("key", "").strip()
    try:
        designer.create(session, key, definitions.posted_title(),
                        request.form.get("template", "blank"), me())
    except InvalidSubmission as invalid:
        session.rollback()
        return index(invalid.errors, request.form, 422)
    session.commit()
    return redirect(url_for(".edit", key=key))


@bp.post("/import")
@role_required(*EDITORS)
def import_file() -> Any:
    """Make a draft from an uploaded .bpmn file."""
    session = db.session()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidSubmission({"file": Message(N_("Choose a .bpmn file."))}, {})
        saved = designer.import_file(session, upload.read(MAX_BYTES + 1), upload.filename, me())
    except (InvalidSubmission, catalog.StaleDraft) as refused:
        session.rollback()
        errors = refused.errors if isinstance(refused, InvalidSubmission) else \
            {"file": refused.message}
        return index(errors, request.form, 422)
    session.commit()
    flash(gettext("The file was imported as a draft."))
    return redirect(url_for(".edit", key=saved.definition.key))


@bp.get("/<key>/")
@role_required(*EDITORS)
def edit(key: str) -> Any:
    """Show the designer on the flow's draft, or on its newest version until something changes."""
    session = db.session()
    saved = designer.open_draft(session, key)
    return render_template("designer/edit.html", key=key, draft=saved,
                           problems=designer.problems(session, key, saved.source),
                           versions=catalog.versions_of(session, designer.KIND, key),
                           title=_title(saved.source, key))


def _title(xml: str, key: str) -> str:
    """Return the flow's title in the reader's language, from its draft."""
    try:
        values = step_panel.view(xml, "").values
    except InvalidSubmission:
        return key
    return (values["title_zh"] if locale_code() == "zh-CN" else values["title_en"]) or \
        values["title_en"] or key


@bp.get("/<key>/draft.bpmn")
@role_required(*EDITORS)
def draft_xml(key: str) -> Any:
    """Return the draft's BPMN (the modeller loads it; it downloads as a file too)."""
    saved = designer.open_draft(db.session(), key)
    answer = definitions.download(saved.source, f"{key}.bpmn", "application/xml")
    answer.headers["X-Draft-Revision"] = str(saved.revision)
    return answer


@bp.post("/<key>/draft")
@role_required(*EDITORS)
def save_draft(key: str) -> Any:
    """Save the modeller's diagram; answer the new revision and the problems list."""
    session = db.session()
    try:
        saved = designer.save(session, key, request.form.get("xml", ""),
                              definitions.posted_revision(), me())
    except catalog.StaleDraft as stale:
        session.rollback()
        return jsonify(conflict=translate(stale.message)), 409
    except InvalidSubmission as invalid:
        session.rollback()
        return jsonify(error=" ".join(translate(m) for m in invalid.errors.values())), 422
    session.commit()
    return jsonify(revision=saved.revision, problems=_problems_html(key, saved.source))


def _problems_html(key: str, xml: str) -> str:
    """Render the problems list of a draft."""
    return render_template("designer/_problems.html",
                           problems=designer.problems(db.session(), key, xml))


@bp.get("/<key>/panel")
@role_required(*EDITORS)
def panel(key: str) -> Any:
    """Draw the side panel for one element of the draft (the flow itself when none)."""
    saved = designer.open_draft(db.session(), key)
    element_id = request.args.get("element", "")
    return _panel(key, saved, step_panel.view(saved.source, element_id))


@bp.post("/<key>/panel")
@role_required(*EDITORS)
def apply_panel(key: str) -> Any:
    """Write the panel's inputs into the modeller's diagram and save it as the draft."""
    session = db.session()
    element_id = request.form.get("element", "")
    xml = request.form.get("xml", "")
    try:
        current = step_panel.view(xml, element_id)
        names = _field_names(current.values.get("form", "")) if current.kind in step_panel.HUMAN \
            else _all_fields(xml)
        changed = step_panel.apply(xml, element_id, request.form, names, clock.now().date())
        saved = designer.save(session, key, changed, definitions.posted_revision(), me())
    except catalog.StaleDraft as stale:
        session.rollback()
        return render_template("designer/_conflict.html", message=stale.message), 409
    except InvalidSubmission as invalid:
        session.rollback()
        saved = designer.open_draft(session, key)
        shown = step_panel.view(xml, element_id)
        shown.values.update({k: str(v) for k, v in request.form.items()})
        return _panel(key, saved, shown, invalid.errors), 422
    session.commit()
    response = _panel(key, saved, step_panel.view(saved.source, element_id), saved_now=True,
                      problems=designer.problems(session, key, saved.source))
    return response, 200, {"HX-Trigger": json.dumps({"andon:panel-saved": {
        "revision": saved.revision, "element": element_id}})}


def _panel(key: str, saved: catalog.DefinitionDraft, shown: step_panel.ElementView,
           errors: dict[str, Message] | None = None, saved_now: bool = False,
           **extra: Any) -> str:
    """Render the side panel with the choices its inputs offer."""
    form_key = shown.values.get("form", "")
    fields = _fields(form_key) if shown.kind in step_panel.HUMAN else []
    all_fields = _all_fields(saved.source)
    return render_template(
        "designer/_panel.html", key=key, draft=saved, element=shown, errors=errors or {},
        saved_now=saved_now, forms=_published("form"), calendars=_published("calendar"),
        owners=_owner_choices(all_fields), fields=fields, all_fields=all_fields,
        date_fields=[(name, label) for name, label, kind in all_fields if kind == "date"],
        actions=ACTIONS, rows=range(step_panel.ESCALATION_ROWS),
        cycle=_cycle(shown.values),
        weekdays=[(str(number), gettext(name)) for number, name in enumerate(plain_time.WEEKDAYS)],
        escalation=shown.escalation + [("", "", "")] * (
            step_panel.ESCALATION_ROWS - len(shown.escalation)),
        permissions=_permissions(shown.values), **extra)


def _cycle(values: dict[str, str]) -> str:
    """Return a timer's schedule in plain words in the reader's language ('' if none)."""
    words = plain_time.cycle_words(values)
    if words is None:
        return ""
    msgid, params = words
    return gettext(msgid, **{k: gettext(v) if k == "weekday" else v for k, v in params.items()})


def _published(kind: str) -> list[tuple[str, str]]:
    """Return (key, title) of the published definitions of a kind."""
    return [(v.definition.key, v.label(locale_code()))
            for v in catalog.published(db.session(), kind)]


def _spec(form_key: str) -> FormSpec | None:
    """Return the published form of a key, None if there is none."""
    try:
        return FormSpec(**catalog.current(db.session(), "form", form_key).content)
    except NotFound:
        return None


def _fields(form_key: str) -> list[tuple[str, str, str]]:
    """Return (name, label, kind) of a form's top-level fields; kind is date, user or other."""
    spec = _spec(form_key) if form_key else None
    if spec is None:
        return []
    found = []
    for name in spec.order():
        prop = spec.properties.get(name, {})
        layout = spec.field_layout(name)
        kind = "date" if prop.get("format") in ("date", "date-time") else \
            "user" if layout.get("widget") == "user" else "other"
        found.append((name, spec.label(name, locale_code()), kind))
    return found


def _field_names(form_key: str) -> list[str]:
    """Return the names of a form's top-level fields."""
    return [name for name, _, _ in _fields(form_key)]


def _all_fields(xml: str) -> list[tuple[str, str, str]]:
    """Return the fields of every form the flow's steps use (what conditions may read)."""
    try:
        root = designer.parse(xml, "draft.bpmn")
    except InvalidSubmission:
        return []
    seen: dict[str, tuple[str, str, str]] = {}
    for prop in root.iterfind(".//spiff:property[@name='form']", NS):
        for found in _fields(prop.get("value", "")):
            seen.setdefault(found[0], found)
    return list(seen.values())


def _owner_choices(fields: list[tuple[str, str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the owner rules the panel offers, grouped: people, groups, roles, units, fields."""
    session = db.session()
    return [
        (gettext("Relative to the flow"), [
            ("starter", gettext("The person who started it")),
            ("manager:starter", gettext("The starter's manager")),
            ("manager:assignee", gettext("The previous step's owner's manager")),
            ("lane", gettext("The group named like the step's lane"))]),
        (gettext("A person"), [(f"user:{u.username}", u.display_name)
                               for u in session.scalars(User.listed()) if u.active]),
        (gettext("A group (members claim)"), [(f"group:{g.key}", g.name) for g in
                                              session.scalars(select(Group).order_by(Group.key))]),
        (gettext("An org unit (members claim)"), [
            (f"orgunit:{u.key}", u.name)
            for u in session.scalars(select(OrgUnit).order_by(OrgUnit.key))]),
        (gettext("A role"), [(f"role:{role}", role_name(role)) for role in ROLES]),
        (gettext("A person field of the form"), [(f"field:{name}", label)
                                                  for name, label, kind in fields
                                                  if kind == "user"]),
    ]


def _permissions(values: dict[str, str]) -> dict[str, str]:
    """Return each field's permission on this step: editable, readonly or hidden."""
    found: dict[str, str] = {}
    for name in ("readonly", "hidden"):
        for field_name in values.get(name, "").split(","):
            if field_name.strip():
                found[field_name.strip()] = name
    return found


@bp.post("/<key>/condition")
@role_required(*EDITORS)
def check_condition(key: str) -> Any:
    """Check a gateway condition as it is typed; answer a one-line verdict."""
    names = [name for name, _, _ in _all_fields(request.form.get("xml", "") or
                                                 designer.open_draft(db.session(), key).source)]
    problem = step_panel.check_condition(request.form.get("condition", ""), names)
    return render_template("designer/_condition.html", problem=problem,
                           empty=not request.form.get("condition", "").strip(), names=names)


@bp.post("/<key>/publish")
@role_required(*EDITORS)
def publish(key: str) -> Any:
    """Review before publishing: what changes, and the running instances that could move."""
    session = db.session()
    saved = designer.open_draft(session, key)
    revision = definitions.posted_revision()
    if saved.saved is None:
        flash(gettext("Nothing changed since the published version."))
        return redirect(url_for(".edit", key=key))
    if saved.revision != revision:
        flash(translate(catalog.StaleDraft(saved.saved).message), "error")
        return redirect(url_for(".edit", key=key))
    if any(f.severity == "error" for f in designer.problems(session, key, saved.source)):
        flash(gettext("The flow was not published: fix the problems listed first."), "error")
        return redirect(url_for(".edit", key=key))
    versions = catalog.versions_of(session, designer.KIND, key)
    current = versions[0] if versions else None
    return render_template(
        "designer/publish.html", key=key, revision=revision, current=current,
        title=_title(saved.source, key),
        comparison=compare(current.source.encode(), saved.source.encode(), locale_code())
        if current else None,
        waiting=migration.impact(session, key, saved.source.encode()))


@bp.post("/<key>/publish/confirm")
@role_required(*EDITORS)
def confirm_publish(key: str) -> Any:
    """Publish the draft, then move the instances of the chosen groups to the new version."""
    session = db.session()
    try:
        version, changed = designer.publish(session, key, definitions.posted_revision(),
                                            me())
    except InvalidDefinition:
        session.rollback()
        flash(gettext("The flow was not published: fix the problems listed first."), "error")
        return redirect(url_for(".edit", key=key))
    except catalog.StaleDraft as stale:
        session.rollback()
        flash(translate(stale.message), "error")
        return redirect(url_for(".edit", key=key))
    audit.record(session, "flow.published", "definition", version.definition_id, me().id,
                 key=key, number=version.number)
    session.commit()
    flash(gettext("Version %(number)s of the flow is published. New instances use it; "
                  "running ones stay on their version.", number=version.number)
          if changed else gettext("Nothing changed since the published version."))
    moved, refused = _move(key, version, request.form.getlist("move"))
    if moved:
        flash(ngettext("%(num)d instance moved to the new version.",
                       "%(num)d instances moved to the new version.", moved))
    for instance_id, reason in refused:
        flash(gettext("Instance %(id)s stays on its version: %(reason)s", id=instance_id,
                      reason=translate(reason)), "error")
    return redirect(url_for(".versions", key=key))


def _move(key: str, version: catalog.DefinitionVersion,
          groups: list[str]) -> tuple[int, list[tuple[int, Message]]]:
    """Migrate each chosen group's instances, one transaction each; return moved and refused."""
    session = db.session()
    moved, refused = 0, []
    for group in groups:
        number, _, step_id = group.partition(":")
        if not number.isdigit():
            continue
        for instance in migration.waiting_at(session, key, int(number), step_id):
            try:
                migration.migrate(session, instance, version, me())
            except migration.MigrationRefused as refusal:
                session.rollback()
                refused.append((instance.id, refusal.message))
                continue
            session.commit()
            moved += 1
    return moved, refused


@bp.post("/<key>/discard")
@role_required(*EDITORS)
def discard(key: str) -> Any:
    """Throw the draft away."""
    session = db.session()
    catalog.discard_draft(session, designer.KIND, key)
    session.commit()
    flash(gettext("The draft was discarded."))
    return redirect(url_for(".index"))


@bp.get("/<key>/versions")
@role_required(*EDITORS)
def versions(key: str) -> Any:
    """Show the versions: who published what, when; and download each as a .bpmn file."""
    session = db.session()
    found = catalog.versions_of(session, designer.KIND, key)
    if not found:
        raise NotFound(gettext("There is no version of this flow yet."))
    older, newer, by_number = definitions.pair(found)
    comparison = compare(by_number[older].source.encode(), by_number[newer].source.encode(),
                         locale_code()) \
        if older in by_number and newer in by_number and older != newer else None
    return render_template("designer/versions.html", key=key, versions=found,
                           older=older, newer=newer, comparison=comparison,
                           title=found[0].label(locale_code()),
                           draft=catalog.draft(session, designer.KIND, key),
                           history=audit.history(session, "definition",
                                                 found[0].definition_id))


@bp.post("/<key>/versions/<int:number>/edit")
@role_required(*EDITORS)
def edit_version(key: str, number: int) -> Any:
    """Open a version in the designer as the new draft (the draft there was is replaced)."""
    session = db.session()
    designer.edit_version(session, key, number, me())
    session.commit()
    flash(gettext("Version %(number)s is now the draft.", number=number))
    return redirect(url_for(".edit", key=key))


@bp.get("/<key>/versions/<int:number>.bpmn")
@role_required(*EDITORS)
def export(key: str, number: int) -> Any:
    """Download one version as the .bpmn file it was published from."""
    found = {v.number: v for v in catalog.versions_of(db.session(), designer.KIND, key)}
    if number not in found:
        raise NotFound(gettext("There is no version %(number)s of this flow.", number=number))
    return definitions.download(found[number].source, f"{key}-v{number}.bpmn", "application/xml")
