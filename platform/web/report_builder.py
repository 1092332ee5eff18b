"""The report builder: administrators and designers make and change reports in the browser.

Like the form builder, every choice posts to the builder page with the draft
revision it was made on and is saved at once (``andon.reports.drafts``); htmx
swaps the workspace, whose live preview runs the draft through the real engine
on the signed-in person's rows. A refused choice says why beside its input and
keeps what was typed; a choice on a draft someone else saved since shows their
version (409) and applies nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from andon import audit, catalog
from andon.errors import AndonError, InvalidDefinition, InvalidSubmission, NotFound
from andon.i18n import N_, Message, localize
from andon.identity.models import ROLES
from andon.reports import builder, charts, drafts, parameters
from andon.reports.compiler import Scope, formula, run_report
from andon.reports.datasets import DATASETS, RECORDS, Dataset, dataset
from andon.reports.definition import (
    AGGREGATES,
    CHARTS,
    LEVELS,
    PARAMETERS,
    RANGES,
    TYPED_OPERATORS,
    ReportSpec,
    check_definition,
    group_of,
)
from andon.reports.formula import (
    BUCKETS,
    OPERATOR_TEXT,
    condition_text,
    grouping_text,
    measure_text,
)
from andon.reports.sqlfuncs import UNITS
from andon.web import db, definitions
from andon.web.auth import role_required
from andon.web.i18n import locale_code, translate
from andon.web.pages import me

bp = Blueprint("report_builder", __name__, url_prefix="/reports")
EDITORS = ("admin", "designer")
NAMES = {
    "field_types": {"string": N_("text"), "number": N_("number"), "boolean": N_("yes/no"),
                    "datetime": N_("date and time"), "date": N_("date"),
                    "hours": N_("duration in hours")},
    "aggregate_names": {"count": N_("Count"), "count_distinct": N_("Count distinct"),
                        "sum": N_("Sum"), "avg": N_("Average"), "min": N_("Minimum"),
                        "max": N_("Maximum"), "rate": N_("Rate"),
                        "percentile": N_("Percentile")},
    "kind_names": {"date_range": N_("Period"), "flow": N_("Flow"), "project": N_("Project"),
                   "org_unit": N_("Org unit")},
    "range_names": {"this_month": N_("This month"), "this_quarter": N_("This quarter"),
                    "this_year": N_("This year"), "last_30_days": N_("Last 30 days"),
                    "last_90_days": N_("Last 90 days")},
    "chart_names": {"table": N_("Table"), "kpi": N_("KPI card"), "bar": N_("Bar chart"),
                    "stacked_bar": N_("Stacked bars"), "line": N_("Line chart"),
                    "pie": N_("Pie chart"), "pareto": N_("Pareto chart"),
                    "burndown": N_("Burndown")},
}


@bp.get("/")
@role_required(*EDITORS)
def index(errors: Mapping[str, Message] | None = None, values: Any = None,
          status: int = 200) -> Any:
    """List every report with its state and draft, and offer to start a new one."""
    return render_template("report_builder/index.html", reports=drafts.reports(db.session()),
                           errors=errors or {}, values=values or {}), status


@bp.post("/")
@role_required(*EDITORS)
def create() -> Any:
    """Start a new report as a draft and open it in the builder."""
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
    """Show the builder on the report's draft, or on its newest version."""
    return _page(drafts.open_draft(db.session(), key))


@bp.post("/<key>/")
@role_required(*EDITORS)
def change(key: str) -> Any:
    """Apply one builder choice to the draft and save it."""
    session = db.session()
    action = request.form.get("action", "")
    draft = drafts.at_revision(session, key, definitions.posted_revision())
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
        posted = {**request.form.to_dict(),
                  "vis_measures": ",".join(request.form.getlist("vis_measures"))}
        changed = builder.apply(session, draft.definition, action, posted,
                                [r for r in request.form.getlist("roles") if r in ROLES])
        drafts.save(session, draft, changed, me())
    except catalog.StaleDraft as stale:
        session.rollback()
        return _page(drafts.open_draft(session, key), conflict=stale), 409
    except InvalidSubmission as invalid:
        session.rollback()
        return _page(draft, invalid.errors, request.form), 422
    session.commit()
    return redirect(url_for(".edit", key=key, **_kept_values()))


