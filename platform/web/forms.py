"""Parts of a form redrawn through htmx: one field validated on blur, a section, a table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from andon.forms.names import ROW_ACTION, rearrange
from andon.forms.store import form_spec_at
from andon.forms.validation import validate_submission
from andon.web import db
from andon.web.pages import form_fields, timezone

bp = Blueprint("forms", __name__, url_prefix="/forms")


@bp.post("/<int:version_id>/node")
def node(version_id: int) -> Any:
    """Return one part of a form drawn from the posted values: rows changed or a value checked.

    ``_node`` names the part (empty: the whole form); ``_rows`` is a row action;
    ``_field`` is the field that changed, whose error (if any) the part shows.
    """
    spec = form_spec_at(db.session(), version_id)
    values: Any = request.form
    errors = {}
    if request.form.get(ROW_ACTION):
        values = rearrange(request.form, request.form[ROW_ACTION])
    elif request.form.get("_field"):
        _, found = validate_submission(spec, request.form, timezone())
        errors = {name: message for name, message in found.items()
                  if name == request.form["_field"]}
    fields = form_fields(spec, values, errors, version_id)
    name = request.form.get("_node", "")
    part = fields if name == "" else fields.find(name)
    if part is None:
        return "", 204  # the part is gone (its condition no longer holds): nothing to redraw
    return render_template("forms/_node.html", part=part, fields=fields, whole=name == "")
