"""Demo data: an org unit, teams, six people and a little history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.flows import runtime
from andon.identity.accounts import create_user, ensure_group, ensure_org_unit, new_password
from andon.identity.models import User


@dataclass(frozen=True)
class Person:
    """A demo user."""

    username: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()


PEOPLE = [
    Person("admin", "Admin 管理员", ("admin", "designer")),
    Person("pm", "王芳 Wang Fang", ("member",), ("project-managers",)),
    Person("engineer1", "李雷 Li Lei", ("member",), ("engineers",)),
    Person("engineer2", "韩梅梅 Han Meimei", ("member",), ("engineers",)),
    Person("director", "陈静 Chen Jing", ("member",), ("delivery-directors",)),
    Person("leader", "赵强 Zhao Qiang", ("leader",)),
]
GROUPS = {"project-managers": "项目经理 Project managers", "engineers": "工程师 Engineers",
          "delivery-directors": "交付总监 Delivery directors"}


def create_people(session: Session, password: str | None = None) -> dict[str, str]:
    """Create the demo users that do not exist yet; return their new passwords."""
    unit = ensure_org_unit(session, "delivery-east", "华东交付中心 East delivery centre")
    groups = {key: ensure_group(session, key, name) for key, name in GROUPS.items()}
    passwords = {}
    for person in PEOPLE:
        if session.scalar(select(User).where(User.username == person.username)):
            continue
        passwords[person.username] = password or new_password()
        user = create_user(session, person.username, person.name, passwords[person.username],
                           person.roles, email=f"{person.username}@andon.example")
        user.org_unit = unit
        user.groups = [groups[key] for key in person.groups]
    session.flush()
    pm = session.scalar(select(User).where(User.username == "pm"))
    unit.manager_id = pm.id if pm else None
    return passwords


CHANGES = [
    ("engineer1", {"title": "增加报表导出 Add export to the weekly report",
                   "project": "PRJ-2026-014",
                   "reason": "客户要求 Customer request", "effort_days": "4",
                   "customer_contact": "Liu Yang"}),
    ("engineer2", {"title": "对接新计费系统 Integrate the new billing system",
                   "project": "PRJ-2026-021", "reason": "合同变更 Contract amendment",
                   "scope_change": "Two new interfaces and a data migration", "effort_days": "36",
                   "cost_impact": "180000", "schedule_impact_days": "15",
                   "customer_contact": "Sun Wei"}),
]


def seed_history(session: Session) -> int:
    """Start two change requests and approve the large one once; return how many."""
    users = {u.username: u for u in session.scalars(select(User))}
    instances = [runtime.start_instance(session, "change_request", users[who], dict(form))
                 for who, form in CHANGES]
    review = next(t for t in instances[1].tasks if t.state == "open")
    runtime.complete_task(session, review.id, users["pm"],
                          {"decision": "approve", "comment": "范围清楚 Scope is clear"})
    return len(instances)
