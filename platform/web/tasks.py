"""One task: its instance's data, its form, and claiming and completing it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from andon.flows import queries, runtime
from andon.flows.models import Task
from andon.forms.fields import build_fields
from andon.forms.store import form_spec_at
from andon.i18n import Message
from andon.identity.models import User
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.instances import submitted_steps
from andon.web.pages import me, submit

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
    return _render(session.get(Task, task_id), user, done.values, done.errors)


def _render(task: Task, user: User, values: Any, errors: dict[str, Message]) -> Any:
    """Render the task page with the form (and its errors) when the user may act."""
    session = db.session()
    actionable = task.state == "open" and runtime.may_act(task, user)
    fields = []
    if actionable and task.form_version_id:
        fields = build_fields(form_spec_at(session, task.form_version_id), locale_code(), values,
                              errors)
    return render_template("tasks/show.html", task=task, fields=fields, actionable=actionable,
                           steps=submitted_steps(session, task.instance), errors=errors,
                           user=user), (422 if errors else 200)


@bp.post("/<int:task_id>/claim")
def claim(task_id: int) -> Any:
    """Claim a task offered to the user's group or role."""
    session = db.session()
    runtime.claim_task(session, task_id, me())
    session.commit()
    flash(_("The task is now yours."))
    return redirect(url_for("tasks.show", task_id=task_id))
