"""Reports: the list a user may open, one report with its chart, table and formula, the
drill-down behind a number, and exports of both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext

from andon import temporal
from andon.forms import exports
from andon.i18n import localize
from andon.reports import charts, parameters
from andon.reports.compiler import Result, Scope, formula, level_labels, run_report
from andon.reports.datasets import dataset
from andon.reports.definition import ReportSpec
from andon.reports.drill import Drill, drill
from andon.reports.store import readable, report
from andon.web import db
from andon.web.excel import XLSX_TYPE, _download
from andon.web.i18n import locale_code
from andon.web.pages import me

bp = Blueprint("reports", __name__, url_prefix="/reports")
GROUP = "g."  # a drill-down link carries group values as g.<key>=<value>


@bp.get("/")
def index() -> Any:
    """List the reports the user may open."""
    return render_template("reports/index.html", reports=readable(db.session(), me()))


def _values(spec: ReportSpec) -> dict[str, str]:
    """Return the reader's values of the report's declared parameters from the query string."""
    names = {name for p in parameters.declared(spec, {}) for name in p.values}
    return {k: v for k, v in request.args.items() if k in names}


def _run(spec: ReportSpec) -> tuple[Result | None, dict[str, Any]]:
    """Run a report for the signed-in reader; on bad parameters return the errors instead."""
    try:
        return run_report(db.session(), spec, locale_code(), gettext,
                          Scope(me(), _values(spec))), {}
    except parameters.InvalidParameters as error:
        return None, {name: gettext(msgid) for name, msgid in error.errors.items()}


def _drill_link(key: str, values: Mapping[str, str]) -> Any:
    """Return a function from a row's group values to its drill-down page."""
    def link(group: Mapping[str, str], measure: str) -> str:
        return url_for("reports.drill_page", key=key, m=measure, **values,
                       **{GROUP + k: v for k, v in group.items()})
    return link


@bp.get("/<key>")
def show(key: str) -> Any:
    """Run a report and show its chart, its table and its formula."""
    session = db.session()
    spec = report(session, key, me())
    result, errors = _run(spec)
    values = _values(spec)
    link = _drill_link(key, values)
    words = {"none": gettext("(none)"), "remaining": gettext("Remaining")}
    shown = charts.chart(result, spec.body["visualisation"], link, words) if result else None
    declared = parameters.declared(spec, values, locale=locale_code())
    return render_template(
        "reports/show.html", spec=spec, result=result, chart=shown, errors=errors,
        parameters=declared, choices=parameters.choices(session, spec, locale_code()),
        link=link, group_values=charts.group_values, values=values,
        formula=formula(spec, locale_code(), gettext,
                        dataset(spec.body["dataset"], locale_code(), session))
    ), 422 if errors else 200


def _drilled(key: str) -> tuple[ReportSpec, Drill]:
    """Return the report and the rows behind the group values in the query string."""
    session = db.session()
    spec = report(session, key, me())
    group = {k[len(GROUP):]: v for k, v in request.args.items() if k.startswith(GROUP)}
    found = drill(session, spec, locale_code(), gettext, group, request.args.get("m"),
                  Scope(me(), _values(spec)), limit=exports.MAX_EXPORT_ROWS
                  if request.endpoint == "reports.drill_export" else 500)
    return spec, found


@bp.get("/<key>/drill")
def drill_page(key: str) -> Any:
    """List the tasks, instances or records behind one number, each linking to its page."""
    spec, found = _drilled(key)
    group = {k[len(GROUP):]: v for k, v in request.args.items() if k.startswith(GROUP)}
    return render_template("reports/drill.html", spec=spec, drill=found,
                           group=_group_labels(spec, group),
                           page_of=page_of, args=_drill_args(spec), back=_values(spec))


def _group_labels(spec: ReportSpec, group: Mapping[str, str]) -> dict[str, str]:
    """Return a drill-down's group values as readers see them: taxonomy codes as paths."""
    source = dataset(spec.body["dataset"], locale_code(), db.session())
    shown = dict(group)
    for key, name, unit in spec.groups:
        labels = level_labels(source, name, unit) if source is not None else None
        if labels and group.get(key):
            shown[key] = labels.get(group[key], group[key])
    return shown


def _drill_args(spec: ReportSpec) -> dict[str, str]:
    """Return the query a drill-down's export links carry: values, groups and measure."""
    kept = {k: v for k, v in request.args.items() if k.startswith(GROUP) or k == "m"}
    return {**_values(spec), **kept}


def page_of(row: Any) -> str:
    """Return the page of one drill-down row."""
    if row.link == "task":
        return url_for("tasks.show", task_id=row.id)
    if row.link == "instance":
        return url_for("instances.show", instance_id=row.id)
    return url_for("records.show", key=row.form_key, record_id=row.id)


@bp.get("/<key>/export.<kind>")
def export(key: str, kind: str) -> Any:
    """Send a report's table, for the reader and parameters, as .xlsx or .csv."""
    spec = report(db.session(), key, me())
    result, errors = _run(spec)
    if result is None:
        return show(key)
    rows = [[_cell(column.type, value) for column, value in zip(result.columns, row,
                                                                  strict=True)]
            for row in result.rows]
    return _send(spec, kind, [c.label for c in result.columns], rows, "")


@bp.get("/<key>/drill.<kind>")
def drill_export(key: str, kind: str) -> Any:
    """Send the rows behind one number as .xlsx or .csv."""
    spec, found = _drilled(key)
    headers = [gettext("Id"), *[c.label for c in found.columns]]
    rows = [[row.id, *[_cell(c.type, v) for c, v in zip(found.columns, row.cells,
                                                        strict=True)]] for row in found.rows]
    return _send(spec, kind, headers, rows, "-" + gettext("rows"))


def _cell(kind: str, value: Any) -> Any:
    """Return a value for a sheet: instants in the reader's zone without a zone, rates as is."""
    if kind == "datetime" and value is not None and hasattr(value, "astimezone"):
        return value.astimezone(temporal.current_zone()).replace(tzinfo=None)
    return value


def _send(spec: ReportSpec, kind: str, headers: list[str], rows: list[list[Any]],
          suffix: str) -> Any:
    """Return the sheet as a download named after the report and today."""
    name = f"{localize(spec.title, locale_code())}{suffix}-{temporal.today().isoformat()}"
    if kind == "xlsx":
        return _download(exports.write_xlsx(headers, rows), XLSX_TYPE, name + ".xlsx")
    if kind != "csv":
        abort(404)
    return _download("".join(exports.write_csv(headers, rows, gettext)).encode("utf-8"),
                     "text/csv; charset=utf-8", name + ".csv")
