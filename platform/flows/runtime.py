"""Start instances, complete and claim tasks, and keep the task table in step.

The engine state of an instance is stored apart from the spec, which lives once
in its definition version. After every engine run the ready human steps are
projected into the ``task`` table, which the inbox and reports query.

The instance is the unit of consistency: every change to it or to one of its
tasks updates the instance row, whose version column makes a concurrent second
writer fail with ``StaleInstance`` instead of overwriting the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from andon import audit, catalog, jobs
from andon.database import utcnow
from andon.errors import Conflict, Forbidden, InvalidSubmission, NotFound, StaleInstance
from andon.flows import announcements, causes, copies, deadlines, owners, permissions, waits
from andon.flows.engine import Engine, ReadyTask, WaitingService
from andon.flows.models import FlowInstance, Task
from andon.flows.queries import can_view
from andon.forms import file_fields
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.forms.taxonomy_fields import validate_codes
from andon.forms.validation import validate_submission
from andon.forms.widgets_people import validate_keys
from andon.i18n import N_
from andon.identity.models import User

engine = Engine()


def start_form(session: Session, flow_key: str) -> FormSpec:
    """Return the form the starter fills in, as the published flow version pinned it."""
    version = catalog.current(session, "flow", flow_key)
    content = version.content
    return form_spec_at(session, content["forms"][content["start_form"]])


def start_instance(session: Session, flow_key: str, user: User,
                   form: Mapping[str, Any], parent: FlowInstance | None = None) -> FlowInstance:
    """Start the published version of a flow with the starter's form (from a parent flow)."""
    version = catalog.current(session, "flow", flow_key)
    workflow = engine.start(version.content["spec"])
    first = _starter_step(workflow)
    form_version = _form_version(version, first)
    data = _validated(session, form_version, form, user=user)
    instance = FlowInstance(version=version, started_by=user, state="", parent=parent,
                            title=str(data.get("title") or version.label("en"))[:300])
    session.add(instance)
    session.flush()
    audit.record(session, "instance.started", "instance", instance.id, user.id,
                 flow=flow_key, version=version.number, parent=parent.id if parent else None)
    engine.complete(workflow, first.id, data)
    task = Task(instance=instance, assignee_id=user.id, form_version_id=form_version,
                **_step_columns(first))
    _finish(session, task, user, data)
    _link_files(session, task, data)
    save(session, instance, workflow)
    return instance


def check_start(session: Session, flow_key: str, user: User, form: Mapping[str, Any]) -> None:
    """Validate a start form's values as starting would, without starting; InvalidSubmission."""
    version = catalog.current(session, "flow", flow_key)
    _validated(session, version.content["forms"][version.content["start_form"]], form, user=user)


def complete_task(session: Session, task_id: int, user: User, form: Mapping[str, Any],
                  cause: str | None = None, cause_note: str | None = None) -> Task:
    """Complete a task with its form, as its owner; validation errors keep nothing.

    ``cause`` (a code of the cause taxonomy) and ``cause_note`` say why a task past
    its due time is late (``andon.flows.causes``); both stay optional here.
    """
    task = open_task(session, task_id, user)
    if cause or cause_note:
        with one_writer():
            causes.record(session, task, user, cause, cause_note)
    task.assignee_id = task.assignee_id or user.id
    _complete(session, task, user, form)
    return task


def complete_as_system(session: Session, task: Task, form: Mapping[str, Any]) -> None:
    """Complete an open task with configured data, as an escalation does."""
    _complete(session, task, None, form)


def _complete(session: Session, task: Task, user: User | None, form: Mapping[str, Any]) -> None:
    """Validate the form, run the engine past the task, and save the instance."""
    instance = task.instance
    data = _validated(session, task.form_version_id, form, _earlier_submission(task),
                      permissions.of_step(instance.version.content, task.step_id), instance.data,
                      user)
    with one_writer():
        workflow = engine.restore(instance.version.content["spec"], instance.state)
        engine.complete(workflow, task.spiff_id, data)
        _finish(session, task, user, data)
        _link_files(session, task, data)
        save(session, instance, workflow)


def reassign(session: Session, task: Task, user: User) -> None:
    """Give an open task to one person, as an escalation does."""
    with one_writer():
        task.assignee_id, task.candidate_group_id, task.candidate_role = user.id, None, None
        task.candidate_org_unit_id = None
        task.instance.updated_at = utcnow()
        session.flush()


def claim_task(session: Session, task_id: int, user: User) -> Task:
    """Take a candidate task so that it is the user's alone."""
    task = open_task(session, task_id, user)
    if task.assignee_id == user.id:
        return task
    with one_writer():
        task.assignee_id = user.id
        task.instance.updated_at = utcnow()
        audit.record(session, "task.claimed", "instance", task.instance_id, user.id,
                     task=task.id, step=task.step_id, step_title=task.step_title)
        session.flush()
    return task