def _kept_values() -> dict[str, str]:
    """Return the preview's parameter values posted with a choice, to keep them."""
    return {k[len("p."):]: v for k, v in request.form.items() if k.startswith("p.") and v}


def _publish(draft: drafts.Draft) -> Any:
    """Publish the draft, or show what keeps it from being published."""
    session = db.session()
    try:
        version = drafts.publish(session, draft.key, draft.revision, me())
    except InvalidDefinition as invalid:
        session.rollback()
        problems = [(w.split(": ", 1)[-1], t) for w, t in invalid.problems]
        return _page(draft, publish_problems=problems), 422
    audit.record(session, "report.published", "definition", version.definition_id, me().id,
                 key=draft.key, number=version.number)
    session.commit()
    flash(gettext("Version %(number)s of the report is published.", number=version.number))
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


def _page(draft: drafts.Draft, errors: Mapping[str, Message] | None = None,
          typed: Any = None, conflict: catalog.StaleDraft | None = None,
          publish_problems: list[tuple[str, str]] | None = None) -> str:
    """Render the builder on a draft: its choices, problems, JSON and live preview."""
    session = db.session()
    locale = locale_code()
    definition = draft.definition
    problems = publish_problems if publish_problems is not None else \
        drafts.problems(session, definition)
    source = dataset(str(definition.get("dataset", "")), locale, session)
    typed_json = typed is not None and "json" in typed
    return render_template(
        "report_builder/edit.html", draft=draft, definition=definition, source=source,
        errors=errors or {}, typed=typed or {}, conflict=conflict, problems=problems,
        publishing=publish_problems is not None,
        tab="json" if typed_json else request.args.get("tab"),
        json_source=typed.get("json") if typed_json else draft.source,
        title=localize(definition.get("title"), locale) or draft.key,
        datasets=_datasets(), type_ops=_type_ops(), aggregates=AGGREGATES,
        said=_said(definition, source), group_values=charts.group_values, **NAMES,
        charts=CHARTS, units=UNITS, buckets=BUCKETS, levels=LEVELS, kinds=PARAMETERS,
        ranges=RANGES, roles=ROLES, operator_text=OPERATOR_TEXT,
        result_keys=_result_keys(definition),
        preview=None if problems else _preview(definition),
        versions=catalog.versions_of(session, drafts.KIND, draft.key))


def _datasets() -> list[tuple[str, str]]:
    """Return (key, name) of every dataset a report may read, forms' records included."""
    found = [(key, gettext(factory("en", None).label)) for key, factory in DATASETS.items()]
    return found + [(RECORDS + version.definition.key, version.label(locale_code()))
                    for version in catalog.published(db.session(), "form")]


def _type_ops() -> dict[str, list[str]]:
    """Return, per operator, the field types it applies to (the page offers only those)."""
    return {op: sorted(kind for kind, ops in TYPED_OPERATORS.items() if op in ops)
            for op in OPERATOR_TEXT}


def _said(definition: Mapping[str, Any], source: Dataset | None) -> dict[str, list[str]]:
    """Return the draft's filters, groupings and measures in words (as JSON where broken)."""
    locale = locale_code()
    parts: dict[str, list[str]] = {"filters": [], "groups": [], "measures": []}
    for part, key, say in (
            ("filters", "filters", lambda item: condition_text(source, item, locale, gettext)),
            ("groups", "group_by", lambda item: grouping_text(source, *group_of(item)[1:],
                                                               gettext)),
            ("measures", "measures", lambda item: " = ".join((
                localize(item["label"], locale), measure_text(source, item, locale, gettext))))):
        items = definition.get(key)
        for item in items if isinstance(items, list) else []:
            try:
                parts[part].append(say(item) if source is not None else json.dumps(item))
            except (KeyError, TypeError, AttributeError, ValueError):
                parts[part].append(json.dumps(item, ensure_ascii=False))
    return parts


