"""Read-side queries: the inbox, the instances a user may see, timelines."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import ColumnElement, Select

from andon import audit
from andon.audit import AuditEvent
from andon.catalog import DefinitionVersion
from andon.database import utcnow
from andon.flows.models import FlowInstance, Task
from andon.identity.models import OrgUnit, User
from andon.notifications.models import Notification

SEE_ALL_ROLES = ("admin", "leader")


def _offered_to(user: User) -> ColumnElement[bool]:
    """Return the condition that a task is offered to the user's groups, roles or org unit."""
    group_ids = [group.id for group in user.groups]
    return or_(Task.candidate_group_id.in_(group_ids) if group_ids else false(),
               Task.candidate_role.in_(sorted(user.roles)),
               Task.candidate_org_unit_id == user.org_unit_id if user.org_unit_id else false())


def _owned_by(user: User) -> ColumnElement[bool]:
    """Return the condition that a task is the user's or offered to the user unclaimed."""
    return or_(Task.assignee_id == user.id,
               and_(Task.assignee_id.is_(None), _offered_to(user)))


def inbox(user: User, view: str | None = None, now: datetime | None = None) -> Select[Task]:
    """Return a user's open tasks and their groups', soonest due first.

    ``view`` narrows it: ``overdue``, ``due_soon`` (within a day), ``mine`` or ``to_claim``.
    """
    now = now or utcnow()
    query = (select(Task).where(Task.state == "open", _owned_by(user))
             .options(selectinload(Task.instance).selectinload(FlowInstance.version)
                      .selectinload(DefinitionVersion.definition),
                      selectinload(Task.assignee), selectinload(Task.candidate_group))
             .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id))
    narrower = {"overdue": Task.due_at <= now,
                "due_soon": and_(Task.due_at > now, Task.due_at <= now + timedelta(days=1)),
                "mine": Task.assignee_id == user.id, "to_claim": Task.assignee_id.is_(None)}
    return query.where(narrower[view]) if view in narrower else query


def managed_units(session: Session, user: User) -> list[int]:
    """Return the ids of the org units the user manages."""
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.manager_id == user.id)))


def team_overdue(units: list[int], now: datetime | None = None) -> Select[Task]:
    """Return the overdue open tasks that people of these org units started or hold."""
    starter = select(User.id).where(User.org_unit_id.in_(units))
    return (select(Task).join(FlowInstance, Task.instance_id == FlowInstance.id)
            .where(Task.state == "open", Task.due_at <= (now or utcnow()),
                   or_(FlowInstance.started_by_id.in_(starter), Task.assignee_id.in_(starter),
                       Task.candidate_org_unit_id.in_(units)))
            .options(selectinload(Task.instance).selectinload(FlowInstance.version)
                     .selectinload(DefinitionVersion.definition),
                     selectinload(Task.assignee), selectinload(Task.candidate_group))
            .order_by(Task.due_at, Task.id))


def inbox_count(session: Session, user: User) -> int:
    """Return how many open tasks wait for the user."""
    query = select(func.count(Task.id)).where(Task.state == "open", _owned_by(user))
    return session.scalar(query) or 0


def _involved(user: User) -> ColumnElement[bool]:
    """Return the condition that the user, or a team of theirs, has a part in an instance."""
    part = exists().where(Task.instance_id == FlowInstance.id,
                          or_(Task.assignee_id == user.id, Task.completed_by_id == user.id,
                              _offered_to(user)))
    told = exists().where(Notification.instance_id == FlowInstance.id,
                          Notification.user_id == user.id)  # e.g. a manager an escalation named
    return or_(FlowInstance.started_by_id == user.id, part, told)


def visible_instances(user: User, status: str | None = None) -> Select[FlowInstance]:
    """Return the instances a user may open, newest first."""
    query = (select(FlowInstance)
             .options(selectinload(FlowInstance.version).selectinload(DefinitionVersion.definition),
                      selectinload(FlowInstance.started_by))
             .order_by(FlowInstance.started_at.desc(), FlowInstance.id.desc()))
    if not user.has_role(*SEE_ALL_ROLES):
        query = query.where(_involved(user))
    if status:
        query = query.where(FlowInstance.status == status)
    return query


def can_view(session: Session, instance: FlowInstance, user: User) -> bool:
    """Tell whether the user may open the instance."""
    if user.has_role(*SEE_ALL_ROLES):
        return True
    query = select(FlowInstance.id).where(FlowInstance.id == instance.id, _involved(user))
    return session.scalar(query) is not None


def timeline(session: Session, instance: FlowInstance) -> list[AuditEvent]:
    """Return what happened to an instance, oldest first."""
    return audit.history(session, "instance", instance.id)
