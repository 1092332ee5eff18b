"""Small helpers every blueprint uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from andon.errors import AndonError, InvalidSubmission
from andon.forms.fields import Fields, build_fields
from andon.forms.names import ROW_ACTION, rearrange
from andon.forms.schema import FormSpec
from andon.forms.widget_fields import complete
from andon.i18n import Message
from andon.identity.models import User
from andon.web import db, uploads
from andon.web.i18n import locale_code, translate


def is_fragment_request() -> bool:
    """Tell whether htmx asked for a fragment rather than a whole (boosted) page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def me() -> User:
    """Return the signed-in user's row in this request's session."""
    user = db.session().get(User, current_user.id)
    if user is None:
        abort(403)
    return user


@dataclass
class Submission:
    """What came of a submitted form: the action's result, or the input and its errors."""

    result: Any = None
    values: Any = field(default_factory=dict)
    errors: dict[str, Message] = field(default_factory=dict)


def submit(action: Callable[[], Any]) -> Submission:
    """Run a form's action and commit; on invalid input roll back and keep what was typed.

    A post from a row button (add, remove, move a row of a table) runs nothing: the
    page comes back with the rows changed and everything typed kept.
    """
    if request.method != "POST":
        return Submission()
    if request.form.get(ROW_ACTION):
        return Submission(values=rearrange(request.form, request.form[ROW_ACTION]))
    try:
        result = action()
    except InvalidSubmission as invalid:
        db.session().rollback()
        return Submission(values=invalid.values, errors=invalid.errors)
    db.session().commit()
    return Submission(result=result)


def act(action: Callable[[], Any], done: str, back: str) -> Any:
    """Run an action and commit, flashing what happened; refusals are flashed, not pages."""
    try:
        action()
    except AndonError as refused:
        db.session().rollback()
        flash(translate(refused.message), "error")
    else:
        db.session().commit()
        flash(done)
    return redirect(back)


def timezone() -> str:
    """Return the time zone in which the reader types and reads dates and times."""
    return str(current_app.config["ANDON"].timezone)


def form_fields(spec: FormSpec, values: Any, errors: dict[str, Message],
                version_id: int | None = None) -> Fields:
    """Return a form's view-models for this reader; with a version, htmx redraws parts of it."""
    fields = complete(db.session(), spec,
                      build_fields(spec, locale_code(), values or {}, errors, timezone()),
                      locale_code(), me())
    if version_id is not None:
        fields.node_url = url_for("forms.node", version_id=version_id)
    return uploads.describe(fields)
