"""Records: the instances a user may see, each with its state and timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from andon.audit import AuditEvent
from andon.database import utcnow
from andon.errors import AndonError
from andon.flows import actions, causes, queries, services
from andon.flows.models import FlowInstance
from andon.flows.permissions import Permissions, view
from andon.forms.fields import display, supported
from andon.forms.store import form_spec_at
from andon.forms.widget_fields import readable
from andon.i18n import N_, Message, localize
from andon.web import db
from andon.web.i18n import locale_code, role_name, translate
from andon.web.pages import act, is_fragment_request, me

bp = Blueprint("instances", __name__, url_prefix="/instances")

EVENT_TEXT = {
    "instance.started": N_("%(actor)s started %(flow)s (version %(version)s)"),
    "task.created": N_("Step “%(step)s” is waiting for %(owner)s"),
    "task.claimed": N_("%(actor)s took step “%(step)s”"),
    "task.completed": N_("%(actor)s completed step “%(step)s”"),
    "task.decided": N_("%(actor)s completed step “%(step)s”: %(summary)s"),
    "instance.completed": N_("The flow ended"),
    "instance.ended": N_("The flow ended: %(outcome)s"),
    "instance.failed": N_("The flow stopped on an error; an administrator can find the "
                          "details in the worker's log"),
    "task.cancelled": N_("Step “%(step)s” was withdrawn"),
    "task.released": N_("%(actor)s gave step “%(step)s” back to the team"),
    "task.transferred": N_("%(actor)s handed step “%(step)s” to %(to)s: %(reason)s"),
    "task.sent_back": N_("%(actor)s sent “%(step)s” back to “%(to)s”: %(reason)s"),
    "task.reminded": N_("Andon reminded the owners of step “%(step)s”"),
    "task.escalated": N_("Step “%(step)s” is overdue: escalation level %(level)s (%(action)s)"),
    "task.followed_up": N_("Step “%(step)s” is late: Andon started the flow %(to)s for it"),
    "comment": N_("%(actor)s commented: %(text)s"),
    "instance.withdrawn": N_("%(actor)s withdrew the flow: %(reason)s"),
    "instance.suspended": N_("%(actor)s suspended the flow: %(reason)s"),
    "instance.resumed": N_("%(actor)s resumed the flow"),
    "instance.retried": N_("%(actor)s retried the flow"),
    "instance.migrated": N_("%(actor)s moved the flow from version %(version)s to version "
                            "%(to)s"),
    "task.deadline_unset": N_("Step “%(step)s” has no due time: its deadline_at expression "
                              "failed (%(reason)s)"),
    "task.deadline_moved": N_("Step “%(step)s” got the time the flow was suspended back: "
                              "its due time moved"),
    "service.completed": N_("Andon ran step “%(step)s”"),
    "service.failed": N_("Step “%(step)s” failed after %(attempts)s attempts: %(error)s"),
    "instance.scheduled": N_("Andon started this flow on its schedule"),
    "message.sent": N_("The flow sent the message “%(message)s”"),
    "message.received": N_("%(actor)s delivered the message “%(message)s”"),
    "task.copied": N_("%(actor)s copied %(to)s on step “%(step)s”"),
    "task.cc": N_("%(actor)s copied %(to)s on step “%(step)s”"),
    "task.cc.noted": N_("%(actor)s copied %(to)s on step “%(step)s”: %(reason)s"),
    "task.cause": N_("%(actor)s said why step “%(step)s” is late: %(cause)s"),
    "task.cause.noted": N_("%(actor)s said why step “%(step)s” is late: %(cause)s (%(reason)s)"),
    "attachment.added": N_("%(actor)s attached “%(text)s” to step “%(step)s”"),
}
ACTIONS = {"notify": N_("people were notified"), "reassign": N_("the task was reassigned"),
           "complete": N_("the task was completed automatically"),
           "start": N_("a follow-up flow was started")}
PAGE_SIZE = 50


@bp.get("/")
def index() -> Any:
    """List the instances the user may open, optionally by status."""
    status = request.args.get("status") or None
    page = max(1, request.args.get("page", 1, type=int))
    query = queries.visible_instances(me(), status).limit(PAGE_SIZE + 1)
    rows = list(db.session().scalars(query.offset((page - 1) * PAGE_SIZE)))
    return render_template("instances/index.html", instances=rows[:PAGE_SIZE], status=status,
                           page=page, more=len(rows) > PAGE_SIZE)


@bp.get("/<int:instance_id>")
def show(instance_id: int) -> Any:
    """Show an instance: state, open steps, submitted data and timeline."""
    session, instance = db.session(), _visible(instance_id)
    events = [(event, describe(session, instance, event))
              for event in queries.timeline(session, instance)]
    return render_template("instances/show.html", instance=instance, events=events,
                           steps=submitted_steps(session, instance),
                           incidents=services.incidents(session, instance))


def _visible(instance_id: int) -> FlowInstance:
    """Return the instance if the signed-in user may see it; 404 or 403 otherwise."""
    instance = db.session().get(FlowInstance, instance_id)
    if instance is None:
        abort(404)
    if not queries.can_view(db.session(), instance, me()):
        abort(403)
    return instance


def submitted_steps(session: Session, instance: FlowInstance,
                    hidden: frozenset[str] = frozenset()) -> list[tuple[Any, list[Any]]]:
    """Return each completed step with its submitted values as (label, value) rows.

    Values named in ``hidden`` (a step's ``hidden`` property) are left out.
    """
    steps = []
    for task in instance.tasks:
        if task.state == "completed" and task.form_version_id:
            spec = view(form_spec_at(session, task.form_version_id), Permissions(hidden=hidden))
            rows = display(spec, locale_code(),
                           readable(session, spec, task.data, locale_code(), gettext), gettext)
            steps.append((task, rows))
    return steps


def describe(session: Session, instance: FlowInstance, event: AuditEvent) -> Message:
    """Return a readable sentence for a timeline event."""
    detail, locale = event.detail, locale_code()
    params = {"actor": event.actor.display_name if event.actor else "Andon",
              "step": localize(detail.get("step_title"), locale),
              "flow": instance.version.label(locale),
              "version": detail.get("version", ""),
              "owner": _owner_name(instance, detail),
              "outcome": localize(detail.get("outcome"), locale),
              "summary": _choices(session, instance, detail),
              "to": detail.get("to", ""), "reason": detail.get("reason", ""),
              "text": detail.get("text", ""), "level": detail.get("level", ""),
              "action": gettext(ACTIONS.get(detail.get("action", ""), "-")),
              "message": detail.get("message", ""),
              "attempts": detail.get("attempts", ""), "error": _error(detail),
              "cause": causes.label(session, detail.get("cause"), locale)}
    kind = event.kind
    if kind == "task.completed" and params["summary"]:
        kind = "task.decided"
    if kind == "task.cause" and params["reason"]:
        kind = "task.cause.noted"
    if kind == "instance.completed" and params["outcome"]:
        kind = "instance.ended"
    return Message(EVENT_TEXT.get(kind, kind), params)


def _error(detail: dict[str, Any]) -> str:
    """Return the translated error a service.failed event recorded."""
    stored = detail.get("message")
    if isinstance(stored, dict) and stored.get("msgid"):
        return translate(Message(stored["msgid"], stored.get("params") or {}))
    return str(detail.get("error", ""))


def _choices(session: Session, instance: FlowInstance, detail: dict[str, Any]) -> str:
    """Summarise the choices (enum fields) made in a completed step, e.g. the decision."""
    task = next((t for t in instance.tasks if t.id == detail.get("task")), None)
    if task is None or not task.form_version_id or not detail.get("data"):
        return ""
    spec = form_spec_at(session, task.form_version_id)
    chosen = {name for name, kind, _ in supported(spec) if kind == "enum"}
    rows = display(spec, locale_code(), {k: v for k, v in detail["data"].items() if k in chosen},
                   gettext)
    return "; ".join(value for _, value in rows if value)


def _owner_name(instance: FlowInstance, detail: dict[str, Any]) -> str:
    """Name the owner recorded in a task.created event."""
    task = next((t for t in instance.tasks if t.id == detail.get("task")), None)
    if task is None:
        return ""
    if task.assignee_id and detail.get("assignee"):
        return task.assignee.display_name if task.assignee else ""
    if task.candidate_group:
        return task.candidate_group.name
    if task.candidate_org_unit:
        return task.candidate_org_unit.name
    return role_name(task.candidate_role) if task.candidate_role else ""


@bp.post("/<int:instance_id>/<any(comment, withdraw, suspend, resume, retry):action>")
def change(instance_id: int, action: str) -> Any:
    """Comment on an instance, withdraw it, or (as an admin) suspend, resume or retry it."""
    session = db.session()
    instance = session.get(FlowInstance, instance_id)
    if instance is None:
        abort(404)
    reason = request.form.get("text", "")
    run = {"comment": lambda: actions.comment(session, instance, me(), reason),
           "withdraw": lambda: actions.withdraw(session, instance, me(), reason),
           "suspend": lambda: actions.suspend(session, instance, me(), reason),
           "resume": lambda: actions.resume(session, instance, me()),
           "retry": lambda: actions.retry(session, instance, me())}[action]
    if action == "retry" and is_fragment_request():
        return _retried_panel(session, instance, run)
    return act(run, gettext(DONE[action]), url_for("instances.show", instance_id=instance_id))


def _retried_panel(session: Session, instance: FlowInstance, run: Any) -> Any:
    """Retry for htmx: return the incident panel saying what happened."""
    try:
        run()
    except AndonError as refused:
        session.rollback()
        notice, kind = translate(refused.message), "error"
    else:
        session.commit()
        notice, kind = gettext("The failed steps were queued again."), "info"
    return render_template("instances/_incident.html", instance=instance, notice=notice,
                           notice_kind=kind, incidents=services.incidents(session, instance))


DONE = {"comment": N_("Comment added."), "withdraw": N_("The flow was withdrawn."),
        "suspend": N_("The flow is suspended."), "resume": N_("The flow runs again."),
        "retry": N_("The flow was retried.")}


@bp.get("/<int:instance_id>/diagram")
def diagram(instance_id: int) -> Any:
    """Return the instance's BPMN source and each step's state, for the diagram viewer."""
    instance = _visible(instance_id)
    now = utcnow()
    steps: dict[str, str] = {}
    for task in instance.tasks:
        if task.state == "open":
            overdue = task.due_at is not None and task.due_at <= now
            steps[task.step_id] = "overdue" if overdue else "active"
        elif task.state == "completed":
            steps.setdefault(task.step_id, "completed")
    return {"xml": instance.version.source, "steps": steps}
