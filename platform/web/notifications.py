"""The signed-in person's notifications: reminders, escalations, and their unread count."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from andon.notifications.center import mark_read, message_of, recent, unread_count
from andon.notifications.delivery import link_of
from andon.web import db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
def index() -> Any:
    """List the person's notifications, newest first."""
    notes = list(db.session().scalars(recent(current_user.id)))
    return render_template("notifications/index.html", link_of=link_of,
                           notes=[(note, message_of(note)) for note in notes])


@bp.get("/count")
def count() -> Any:
    """Return the unread badge alone; the navigation polls it."""
    return render_template("inbox/_count.html", count=unread_count(db.session(), current_user.id))


@bp.post("/read")
def read() -> Any:
    """Mark every notification read."""
    mark_read(db.session(), current_user.id)
    db.session().commit()
    return redirect(url_for("notifications.index"))