def _result_keys(definition: Mapping[str, Any]) -> list[str]:
    """Return the keys a report's rows have: its groupings' and measures'."""
    keys = []
    for item in definition.get("group_by", []) if isinstance(definition.get("group_by"),
                                                              list) else []:
        try:
            keys.append(group_of(item)[0])
        except (KeyError, TypeError):
            continue
    return keys + [m["key"] for m in definition.get("measures", [])
                   if isinstance(m, dict) and "key" in m]


def _preview(definition: Mapping[str, Any]) -> dict[str, Any] | None:
    """Run the draft through the real engine for the signed-in reader: chart, table, formula."""
    session = db.session()
    locale = locale_code()
    spec = check_definition(copy.deepcopy(dict(definition)), "draft", session)
    values = {k: v for k, v in request.args.items()
              if k in {n for p in parameters.declared(spec, {}) for n in p.values}}
    found: dict[str, Any] = {"spec": spec, "values": values, "errors": {},
                             "parameters": parameters.declared(spec, values, locale=locale),
                             "choices": parameters.choices(session, spec, locale),
                             "formula": formula(spec, locale, gettext,
                                                dataset(spec.body["dataset"], locale, session))}
    try:
        result = run_report(session, spec, locale, gettext, Scope(me(), values))
    except parameters.InvalidParameters as error:
        found["errors"] = {name: gettext(msgid) for name, msgid in error.errors.items()}
        return {**found, "result": None, "chart": None}
    except AndonError as error:  # e.g. a grouped taxonomy that is not published
        return {**found, "result": None, "chart": None, "failed": translate(error.message)}
    words = {"none": gettext("(none)"), "remaining": gettext("Remaining")}
    return {**found, "result": result, "link": _no_link,
            "chart": charts.chart(result, spec.body["visualisation"], _no_link, words)}


def _no_link(group: Mapping[str, str], measure: str) -> str:
    """Return no drill-down link: a draft has none until it is published."""
    return ""


@bp.get("/<key>/versions")
@role_required(*EDITORS)
def versions(key: str) -> Any:
    """Show the versions with who published them, and compare two of them."""
    session = db.session()
    found = catalog.versions_of(session, drafts.KIND, key)
    draft = catalog.draft(session, drafts.KIND, key)
    if not found and draft is None:
        raise NotFound(gettext("There is no report named %(key)s.", key=key))
    older, newer, by_number = definitions.pair(found)
    comparison = None
    if older in by_number and newer in by_number and older != newer:
        comparison = drafts.compare(drafts.definition_of(by_number[older]),
                                    drafts.definition_of(by_number[newer]))
    return render_template("report_builder/versions.html", key=key, versions=found,
                           draft=draft, older=older, newer=newer, comparison=comparison,
                           title=found[0].label(locale_code()) if found else key,
                           history=audit.history(session, "definition", found[0].definition_id)
                           if found else [])


@bp.get("/<key>/versions/<int:number>.json")
@role_required(*EDITORS)
def export(key: str, number: int) -> Any:
    """Download one version as the file it was published from (``andon load`` takes it)."""
    found = {v.number: v for v in catalog.versions_of(db.session(), drafts.KIND, key)}
    if number not in found:
        raise NotFound(gettext("There is no version %(number)s of this report.", number=number))
    return definitions.download(found[number].source, f"{key}.json", "application/json")


def spec_title(spec: ReportSpec) -> str:
    """Return a report's title in the reader's language."""
    return localize(spec.title, locale_code())
