"""One task: its instance's data, its form, and claiming and completing it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from andon.database import utcnow
from andon.errors import Conflict
from andon.flows import actions, queries, runtime
from andon.flows.models import Task
from andon.forms.fields import build_fields
from andon.forms.store import form_spec_at
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.inbox import deadline_of
from andon.web.instances import submitted_steps
from andon.web.pages import act, me, submit

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.route("/<int:task_id>", methods=["GET", "POST"])
def show(task_id: int) -> Any:
    """Show a task, or complete it with the submitted form."""
    session = db.session()
    user = me()
    task = session.get(Task, task_id)
    if task is None or not (runtime.may_act(task, user)
                            or queries.can_view(session, task.instance, user)):
        abort(404 if task is None else 403)
    done = submit(lambda: runtime.complete_task(session, task_id, user, request.form))
    if done.result is not None:
        flash(_("Done. The task has left your inbox."))
        return redirect(url_for("inbox.index"))
    task = session.get(Task, task_id)
    return _render(task, user, done.values or task.draft or {}, done.errors)


def _render(task: Task, user: User, values: Any, errors: dict[str, Message]) -> Any:
    """Render the task page with the form (and its errors) when the user may act."""
    session = db.session()
    actionable = task.state == "open" and runtime.may_act(task, user)
    fields = []
    if actionable and task.form_version_id:
        fields = build_fields(form_spec_at(session, task.form_version_id), locale_code(), values,
                              errors)
    people = list(session.scalars(User.listed().where(User.active, User.id != user.id)))
    return render_template("tasks/show.html", task=task, fields=fields, actionable=actionable,
                           steps=submitted_steps(session, task.instance), errors=errors,
                           user=user, people=people, earlier=actions.earlier_steps(task),
                           deadline=deadline_of(session, task, utcnow())), (
        422 if errors else 200)


@bp.post("/<int:task_id>/claim")
def claim(task_id: int) -> Any:
    """Claim a task offered to the user's group or role."""
    session = db.session()
    runtime.claim_task(session, task_id, me())
    session.commit()
    flash(_("The task is now yours."))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/draft")
def draft(task_id: int) -> Any:
    """Keep what was typed so far."""
    return act(lambda: actions.save_draft(db.session(), task_id, me(), request.form),
               _("Draft saved. Nobody else sees it; complete the task when you are ready."),
               url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/release")
def release(task_id: int) -> Any:
    """Give a claimed task back to its group."""
    return act(lambda: actions.release(db.session(), task_id, me()),
               _("The task is back with your team."), url_for("inbox.index"))


@bp.post("/<int:task_id>/transfer")
def transfer(task_id: int) -> Any:
    """Hand the task to someone else, with a reason."""
    def run() -> None:
        to = db.session().scalar(select(User).where(User.username == request.form.get("to", "")))
        if to is None:
            raise Conflict(N_("Choose another active person to transfer the task to."))
        actions.transfer(db.session(), task_id, me(), to, request.form.get("reason", ""))
    return act(run, _("The task was transferred."), url_for("inbox.index"))


@bp.post("/<int:task_id>/send-back")
def send_back(task_id: int) -> Any:
    """Send the flow back to an earlier step, with a reason."""
    return act(lambda: actions.send_back(db.session(), task_id, me(),
                                         request.form.get("step", ""),
                                         request.form.get("reason", "")),
               _("Sent back. The earlier step is open again."), url_for("inbox.index"))
