"""The inbox: the open tasks of the signed-in user and their groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from andon.flows import queries
from andon.web import db
from andon.web.pages import me

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def home() -> Any:
    """Send the user to the inbox."""
    return redirect(url_for("inbox.index"))


@bp.get("/")
def index() -> Any:
    """List the tasks waiting for the user."""
    user = me()
    tasks = list(db.session().scalars(queries.inbox(user)))
    return render_template("inbox/index.html", tasks=tasks, user=user)


@bp.get("/count")
def count() -> Any:
    """Return the inbox badge alone; the navigation polls it."""
    return render_template("inbox/_count.html", count=queries.inbox_count(db.session(), me()))
