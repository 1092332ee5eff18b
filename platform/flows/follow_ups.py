"""Flows started for a late task: the escalation action ``start <flow key>``.

When a step's escalation level says ``start receivable_exception``, the worker
starts that flow for the overdue task, as the person who holds the task (or,
when a group holds it, the person who started the late instance). The new
instance's start form takes, by name, the fields it declares from the late
instance's data and from the facts of the late step:

| field | value |
| --- | --- |
| ``title`` | "<step name>: <late instance's title>" |
| ``stage`` | the late step's id (``billing``) |
| ``stage_name`` | the late step's name in English |
| ``due_at`` | its due time (ISO 8601, in the installation's time zone) |
| ``owner`` | the user name of the person it was started for |
| ``source_instance``, ``source_task`` | the late instance's and task's ids |

The late instance is the new one's parent, so each links to the other. Start
form fields that neither holds stay empty; a start form that does not accept
what it receives fails the work item with the form's own message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from andon import temporal
from andon.flows import runtime
from andon.flows.models import FlowInstance, Task
from andon.identity.models import User


def start_for(session: Session, task: Task, flow_key: str) -> FlowInstance:
    """Start a flow for a late task, filled in from its instance and its step."""
    late = task.instance
    person = _holder(task)
    accepted = runtime.start_form(session, flow_key).properties
    given = {**late.data, **facts(task, person)}
    data = {name: form_text(value) for name, value in given.items()
            if name in accepted and value not in (None, "", [])}
    return runtime.start_instance(session, flow_key, person, data, parent=late)


def facts(task: Task, person: User) -> dict[str, Any]:
    """Return what a follow-up flow may read about the late step."""
    due = task.due_at.astimezone(temporal.current_zone()).isoformat() if task.due_at else None
    title = f"{task.step_name}: {task.instance.title}"[:300]
    return {"title": title, "stage": task.step_id, "stage_name": task.step_name, "due_at": due,
            "owner": person.username, "source_instance": task.instance_id,
            "source_task": task.id}


def _holder(task: Task) -> User:
    """Return who holds the task, or the starter of its instance when a group holds it."""
    if task.assignee is not None and task.assignee.active:
        return task.assignee
    return task.instance.started_by


def form_text(value: Any) -> str:
    """Write a stored value the way a submitted form field holds it."""
    if isinstance(value, bool):
        return "on" if value else ""
    return "" if value is None else str(value)
