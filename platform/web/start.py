"""Start a flow by filling in the form of its first step."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from andon import catalog
from andon.flows import runtime
from andon.forms.fields import build_fields
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.pages import me, submit

bp = Blueprint("start", __name__, url_prefix="/start")


@bp.get("/")
def index() -> Any:
    """List the flows the user can start."""
    flows = catalog.published(db.session(), "flow")
    return render_template("start/index.html", flows=flows)


@bp.route("/<key>", methods=["GET", "POST"])
def form(key: str) -> Any:
    """Show the start form, or start the flow with what was submitted."""
    session = db.session()
    flow = catalog.current(session, "flow", key)
    spec = runtime.start_form(session, key)
    done = submit(lambda: runtime.start_instance(session, key, me(), request.form))
    if done.result is not None:
        flash(_("Submitted. It is now with the next step."))
        return redirect(url_for("instances.show", instance_id=done.result.id))
    fields = build_fields(spec, locale_code(), done.values, done.errors)
    return render_template("start/form.html", flow=flow, fields=fields,
                           errors=done.errors), (422 if done.errors else 200)
