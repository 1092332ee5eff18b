"""Small helpers every blueprint uses."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from andon.identity.models import User
from andon.web import db


def is_fragment_request() -> bool:
    """Tell whether htmx asked for a fragment rather than a whole (boosted) page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def me() -> User:
    """Return the signed-in user's row in this request's session."""
    user = db.session().get(User, current_user.id)
    if user is None:
        abort(403)
    return user
