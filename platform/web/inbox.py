"""The inbox: the open tasks of the signed-in user and their groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from andon.database import utcnow
from andon.flows import deadlines, queries
from andon.flows.models import Task
from andon.i18n import N_
from andon.web import db
from andon.web.pages import me

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def home() -> Any:
    """Send the user to the inbox."""
    return redirect(url_for("inbox.index"))


VIEWS = {"overdue": N_("Overdue"), "due_soon": N_("Due within a day"), "mine": N_("Mine"),
         "to_claim": N_("To claim")}


@bp.get("/")
def index() -> Any:
    """List the tasks waiting for the user, soonest due first, with their deadlines."""
    session, user, now = db.session(), me(), utcnow()
    units = queries.managed_units(session, user)
    views = {**VIEWS, "team_overdue": N_("My team's overdue")} if units else VIEWS
    view = request.args.get("view") if request.args.get("view") in views else None
    query = (queries.team_overdue(units, now) if view == "team_overdue"
             else queries.inbox(user, view, now))
    tasks = list(session.scalars(query))
    return render_template("inbox/index.html", tasks=tasks, view=view, views=views,
                           deadline={task.id: deadline_of(session, task, now) for task in tasks})


def deadline_of(session: Session, task: Task, now: datetime) -> dict[str, Any] | None:
    """Return a task's deadline state and the working time left (negative when late)."""
    if task.due_at is None:
        return None
    calendar = deadlines.calendar_of(session, task.instance.version)
    left = calendar.working_time_between(now, task.due_at)
    minutes = int(abs(left).total_seconds() // 60)
    return {"status": deadlines.status(task, now), "hours": minutes // 60,
            "minutes": minutes % 60, "late": left.total_seconds() < 0}


@bp.get("/count")
def count() -> Any:
    """Return the inbox badge alone; the navigation polls it."""
    return render_template("inbox/_count.html", count=queries.inbox_count(db.session(), me()))