def wake(session: Session, instance: FlowInstance) -> None:
    """Fire the instance's due timers and run on to the next wait."""
    with one_writer():
        workflow = engine.restore(instance.version.content["spec"], instance.state)
        engine.run(workflow)
        save(session, instance, workflow)


def may_act(task: Task, user: User) -> bool:
    """Tell whether the user owns the task or is one of its candidates."""
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    if task.candidate_group_id is not None:
        return task.candidate_group_id in {group.id for group in user.groups}
    if task.candidate_org_unit_id is not None:
        return task.candidate_org_unit_id == user.org_unit_id
    return task.candidate_role is not None and user.has_role(task.candidate_role)


def open_task(session: Session, task_id: int, user: User) -> Task:
    """Return an open task the user may act on, or raise why not (telling no outsider)."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(N_("There is no task number %(id)s."), id=task_id)
    lock(session, task)
    if task.state == "open" and task.instance.status != "running" and may_act(task, user):
        raise Conflict(N_("This flow is not running (it is suspended, withdrawn or failed); "
                          "its tasks wait until it runs again."))
    if task.state == "open" and may_act(task, user):
        return task
    if not can_view(session, task.instance, user):
        raise Forbidden(N_("This task belongs to someone else; nothing was changed."))
    if task.state == "open":
        raise Forbidden(N_("This task belongs to someone else; nothing was changed."))
    if task.completed_by_id == user.id:
        raise Conflict(N_("You have already completed this task; nothing was changed."))
    if task.state == "completed" and task.completed_by is not None:
        raise Conflict(N_("This task was already completed by %(name)s; nothing was changed."),
                       name=task.completed_by.display_name)
    raise Conflict(N_("This task is no longer open; nothing was changed."))


def lock(session: Session, task: Task) -> None:
    """Lock the task's instance row, then reread the task: every writer locks in this order.

    On PostgreSQL this is SELECT … FOR UPDATE, so a person and the worker acting
    on one instance queue instead of deadlocking; SQLite has one writer anyway.
    """
    session.refresh(task.instance, with_for_update=True)
    session.refresh(task)


def _form_version(version: catalog.DefinitionVersion, step: ReadyTask) -> int | None:
    """Return the id of the form version the flow version pinned for a step."""
    key = step.properties.get("form")
    return version.content["forms"][key] if key else None


def _validated(session: Session, form_version: int | None, form: Mapping[str, Any],
               previous: Mapping[str, Any] | None = None,
               rights: permissions.Permissions = permissions.EVERYTHING,
               instance_data: Mapping[str, Any] | None = None,
               user: User | None = None) -> dict[str, Any]:
    """Validate submitted values against the step's view of its form and return typed data.

    ``previous`` is what the step submitted before (a step sent back): retired
    taxonomy codes it held may be submitted again unchanged. Read-only fields
    keep the instance's values (``instance_data``), whatever was posted. Files
    must be the instance's already or the user's own new uploads.
    """
    if form_version is None:
        return {}
    spec = permissions.view(form_spec_at(session, form_version), rights)
    data, errors = validate_submission(spec, form)
    errors = {**validate_codes(session, spec, data, previous),
              **validate_keys(session, spec, data, previous),
              **file_fields.check(session, spec, data, user, instance_data), **errors}
    if errors:
        raise InvalidSubmission(errors, form)
    return permissions.keep(spec, rights, data, instance_data or {})


def _link_files(session: Session, task: Task, data: Mapping[str, Any]) -> None:
    """Make the files a step's form holds the instance's, so its attachments list them."""
    if task.form_version_id is not None:
        file_fields.link(session, form_spec_at(session, task.form_version_id), data,
                         instance_id=task.instance.id, task_id=task.id)


def _earlier_submission(task: Task) -> dict[str, Any] | None:
    """Return the data the same step last submitted in this instance, if it ran before."""
    done = [t for t in task.instance.tasks if t.step_id == task.step_id and t.id != task.id
            and t.state == "completed"]
    return done[-1].data if done else None


def _starter_step(workflow: Any) -> ReadyTask:
    """Return the first ready step, which must belong to the starter."""
    ready = engine.ready_tasks(workflow)
    if not ready or ready[0].properties.get("owner") != "starter":
        raise Conflict(N_("This flow does not begin with a step for the person starting it."))
    return ready[0]


def _finish(session: Session, task: Task, user: User | None, data: dict[str, Any]) -> None:
    """Mark a task completed (by the user, or by Andon) with the data, and record it."""
    user_id = user.id if user else None
    task.state, task.completed_at, task.completed_by_id = "completed", utcnow(), user_id
    task.data = data
    announcements.acting(session, task.instance, user)
    session.add(task)
    session.flush()
    jobs.cancel_for_task(session, task.id)
    audit.record(session, "task.completed", "instance", task.instance_id, user_id,
                 task=task.id, step=task.step_id, step_title=task.step_title, data=data)


def save(session: Session, instance: FlowInstance, workflow: Any) -> None:
    """Store the engine state, project ready steps, and close a finished instance."""
    waits.after_run(session, instance, workflow)
    instance.state = engine.dump(workflow)
    instance.data = engine.data(workflow)
    instance.project = _project(instance.data) or instance.project
    instance.wake_at = engine.next_timer(workflow)
    instance.updated_at = utcnow()
    _sync_tasks(session, instance, engine.ready_tasks(workflow))
    _queue_services(session, instance, engine.waiting_services(workflow))
    if engine.is_done(workflow) and instance.status == "running":
        ends = engine.reached_ends(workflow)
        instance.status, instance.ended_at = "completed", utcnow()
        instance.outcome = _titles(ends[-1]) if ends else None
        audit.record(session, "instance.completed", "instance", instance.id, None,
                     outcome=instance.outcome)
    session.flush()


def _project(data: Mapping[str, Any]) -> str | None:
    """Return the project an instance's data names, as text."""
    project = data.get("project")
    return str(project)[:200] if isinstance(project, str | int) and project != "" else None


