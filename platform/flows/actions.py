"""What people do to tasks and instances besides completing them.

Each action checks who may do it, changes the instance under its version
column (a concurrent change gives StaleInstance), and is recorded on the
instance's timeline with who, when and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, files, jobs
from andon.database import utcnow
from andon.errors import AndonError, Conflict, Forbidden
from andon.flows import announcements, copies, deadlines, queries, services
from andon.flows.models import FlowInstance, Task
from andon.flows.runtime import engine, one_writer, open_task, save
from andon.forms.names import flatten
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.notifications.center import notify

MAX_REASON = 2000


def release(session: Session, task_id: int, user: User) -> Task:
    """Give a claimed task back to its group or role."""
    task = open_task(session, task_id, user)
    if (task.candidate_group_id is None and task.candidate_role is None
            and task.candidate_org_unit_id is None):
        raise Conflict(N_("This task was given to you by name; transfer it instead."))
    with one_writer():
        task.assignee_id = None
        _record(session, task.instance, user, "task.released", task=task.id,
                step_title=task.step_title)
    return task


def transfer(session: Session, task_id: int, user: User, to: User, reason: str) -> Task:
    """Hand a task to another person, saying why; they are notified."""
    task = open_task(session, task_id, user)
    reason = _reason(reason)
    if to.id == user.id or not to.active:
        raise Conflict(N_("Choose another active person to transfer the task to."))
    with one_writer():
        task.assignee_id, task.candidate_group_id, task.candidate_role = to.id, None, None
        task.candidate_org_unit_id, task.draft = None, None
        _record(session, task.instance, user, "task.transferred", task=task.id,
                step_title=task.step_title, to=to.display_name, reason=reason)
    notify(session, to, "transfer", Message(N_("%(name)s handed you “%(step)s” of “%(title)s”"),
                                            {"name": user.display_name, "step": task.step_title,
                                             "title": task.instance.title}),
           f"transfer:{task.id}:{to.id}:{task.instance.lock_version}", task_id=task.id,
           instance_id=task.instance_id)
    return task


def earlier_steps(task: Task) -> list[Task]:
    """Return the completed human steps on the way to this task, latest first."""
    instance = task.instance
    workflow = engine.restore(instance.version.content["spec"], instance.state)
    path = engine.completed_before(workflow, task.spiff_id)
    rows = {t.spiff_id: t for t in sorted(instance.tasks, key=lambda t: t.id)
            if t.state == "completed" and t.step_id != task.step_id}
    return [rows[spiff_id] for spiff_id in path if spiff_id in rows]


def send_back(session: Session, task_id: int, user: User, step_id: str, reason: str) -> Task:
    """Reopen an earlier step, with its last submission as a draft; this task is withdrawn."""
    task = open_task(session, task_id, user)
    reason = _reason(reason)
    target = next((t for t in earlier_steps(task) if t.step_id == step_id), None)
    if target is None:
        raise Conflict(N_("The flow can only go back to a step it has passed."))
    instance = task.instance
    with one_writer():
        workflow = engine.restore(instance.version.content["spec"], instance.state)
        engine.reset_to(workflow, target.spiff_id)
        _record(session, instance, user, "task.sent_back", task=task.id,
                step_title=task.step_title, to=target.step_title, reason=reason)
        announcements.acting(session, instance, user)
        save(session, instance, workflow)
    reopened = next((t for t in instance.tasks if t.state == "open" and t.step_id == step_id),
                    None)
    if reopened is None:
        raise Conflict(N_("The flow can only go back to a step it has passed."))
    reopened.draft = flatten(target.data)
    return reopened


def save_draft(session: Session, task_id: int, user: User, form: Mapping[str, Any]) -> Task:
    """Keep what was typed so far, unchecked, for the owner to finish later."""
    task = open_task(session, task_id, user)
    task.draft = {key: value for key, value in form.items() if key != "csrf_token"}
    session.flush()
    return task


def cc(session: Session, task_id: int, user: User, to: User, note: str = "") -> Task:
    """Copy someone on a task, with an optional note; they are told and may follow it."""
    task = open_task(session, task_id, user)
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise AndonError(N_("Please keep it under %(limit)s characters."), limit=MAX_REASON)
    if to.id == user.id or not to.active:
        raise Conflict(N_("Choose another active person to copy."))
    with one_writer():
        _record(session, task.instance, user, "task.cc.noted" if note else "task.cc",
                task=task.id, step_title=task.step_title, to=to.display_name, reason=note)
    params = {"name": user.display_name, "step": task.step_title, "title": task.instance.title,
              "owner": copies.owner_name(task), "note": note}
    message = (N_("%(name)s copied you on “%(step)s” of “%(title)s”: %(note)s") if note else
               N_("%(name)s copied you on “%(step)s” of “%(title)s”, which waits for %(owner)s"))
    notify(session, to, "cc", Message(message, params),
           f"cc:{task.id}:{to.id}:{user.id}:{task.instance.lock_version}", task_id=task.id,
           instance_id=task.instance_id)
    return task


def attach(session: Session, settings: files.UploadSettings, task_id: int, user: User,
           stream: BinaryIO, filename: str) -> files.Attachment:
    """Attach a file to a task (and so to its instance), as someone who may act on it."""
    task = open_task(session, task_id, user)
    attachment = files.store(session, settings, stream, filename, user,
                             instance_id=task.instance_id, task_id=task.id)
    with one_writer():
        _record(session, task.instance, user, "attachment.added", task=task.id,
                step_title=task.step_title, text=attachment.filename, file=attachment.id,
                size=attachment.size, sha256=attachment.sha256)
    return attachment


def comment(session: Session, instance: FlowInstance, user: User, text: str) -> None:
    """Add a comment to an instance's timeline, as anyone who may see it."""
    if not queries.can_view(session, instance, user):
        raise Forbidden(N_("You may not comment on this."))
    _record(session, instance, user, "comment", text=_reason(text))


