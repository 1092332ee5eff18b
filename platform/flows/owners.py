"""Owner rules: who may act on a human step.

A step names its owner in its ``owner`` property; without one, its lane names
a group (by key or name).

| rule | owner |
| --- | --- |
| ``starter`` | the person who started the instance |
| ``user:<username>`` | that user |
| ``group:<key>`` | members of the group, who claim the task |
| ``role:<role>`` | holders of the role, who claim the task |
| ``manager:starter`` | the manager of the starter's org unit |
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from andon.errors import AndonError
from andon.i18n import N_
from andon.identity.models import ROLES, Group, User


@dataclass(frozen=True)
class Owner:
    """The resolved owner of a task: one person, or candidates."""

    assignee_id: int | None = None
    group_id: int | None = None
    role: str | None = None


def resolve(session: Session, rule: str | None, lane: str | None, starter: User) -> Owner:
    """Resolve an owner rule (or the lane) to an assignee or candidates."""
    rule = (rule or "").strip()
    if not rule:
        if not lane:
            raise AndonError(N_("This step has no owner rule and no lane."))
        return Owner(group_id=_group(session, lane).id)
    kind, _, value = rule.partition(":")
    if kind == "starter":
        return Owner(assignee_id=starter.id)
    if kind == "user":
        user = session.scalar(select(User).where(User.username == value))
        if user is None:
            raise AndonError(N_("The owner rule names an unknown user: %(name)s."), name=value)
        return Owner(assignee_id=user.id)
    if kind == "group":
        return Owner(group_id=_group(session, value).id)
    if kind == "role" and value in ROLES:
        return Owner(role=value)
    if kind == "manager" and value == "starter":
        manager = starter.org_unit.manager_id if starter.org_unit else None
        if manager is None:
            raise AndonError(N_("The starter's org unit has no manager."))
        return Owner(assignee_id=manager)
    raise AndonError(N_("Unknown owner rule: %(rule)s."), rule=rule)


def _group(session: Session, name: str) -> Group:
    """Return the group with this key or name."""
    group = session.scalar(select(Group).where(or_(Group.key == name, Group.name == name)))
    if group is None:
        raise AndonError(N_("The owner rule names an unknown group: %(name)s."), name=name)
    return group
