"""Owner rules: who may act on a human step.

A step names its owner in its ``owner`` property; without one, its lane names
a group (by key or name). The same parser checks a rule when a flow is loaded
and resolves it when the step opens.

| rule | owner |
| --- | --- |
| ``starter`` | the person who started the instance |
| ``user:<username>`` | that user |
| ``group:<key>`` | members of the group, who claim the task |
| ``role:<role>`` | holders of the role, who claim the task |
| ``orgunit:<key>`` | members of the org unit, who claim the task |
| ``field:<name>`` | the user whose user name the instance data holds in that field |
| ``field:<item>.<key>`` | the same, inside a value: e.g. a multi-instance loop's item |
| ``record:<ref>.<name>`` | the user named in field ``<name>`` of the record that the record |
| | reference field ``<ref>`` points to: e.g. ``record:project.project_manager`` |
| ``manager:starter`` | the manager of the starter's org unit |
| ``manager:assignee`` | the manager of the previous assignee (in escalations: the task's) |
| ``lane`` (or no rule) | the group named like the step's lane |

A step's ``cc`` property lists rules like these, separated by commas, naming
the people copied on the step (抄送): they are told when it opens and may
follow the instance. ``lane`` makes no sense there and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from andon.errors import AndonError
from andon.flows.elements import say
from andon.forms.models import Record
from andon.i18n import N_
from andon.identity.models import ROLES, Group, OrgUnit, User, UserRole

RULE = re.compile(
    r"^(?:(?P<kind>role|user|group|manager|orgunit|field|record):(?P<value>[\w.@-]+)|starter|lane)$")


@dataclass(frozen=True)
class Rule:
    """A parsed owner rule."""

    kind: str  # starter, lane, user, group, role, manager, orgunit, field, record
    value: str = ""


@dataclass(frozen=True)
class Owner:
    """The resolved owner of a task: one person, or candidates."""

    assignee_id: int | None = None
    group_id: int | None = None
    role: str | None = None
    org_unit_id: int | None = None


def parse(text: str | None, lane: str | None) -> Rule:
    """Parse a step's owner rule; raise ValueError saying what is wrong."""
    text = (text or "").strip() or "lane"
    match = RULE.match(text)
    if match is None:
        raise ValueError(say(N_("owner %(rule)s is not starter, lane, user:…, group:…, role:…, "
                                "orgunit:…, field:…, record:… or manager:starter|assignee"),
                             {"rule": repr(text)}))
    rule = Rule(match["kind"], match["value"]) if match["kind"] else Rule(text)
    if rule.kind == "lane" and not lane:
        raise ValueError(say(N_("the step has no owner rule and is in no named lane"), {}))
    if rule.kind == "role" and rule.value not in ROLES:
        raise ValueError(say(N_("unknown role %(role)s; roles are %(roles)s"),
                             {"role": repr(rule.value), "roles": ", ".join(ROLES)}))
    if rule.kind == "record" and rule.value.count(".") != 1:
        raise ValueError(say(N_("record: is followed by a record reference field, a dot and a "
                                "person field of that record, e.g. record:project.project_manager"),
                             {}))
    if rule.kind == "manager" and rule.value not in ("starter", "assignee"):
        raise ValueError(say(N_("manager: is followed by starter or assignee"), {}))
    return Rule("group", lane or "") if rule.kind == "lane" else rule


def parse_copies(text: str | None) -> list[Rule]:
    """Parse a step's cc property (rules separated by commas); raise ValueError if one is bad."""
    rules = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part == "lane":
            raise ValueError(say(N_("cc lists people: lane is not allowed there"), {}))
        try:
            rules.append(parse(part, None))
        except ValueError as error:
            raise ValueError(f"cc: {error}") from None
    return rules


def missing(session: Session, rule: Rule) -> str | None:
    """Say which user or group a rule names that does not exist, if any."""
    if rule.kind == "user" and _user(session, rule.value) is None:
        return say(N_("no user named %(name)s"), {"name": repr(rule.value)})
    if rule.kind == "group" and _group(session, rule.value) is None:
        return say(N_("no group with the key or name %(name)s"), {"name": repr(rule.value)})
    if rule.kind == "orgunit" and _unit(session, rule.value) is None:
        return say(N_("no org unit with the key %(name)s"), {"name": repr(rule.value)})
    return None


