"""The inbox: the open tasks of the signed-in user and their groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from andon.database import utcnow
from andon.flows import deadlines, queries
from andon.flows.models import Task
from andon.i18n import N_
from andon.web import db
from andon.web.pages import is_fragment_request, me

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


VIEWS = {"overdue": N_("Overdue"), "due_soon": N_("Due within a day"), "mine": N_("Mine"),
         "to_claim": N_("To claim")}


PAGE_SIZE = 50
SORTS = {"due": N_("Due first"), "newest": N_("Newest first"), "oldest": N_("Oldest first")}


@bp.get("/")
def index() -> Any:
    """List the tasks waiting for the user, soonest due first, with their deadlines."""
    session, user, now = db.session(), me(), utcnow()
    units = queries.managed_units(session, user)
    views = {**VIEWS, "team_overdue": N_("My team's overdue")} if units else VIEWS
    args = request.args
    narrow = queries.InboxFilter(
        view=args.get("view") if args.get("view") in views else None,
        flow=args.get("flow") or None, project=args.get("project") or None,
        sort=args.get("sort") if args.get("sort") in SORTS else "due")
    query = (queries.team_overdue(units, now) if narrow.view == "team_overdue"
             else queries.inbox(user, now=now, narrow=narrow))
    page = max(args.get("page", 1, type=int), 1)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    tasks = list(session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    flows, projects = queries.inbox_choices(session, user)
    context = {"tasks": tasks, "narrow": narrow, "views": views, "sorts": SORTS, "flows": flows,
               "projects": projects, "page": page, "total": total or 0, "page_size": PAGE_SIZE,
               "deadline": {task.id: deadline_of(session, task, now) for task in tasks}}
    if is_fragment_request():
        return render_template("inbox/_tasks.html", **context)
    return render_template("inbox/index.html", **context)


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