def _sync_tasks(session: Session, instance: FlowInstance, ready: list[ReadyTask]) -> None:
    """Open a task row for each new ready step; cancel rows no longer ready."""
    open_rows = {task.spiff_id: task for task in instance.tasks if task.state == "open"}
    for step in ready:
        if step.id not in open_rows:
            _open_row(session, instance, step)
    ready_ids = {step.id for step in ready}
    for spiff_id, task in open_rows.items():
        if spiff_id not in ready_ids:
            task.state = "cancelled"
            jobs.cancel_for_task(session, task.id)
            audit.record(session, "task.cancelled", "instance", instance.id, None,
                         task=task.id, step=task.step_id, step_title=task.step_title)


def _queue_services(session: Session, instance: FlowInstance,
                    waiting: list[WaitingService]) -> None:
    """Queue one work item per waiting service step; its key makes it run once."""
    for step in waiting:
        jobs.schedule(session, "service", f"service:{instance.id}:{step.id}", utcnow(),
                      {"task": step.id, "step": step.step_id,
                       "title": _titles(ReadyTask(step.id, step.step_id, step.step_name, None,
                                                  "serviceTask", step.properties))},
                      instance_id=instance.id)


def _open_row(session: Session, instance: FlowInstance, step: ReadyTask) -> Task:
    """Create the task row of a ready step with its resolved owner; tell whom it copies."""
    data = {**instance.data, **step.data}  # a loop item is in the step's own data
    owner = owners.resolve(session, step.properties.get("owner"), step.lane,
                           instance.started_by, _previous_assignee(instance), data)
    task = Task(instance=instance, assignee_id=owner.assignee_id, candidate_group_id=owner.group_id,
                candidate_role=owner.role, candidate_org_unit_id=owner.org_unit_id,
                form_version_id=_form_version(instance.version, step), **_step_columns(step))
    session.add(task)
    session.flush()
    deadlines.plan(session, task, deadlines.parse_timing(step.properties),
                   deadlines.calendar_of(session, instance.version), task.created_at)
    audit.record(session, "task.created", "instance", instance.id, None, task=task.id,
                 step=task.step_id, step_title=task.step_title, assignee=owner.assignee_id,
                 group=owner.group_id, role=owner.role)
    copies.copy_step(session, task, step.properties.get("cc"), data)
    announcements.announce(session, task)
    return task


def _previous_assignee(instance: FlowInstance) -> User | None:
    """Return who completed the instance's latest completed step, if anyone."""
    done = [t for t in instance.tasks if t.state == "completed" and t.completed_by]
    return max(done, key=lambda t: (t.completed_at, t.id)).completed_by if done else None


def _titles(step: ReadyTask) -> dict[str, str]:
    """Return a step's name in English (its BPMN name) and Chinese (its name_zh)."""
    name = step.step_name or step.step_id
    return {"en": name, "zh-CN": step.properties.get("name_zh") or name}


def _step_columns(step: ReadyTask) -> dict[str, Any]:
    """Return the task columns that describe its step."""
    return {"spiff_id": step.id, "step_id": step.step_id, "step_name": step.step_name,
            "step_title": _titles(step), "form_key": step.properties.get("form")}


@contextmanager
def one_writer() -> Iterator[None]:
    """Turn a lost race on the instance's version into StaleInstance; the caller rolls back."""
    try:
        yield
    except StaleDataError as error:
        raise StaleInstance(N_("Someone else changed this at the same time; nothing was "
                               "changed. Reload the page and try again.")) from error
