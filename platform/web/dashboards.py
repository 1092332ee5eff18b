"""Dashboards: the list, one dashboard whose tiles load one by one, home pages and digests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from andon import catalog
from andon.errors import InvalidSubmission, NotFound
from andon.i18n import LOCALES
from andon.reports import charts, dashboards, parameters, subscriptions
from andon.reports.compiler import Scope, formula, run_report
from andon.reports.dashboard import DashboardSpec
from andon.reports.dashboards import Tile
from andon.reports.datasets import dataset
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.pages import is_fragment_request, me, timezone

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")
GROUP = "g."  # a drill-down link carries group values as g.<key>=<value>


def home() -> Any:
    """Send the person to their home dashboard, or to the inbox."""
    found = dashboards.home_of(db.session(), me())
    if found is None:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("dashboards.show", key=found.key))


@bp.get("/")
def index() -> Any:
    """List the dashboards the person may open, and which one is their home."""
    session, user = db.session(), me()
    return render_template("dashboards/index.html", dashboards=dashboards.readable(session, user),
                           home=dashboards.home_key(session, user))


def _shared(spec: DashboardSpec) -> tuple[list[parameters.Parameter], dict[str, str],
                                          dict[str, str]]:
    """Return the shared parameters, their values, and the errors of values that are not valid."""
    declared = dashboards.shared(spec, request.args, locale=locale_code())
    try:
        parameters.conditions(declared)
    except parameters.InvalidParameters as error:
        return declared, dashboards.values_of(declared), {
            name: gettext(msgid) for name, msgid in error.errors.items()}
    return declared, dashboards.values_of(declared), {}


@bp.get("/<key>")
def show(key: str) -> Any:
    """Show a dashboard: the shared parameters, then each tile, loaded on its own."""
    return _page(dashboards.dashboard(db.session(), key, me()))


def _page(spec: DashboardSpec, typed: dict[str, Any] | None = None,
          wrong: dict[str, str] | None = None) -> Any:
    """Render a dashboard page, with a subscription form's typed values and errors."""
    session, user = db.session(), me()
    declared, values, errors = _shared(spec)
    return render_template(
        "dashboards/show.html", spec=spec, parameters=declared, values=values, errors=errors,
        choices=parameters.choices_of(session, spec.parameters, locale_code()),
        tiles=dashboards.tiles(session, spec, user, values),
        home=dashboards.home_key(session, user),
        subscriptions=subscriptions.subscriptions(session, user, spec.key),
        frequencies=subscriptions.FREQUENCIES, weekdays=subscriptions.WEEKDAYS,
        zones=subscriptions.zones(), locales=LOCALES, typed=typed or {
            "frequency": "weekly", "day": "1", "timezone": timezone(),
            "locale": user.locale or LOCALES[0]}, wrong=wrong or {},
    ), 422 if errors or wrong else 200


@bp.get("/<key>/tiles/<int:index>")
def tile(key: str, index: int) -> Any:
    """Draw one tile: its chart or KPI, its formula and links to its report and rows."""
    session, user = db.session(), me()
    spec = dashboards.dashboard(session, key, user)
    _, values, errors = _shared(spec)
    found = dashboards.tile(session, spec, index, user, values)
    context: dict[str, Any] = {"spec": spec, "tile": found, "errors": errors,
                               "report_url": _report_url(found),
                               "unused": [gettext(parameters.LABELS[t]) for t in found.unused]}
    if found.refusal is None and found.report is not None and not errors:
        context.update(_drawn(found))
    template = "dashboards/_tile.html" if is_fragment_request() else "dashboards/tile.html"
    return render_template(template, **context)


def _report_url(found: Tile) -> str:
    """Return the full report of a tile, with the values the tile got."""
    return url_for("reports.show", key=found.body["report"],
                   **{k: v for k, v in found.values.items() if v})


def _drawn(found: Tile) -> dict[str, Any]:
    """Return what a tile draws: the result, its chart, its formula and drill-down links."""
    assert found.report is not None
    session, report = db.session(), found.report
    result = run_report(session, report, locale_code(), gettext, Scope(me(), found.values))

    def link(group: Any, measure: str) -> str:
        return url_for("reports.drill_page", key=report.key, m=measure, **found.values,
                       **{GROUP + k: v for k, v in group.items()})
    words = {"none": gettext("(none)"), "remaining": gettext("Remaining")}
    return {"result": result, "link": link, "group_values": charts.group_values,
            "chart": charts.chart(result, found.visualisation, link, words),
            "drill_url": url_for("reports.drill_page", key=report.key, **found.values),
            "formula": formula(report, locale_code(), gettext,
                               dataset(report.body["dataset"], locale_code(), session))}


@bp.post("/home")
def choose_home() -> Any:
    """Make a dashboard, or the inbox, the person's home page."""
    key = request.form.get("dashboard") or None
    dashboards.choose_home(db.session(), me(), key)
    db.session().commit()
    flash(gettext("Your home page is now this dashboard.") if key
          else gettext("Your home page is now the inbox."))
    return redirect(url_for("dashboards.show", key=key) if key else url_for("inbox.index"))


@bp.post("/<key>/subscriptions")
def subscribe(key: str) -> Any:
    """Subscribe the person to the dashboard's email digest."""
    session, user = db.session(), me()
    spec = dashboards.dashboard(session, key, user)
    try:
        subscriptions.subscribe(session, user, key, dict(request.form))
    except InvalidSubmission as invalid:
        session.rollback()
        return _page(spec, invalid.values, {k: gettext(v) for k, v in invalid.errors.items()})
    session.commit()
    flash(gettext("You will get this dashboard's digest by email."))
    return redirect(url_for("dashboards.show", key=key))


@bp.post("/<key>/subscriptions/<int:subscription_id>/delete")
def cancel(key: str, subscription_id: int) -> Any:
    """End one of the person's own digest subscriptions."""
    session, user = db.session(), me()
    found = next((s for s in subscriptions.subscriptions(session, user)
                  if s.id == subscription_id), None)
    if found is not None:
        subscriptions.unsubscribe(session, found)
        session.commit()
    flash(gettext("You will no longer get this digest."))
    return redirect(url_for("dashboards.show", key=key))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """Confirm and end a subscription from the link in its email, signed in or not."""
    session = db.session()
    found = subscriptions.by_token(session, token)
    done = False
    if found is not None and request.method == "POST":
        subscriptions.unsubscribe(session, found)
        session.commit()
        found, done = None, True
    title = _title(found.dashboard_key) if found else ""
    return render_template("dashboards/unsubscribe.html", subscription=found, done=done,
                           title=title, frequencies=subscriptions.FREQUENCIES
                           ), 200 if found or done else 404


def _title(key: str) -> str:
    """Return a dashboard's title in the reader's language, or its key once it is gone."""
    try:
        return catalog.current(db.session(), "dashboard", key).label(locale_code())
    except NotFound:
        return key
