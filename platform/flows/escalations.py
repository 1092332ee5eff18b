"""What the worker does when a reminder or an escalation level is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.errors import AndonError
from andon.flows import announcements, deadlines, follow_ups, owners, runtime
from andon.flows.models import Escalation, Task
from andon.i18n import N_
from andon.identity.models import User, UserRole
from andon.jobs import Postpone, WorkItem
from andon.notifications.center import notify

HOLD = timedelta(hours=1)


def remind(session: Session, item: WorkItem, now: datetime) -> None:
    """Remind the owners of an open task that it is due soon."""
    task = _open(session, item, now)
    if task is None:
        return
    for person in _owners(session, task):
        notify(session, person, "reminder", deadlines.reminder_message(task),
               f"remind:{task.id}:{item.payload.get('index', 0)}:{person.id}",
               instance_id=task.instance_id, task_id=task.id, now=now)
    deadlines.record(session, task, "task.reminded", now)


def escalate(session: Session, item: WorkItem, now: datetime) -> None:
    """Carry out one escalation level of an overdue task: notify, reassign, complete or start."""
    task = _open(session, item, now)
    if task is None:
        return
    level, action, target = item.payload["level"], item.payload["action"], item.payload["target"]
    task.escalation_level = max(task.escalation_level, level + 1)
    deadlines.record(session, task, "task.escalated", now, level=level + 1, action=action,
                     target=target)
    if action == "complete":
        _remember(session, task, item, now, [])
        runtime.complete_as_system(session, task, deadlines.completion_data(target))
        return
    if action == "start":
        started = follow_ups.start_for(session, task, target)
        deadlines.record(session, task, "task.followed_up", now, to=target,
                         started=started.id)
        return
    people = owners.people(session, target, task.instance.started_by, task.assignee,
                           task.instance.data)
    if not people:
        raise AndonError(N_("Escalation level %(level)s of task %(task)s names nobody: %(rule)s"),
                         level=level + 1, task=task.id, rule=target)
    _remember(session, task, item, now, people[:1] if action == "reassign" else people)
    if action == "reassign":
        runtime.reassign(session, task, people[0])
        announcements.hand_on(session, task, people[0], level, now)  # the new owner, once
        return
    for person in {p.id: p for p in people}.values():
        notify(session, person, "escalation", deadlines.escalation_message(task),
               f"escalate:{task.id}:{level}:{person.id}", instance_id=task.instance_id,
               task_id=task.id, now=now)


def _remember(session: Session, task: Task, item: WorkItem, now: datetime,
              asked: list[User]) -> None:
    """Keep the level reached, for reports: when, against which due time, whom it asked."""
    people = list({person.id: person for person in asked}.values())
    names = ", ".join(person.display_name for person in people)
    session.add(Escalation(task_id=task.id, instance_id=task.instance_id,
                           level=item.payload["level"] + 1, action=item.payload["action"],
                           rule=str(item.payload["target"])[:500], at=now, due_at=task.due_at,
                           asked_id=people[0].id if people else None, asked=names[:1000] or None))


def _open(session: Session, item: WorkItem, now: datetime) -> Task | None:
    """Return the item's task if it is still open and the item due; hold while it is suspended."""
    task = session.get(Task, item.task_id) if item.task_id else None
    if task is None:
        return None
    runtime.lock(session, task)
    if task.state != "open":
        return None
    if task.instance.status == "suspended":
        raise Postpone(now + HOLD)
    session.refresh(item)
    if item.due_at > now:  # moved by a resume that committed after this item was claimed
        raise Postpone(item.due_at)
    return task


def _owners(session: Session, task: Task) -> list[User]:
    """Return the task's assignee, or its candidates."""
    if task.assignee is not None:
        return [task.assignee]
    if task.candidate_group is not None:
        return [member for member in task.candidate_group.members if member.active]
    if task.candidate_org_unit_id is not None:
        return list(session.scalars(select(User).where(
            User.org_unit_id == task.candidate_org_unit_id, User.active)))
    query = select(User).join(User.role_rows).where(UserRole.role == task.candidate_role,
                                                    User.active)
    return list(session.scalars(query))
