"""Read-side queries: the inbox, the instances a user may see, timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, and_, exists, false, func, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from andon import audit
from andon.audit import AuditEvent
from andon.catalog import Definition, DefinitionVersion
from andon.database import utcnow
from andon.flows.models import FlowInstance, Task
from andon.identity.models import OrgUnit, User
from andon.notifications.models import Notification

SEE_ALL_ROLES = ("admin", "leader")


class likely(FunctionElement[bool]):  # noqa: N801 - named as the SQL function
    """A condition SQLite is told is usually true, so its planner prefers a sharper index.

    Renders ``likely(condition)`` on SQLite and the bare condition elsewhere.
    """

    type = Boolean()
    name = "likely"
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it stands: no "= 1" on SQLite


@compiles(likely)
def _compile_likely(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    """Render the bare condition."""
    return compiler.process(element.clauses, **kw)


@compiles(likely, "sqlite")
def _compile_likely_sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    """Render SQLite's ``likely()`` around the condition."""
    return f"likely({compiler.process(element.clauses, **kw)})"


def _offered_to(user: User) -> ColumnElement[bool]:
    """Return the condition that a task is offered to the user's groups, roles or org unit."""
    return or_(*_offers(user))


def _offers(user: User) -> list[ColumnElement[bool]]:
    """Return one condition per way a task is offered to the user: groups, roles, org unit."""
    group_ids = [group.id for group in user.groups]
    return [Task.candidate_group_id.in_(group_ids) if group_ids else false(),
            Task.candidate_role.in_(sorted(user.roles)),
            Task.candidate_org_unit_id == user.org_unit_id if user.org_unit_id else false()]


def _owned_by(user: User, view: str | None = None) -> ColumnElement[bool]:
    """Return the condition that a task is open and the user's, or offered to them unclaimed.

    ``view`` ``mine`` keeps the user's own, ``to_claim`` the offered ones. Each arm of the
    ``OR`` states ``state = 'open'`` (and ``assignee_id IS NULL``) itself, so that SQLite,
    which plans an ``OR`` arm by arm, matches each offer to its partial ``ix_task_offered_*``
    index; ``likely()`` keeps it off ``(state, assignee_id)``, which would read every open
    unclaimed task. PostgreSQL plans the same bitmap scans as for the nested form.
    """
    arms: list[ColumnElement[bool]] = []
    if view != "to_claim":
        arms.append(and_(Task.state == "open", Task.assignee_id == user.id))
    if view != "mine":
        free = (likely(Task.state == "open"), likely(Task.assignee_id.is_(None)))
        arms += [and_(*free, offer) for offer in _offers(user)]
    return or_(false(), *arms)


SORTS = ("due", "newest", "oldest")


@dataclass(frozen=True)
class InboxFilter:
    """How a reader narrows and orders the inbox: a view, a flow, a project, a sort."""

    view: str | None = None
    flow: str | None = None
    project: str | None = None
    sort: str = "due"


def inbox(user: User, view: str | None = None, now: datetime | None = None,
          narrow: InboxFilter | None = None) -> Select[Task]:
    """Return a user's open tasks and their groups', soonest due first.

    ``view`` narrows it: ``overdue``, ``due_soon`` (within a day), ``mine`` or ``to_claim``;
    ``narrow`` adds a flow (its key), a project and the order (``due``, ``newest``, ``oldest``).
    """
    now, narrow = now or utcnow(), narrow or InboxFilter(view=view)
    query = (select(Task).where(_owned_by(user, narrow.view))
             .options(selectinload(Task.instance).selectinload(FlowInstance.version)
                      .selectinload(DefinitionVersion.definition),
                      selectinload(Task.assignee), selectinload(Task.candidate_group))
             .order_by(*_ORDERS.get(narrow.sort, _ORDERS["due"])))
    narrower = {"overdue": Task.due_at <= now,
                "due_soon": and_(Task.due_at > now, Task.due_at <= now + timedelta(days=1))}
    if narrow.view in narrower:
        query = query.where(narrower[narrow.view])
    if narrow.flow or narrow.project:
        query = query.join(FlowInstance, Task.instance_id == FlowInstance.id)
    if narrow.flow:
        query = query.where(FlowInstance.version_id.in_(
            select(DefinitionVersion.id).join(Definition)
            .where(Definition.kind == "flow", Definition.key == narrow.flow)))
    if narrow.project:
        query = query.where(FlowInstance.project == narrow.project)
    return query


_ORDERS = {"due": (Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id),
           "newest": (Task.created_at.desc(), Task.id.desc()),
           "oldest": (Task.created_at, Task.id)}


def inbox_choices(session: Session, user: User) -> tuple[list[DefinitionVersion], list[str]]:
    """Return the flows (their latest versions) and projects of a user's open tasks."""
    mine = (select(FlowInstance.version_id, FlowInstance.project)
            .join(Task, Task.instance_id == FlowInstance.id)
            .where(_owned_by(user)).distinct().subquery())
    definitions = select(DefinitionVersion.definition_id).where(
        DefinitionVersion.id.in_(select(mine.c.version_id)))
    flows = session.scalars(
        select(DefinitionVersion).where(DefinitionVersion.definition_id.in_(definitions))
        .options(selectinload(DefinitionVersion.definition))
        .order_by(DefinitionVersion.definition_id, DefinitionVersion.number.desc()))
    latest: dict[int, DefinitionVersion] = {}
    for version in flows:
        latest.setdefault(version.definition_id, version)
    projects = session.scalars(select(mine.c.project).where(mine.c.project.is_not(None))
                               .distinct().order_by(mine.c.project))
    return list(latest.values()), [project for project in projects if project]


def managed_units(session: Session, user: User) -> list[int]:
    """Return the ids of the org units the user manages."""
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.manager_id == user.id)))


def team_overdue(units: list[int], now: datetime | None = None) -> Select[Task]:
    """Return the overdue open tasks the units' people started or hold, or offered to the units.

    Each of the three ways is its own indexed query: an ``OR`` across the instance and
    the task made PostgreSQL scan every instance.
    """
    overdue = (Task.state == "open", Task.due_at <= (now or utcnow()))
    members = select(User.id).where(User.org_unit_id.in_(units))
    started = (select(Task.id).join(FlowInstance, Task.instance_id == FlowInstance.id)
               .where(*overdue, FlowInstance.started_by_id.in_(members)))
    held = select(Task.id).where(*overdue, Task.assignee_id.in_(members))
    offered = select(Task.id).where(*overdue, Task.candidate_org_unit_id.in_(units))
    return (select(Task).where(Task.id.in_(union(started, held, offered)))
            .options(selectinload(Task.instance).selectinload(FlowInstance.version)
                     .selectinload(DefinitionVersion.definition),
                     selectinload(Task.assignee), selectinload(Task.candidate_group))
            .order_by(Task.due_at, Task.id))


def inbox_count(session: Session, user: User) -> int:
    """Return how many open tasks wait for the user."""
    query = select(func.count(Task.id)).where(_owned_by(user))
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
