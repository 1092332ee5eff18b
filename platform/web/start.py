"""Start a flow by filling in the form of its first step."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from andon import catalog
from andon.flows import runtime
from andon.web import db
from andon.web.pages import form_fields, me, submit
from andon.web.uploads import allow_on, receive, refuse

bp = Blueprint("start", __name__, url_prefix="/start")
allow_on(bp, "start.form")


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
    form, refused = receive(spec, request.form, me())

    def start() -> Any:
        """Start the flow, unless a file chosen in the start form was refused."""
        refuse(spec, form, refused)
        return runtime.start_instance(session, key, me(), form)
    done = submit(start)
    if done.result is not None:
        flash(_("Submitted. It is now with the next step."))
        return redirect(url_for("instances.show", instance_id=done.result.id))
    content = flow.content
    fields = form_fields(spec, done.values, done.errors,
                         content["forms"][content["start_form"]])
    return render_template("start/form.html", flow=flow, fields=fields,
                           errors=done.errors), (422 if done.errors else 200)
