"""Tell people a task landed in their inbox: when it opens, or when an escalation hands it on.

The assignee, or each candidate of a group, role or org unit, gets one
notification of kind ``assigned`` (in the app always; by email and chat as
they chose), keyed by task and person so a retry never tells anyone twice.
Nobody is told about a step that their own action opened (the starter's own
next step, a step sent back to oneself): see :func:`acting`.

A task offered to more than ``MAX_CANDIDATES`` people is announced to nobody:
a pool that large works from its inbox, and hundreds of identical messages
would bury the ones that matter; the
task still shows in each candidate's inbox, and reminders and escalations
still go as the step configures them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.flows import deadlines
from andon.flows.models import FlowInstance, Task
from andon.i18n import N_, Message
from andon.identity.models import User, UserRole, group_member
from andon.notifications.center import notify
from andon.notifications.models import Notification

MAX_CANDIDATES = 50
_ACTING = "andon.announcements.acting"


def acting(session: Session, instance: FlowInstance, user: User | None) -> None:
    """Note who moves the instance on in this transaction, so the steps it opens skip them."""
    transaction, actors = session.info.get(_ACTING, (None, {}))
    if transaction is not session.get_transaction():
        actors = {}
    actors[instance.id] = user.id if user else None
    session.info[_ACTING] = (session.get_transaction(), actors)


def announce(session: Session, task: Task) -> list[User]:
    """Tell whoever a newly opened task waits for that it is theirs; return those told now."""
    people = _candidates(session, task, MAX_CANDIDATES) or []
    copied = set(session.scalars(select(Notification.key).where(Notification.key.in_(
        [f"cc:{task.id}:{person.id}" for person in people]))))  # told by copies.copy_step
    people = [p for p in people if f"cc:{task.id}:{p.id}" not in copied]
    message = opened_message(session, task)
    return [person for person in people
            if notify(session, person, "assigned", message, f"assigned:{task.id}:{person.id}",
                      instance_id=task.instance_id, task_id=task.id, now=task.created_at)]


def hand_on(session: Session, task: Task, to: User, level: int, now: datetime) -> None:
    """Tell the person an escalation gave an overdue task to that it is theirs now."""
    message = Message(N_("Overdue task now yours: “%(step)s” of “%(title)s”, due %(due)s"),
                      {**_about(task), "due": _due(session, task)})
    notify(session, to, "assigned", message, f"assigned:{task.id}:{to.id}:escalation:{level}",
           instance_id=task.instance_id, task_id=task.id, now=now)


def opened_message(session: Session, task: Task) -> Message:
    """Return the text that tells someone a task is waiting for them, with its due time."""
    if task.due_at is None:
        return Message(N_("New task: “%(step)s” of “%(title)s”"), _about(task))
    calendar = deadlines.calendar_of(session, task.instance.version)
    left = calendar.working_time_between(task.created_at, task.due_at)
    hours = round(left.total_seconds() / 3600, 1)
    return Message(N_("New task: “%(step)s” of “%(title)s”, due %(due)s "
                      "(%(hours)s working hours)"),
                   {**_about(task), "due": _due(session, task), "hours": f"{hours:g}"})


def _about(task: Task) -> dict[str, object]:
    """Return the step's titles {en, zh-CN} and the instance's title."""
    return {"step": task.step_title, "title": task.instance.title}


def _due(session: Session, task: Task) -> str:
    """Return the due time on the wall clock of the flow's business calendar."""
    if task.due_at is None:
        return ""
    calendar = deadlines.calendar_of(session, task.instance.version)
    return f"{task.due_at.astimezone(calendar.zone):%Y-%m-%d %H:%M} ({calendar.timezone})"


def _actor(session: Session, instance: FlowInstance) -> int | None:
    """Return who moved the instance on in this transaction, if a person did."""
    transaction, actors = session.info.get(_ACTING, (None, {}))
    if transaction is not session.get_transaction():
        return None
    return actors.get(instance.id)


def _candidates(session: Session, task: Task, limit: int) -> list[User] | None:
    """Return the active people a task waits for but its actor; None when more than limit."""
    actor = _actor(session, task.instance)
    if task.assignee is not None:
        return [task.assignee] if task.assignee.active and task.assignee.id != actor else []
    query = select(User).where(User.active, User.id != (actor or 0))
    if task.candidate_group_id is not None:
        query = query.join(group_member, group_member.c.user_id == User.id).where(
            group_member.c.group_id == task.candidate_group_id)
    elif task.candidate_org_unit_id is not None:
        query = query.where(User.org_unit_id == task.candidate_org_unit_id)
    elif task.candidate_role is not None:
        query = query.join(User.role_rows).where(UserRole.role == task.candidate_role)
    else:
        return []
    people = list(session.scalars(query.order_by(User.id).limit(limit + 1)))
    return None if len(people) > limit else people