def resolve(session: Session, text: str | None, lane: str | None, starter: User,
            previous: User | None = None, data: Mapping[str, Any] | None = None) -> Owner:
    """Resolve a step's owner rule to an assignee or candidates."""
    try:
        rule = parse(text, lane)
    except ValueError as error:
        raise AndonError(N_("The step's owner rule is not valid: %(detail)s."),
                         detail=str(error)) from None
    if rule.kind == "starter":
        return Owner(assignee_id=starter.id)
    if rule.kind == "role":
        return Owner(role=rule.value)
    if rule.kind == "orgunit":
        unit = _unit(session, rule.value)
        if unit is None:
            raise AndonError(N_("The owner rule names no known org unit: %(name)s."),
                             name=rule.value)
        return Owner(org_unit_id=unit.id)
    if rule.kind in ("field", "record"):
        named = _user(session, _named(session, rule, data))
        if named is None:
            raise AndonError(N_("The field %(field)s names no active user."), field=rule.value)
        return Owner(assignee_id=named.id)
    if rule.kind == "manager":
        manager = _manager(previous if rule.value == "assignee" and previous else starter)
        if manager is None:
            raise AndonError(N_("There is no manager to give this step to."))
        return Owner(assignee_id=manager.id)
    found = _user(session, rule.value) if rule.kind == "user" else _group(session, rule.value)
    if found is None:
        raise AndonError(N_("The owner rule names no known user or group: %(name)s."),
                         name=rule.value)
    return Owner(assignee_id=found.id) if rule.kind == "user" else Owner(group_id=found.id)


def people(session: Session, text: str | Rule, starter: User, assignee: User | None,
           data: Mapping[str, Any] | None = None) -> list[User]:
    """Return the people a rule names, for notifying, copying or reassigning (escalations)."""
    rule = text if isinstance(text, Rule) else parse(text, None)
    if rule.kind == "starter":
        return [starter]
    if rule.kind == "orgunit":
        unit = _unit(session, rule.value)
        return list(session.scalars(select(User).where(User.org_unit_id == unit.id,
                                                       User.active))) if unit else []
    if rule.kind in ("field", "record"):
        named = _user(session, _named(session, rule, data))
        return [named] if named else []
    if rule.kind == "manager":
        manager = _manager(assignee if rule.value == "assignee" and assignee else starter)
        return [manager] if manager else []
    if rule.kind == "role":
        return list(session.scalars(select(User).join(User.role_rows).where(
            UserRole.role == rule.value, User.active)))
    if rule.kind == "user":
        user = _user(session, rule.value)
        return [user] if user else []
    group = _group(session, rule.value)
    return [member for member in group.members if member.active] if group else []


def field_value(data: Mapping[str, Any] | None, path: str) -> str:
    """Return the text at a field path (``reviewer`` or ``item.user``) of the data, or ""."""
    value: Any = data or {}
    for name in path.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def _named(session: Session, rule: Rule, data: Mapping[str, Any] | None) -> str:
    """Return the user name a field or record rule points to, or ""."""
    if rule.kind == "field":
        return field_value(data, rule.value)
    reference, name = rule.value.split(".")
    record_id = (data or {}).get(reference)
    try:
        record = session.get(Record, int(record_id)) if record_id not in (None, "") else None
    except (TypeError, ValueError):
        return ""
    return field_value(record.data, name) if record is not None else ""


def _manager(user: User) -> User | None:
    """Return the manager of a person's org unit, if any."""
    return user.org_unit.manager if user.org_unit else None


def _user(session: Session, username: str) -> User | None:
    """Return the active user with this name."""
    return session.scalar(select(User).where(User.username == username, User.active))


def _unit(session: Session, key: str) -> OrgUnit | None:
    """Return the org unit with this key."""
    return session.scalar(select(OrgUnit).where(OrgUnit.key == key))


def _group(session: Session, name: str) -> Group | None:
    """Return the group with this key or name."""
    return session.scalar(select(Group).where(or_(Group.key == name, Group.name == name)))
