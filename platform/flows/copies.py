"""Copying people on a step (抄送): they are told who it waits for, and may follow it.

A step's ``cc`` property names people by owner rules (see ``owners``); when its
task opens each of them gets a notification about it, which also lets them
open the instance (``queries.can_view`` counts notified people as involved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from andon import audit
from andon.flows import owners
from andon.flows.models import Task
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.notifications.center import notify


def copy_step(session: Session, task: Task, cc: str | None, data: Mapping[str, Any]) -> list[User]:
    """Tell the people a step's cc rules name that its task is open; return them."""
    rules = owners.parse_copies(cc)
    if not rules:
        return []
    instance = task.instance
    found: dict[int, User] = {}
    for rule in rules:
        for person in owners.people(session, rule, instance.started_by, None, data):
            if person.active and person.id != task.assignee_id:
                found.setdefault(person.id, person)
    message = Message(N_("You are copied: “%(step)s” of “%(title)s” is waiting for %(owner)s"),
                      {"step": task.step_title, "title": instance.title,
                       "owner": owner_name(task)})
    for person in found.values():
        notify(session, person, "cc", message, f"cc:{task.id}:{person.id}",
               instance_id=instance.id, task_id=task.id)
    if found:
        audit.record(session, "task.copied", "instance", instance.id, None, task=task.id,
                     step_title=task.step_title,
                     to=", ".join(p.display_name for p in found.values()))
    return list(found.values())


def owner_name(task: Task) -> str:
    """Name whom a task waits for: its assignee, or its group, org unit or role."""
    if task.assignee is not None:
        return task.assignee.display_name
    if task.candidate_group is not None:
        return task.candidate_group.name
    if task.candidate_org_unit is not None:
        return task.candidate_org_unit.name
    return task.candidate_role or ""