def withdraw(session: Session, instance: FlowInstance, user: User, reason: str) -> None:
    """Stop an instance for good, as its starter or an admin; open tasks are withdrawn."""
    if instance.started_by_id != user.id and not user.has_role("admin"):
        raise Forbidden(N_("Only the person who started this or an administrator may withdraw it."))
    _change_status(session, instance, user, ("running", "suspended", "failed"), "withdrawn",
                   "instance.withdrawn", reason=_reason(reason))
    for task in instance.tasks:
        if task.state == "open":
            task.state = "cancelled"
            jobs.cancel_for_task(session, task.id)
    instance.ended_at = utcnow()


def suspend(session: Session, instance: FlowInstance, user: User, reason: str) -> None:
    """Pause an instance: its tasks wait, and its reminders and escalations hold."""
    _admin(user)
    _change_status(session, instance, user, ("running",), "suspended", "instance.suspended",
                   reason=_reason(reason))


def resume(session: Session, instance: FlowInstance, user: User) -> None:
    """Let a suspended instance run again; open tasks get the suspended time back."""
    _admin(user)
    since = _suspended_since(session, instance)
    _change_status(session, instance, user, ("suspended",), "running", "instance.resumed",
                   suspended_from=since.isoformat() if since else None)
    if since is not None:
        _shift_deadlines(session, instance, since, utcnow())


def _suspended_since(session: Session, instance: FlowInstance) -> datetime | None:
    """Return when the instance was last suspended, from its timeline."""
    query = (select(audit.AuditEvent.at)
             .where(audit.AuditEvent.subject_type == "instance",
                    audit.AuditEvent.subject_id == instance.id,
                    audit.AuditEvent.kind == "instance.suspended")
             .order_by(audit.AuditEvent.id.desc()).limit(1))
    return session.scalar(query)


def _shift_deadlines(session: Session, instance: FlowInstance, since: datetime,
                     until: datetime) -> None:
    """Move each open task's due time and pending reminders by the suspended time."""
    open_rows = [task for task in instance.tasks if task.state == "open" and task.due_at]
    if not open_rows:
        return
    workflow = engine.restore(instance.version.content["spec"], instance.state)
    steps = {step.id: step.properties for step in engine.ready_tasks(workflow)}
    calendar = deadlines.calendar_of(session, instance.version)
    for task in open_rows:
        timing = deadlines.parse_timing(steps.get(task.spiff_id, {}))
        deadlines.shift(session, task, timing, calendar, since, until)
    session.flush()


def retry(session: Session, instance: FlowInstance, user: User) -> None:
    """Run a failed instance's engine and its failed service steps again, after a fix."""
    _admin(user)
    _change_status(session, instance, user, ("failed",), "running", "instance.retried")
    services.requeue(session, instance, utcnow())
    with one_writer():
        try:
            workflow = engine.restore(instance.version.content["spec"], instance.state)
            engine.run(workflow)
        except Exception as error:  # the engine may raise anything on a broken model
            raise Conflict(N_("The step failed again (%(error)s); the flow stays failed."),
                           error=type(error).__name__) from error
        save(session, instance, workflow)


def _change_status(session: Session, instance: FlowInstance, user: User, allowed: tuple[str, ...],
                   status: str, kind: str, **detail: Any) -> None:
    """Move an instance to a new status if it is in an allowed one, and record it."""
    session.refresh(instance, with_for_update=True)
    if instance.status not in allowed:
        raise Conflict(N_("The flow is not in a state that allows this; nothing was changed."))
    with one_writer():
        instance.status = status
        _record(session, instance, user, kind, **detail)


def _record(session: Session, instance: FlowInstance, user: User, kind: str,
            **detail: Any) -> None:
    """Touch the instance (for its version check) and record the action."""
    instance.updated_at = utcnow()
    audit.record(session, kind, "instance", instance.id, user.id, **detail)
    session.flush()


def _admin(user: User) -> None:
    """Refuse anyone but an administrator."""
    if not user.has_role("admin"):
        raise Forbidden(N_("Only an administrator may do this."))


def _reason(text: str) -> str:
    """Return a required reason or comment, trimmed, or say what is wrong."""
    text = (text or "").strip()
    if not text:
        raise AndonError(N_("Please give a reason."))
    if len(text) > MAX_REASON:
        raise AndonError(N_("Please keep it under %(limit)s characters."), limit=MAX_REASON)
    return text
