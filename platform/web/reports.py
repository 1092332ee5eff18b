"""Reports: the list a user may open, and one report rendered as a table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext

from andon.reports.compiler import formula, run_report
from andon.reports.store import readable, report
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.pages import me

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("/")
def index() -> Any:
    """List the reports the user may open."""
    return render_template("reports/index.html", reports=readable(db.session(), me()))


@bp.get("/<key>")
def show(key: str) -> Any:
    """Run a report and show it with its formula."""
    session = db.session()
    spec = report(session, key, me())
    result = run_report(session, spec, locale_code(), gettext)
    return render_template("reports/show.html", spec=spec, result=result,
                           formula=formula(spec, locale_code(), gettext))
