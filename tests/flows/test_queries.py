"""Who sees which task: each way into the inbox and a manager's team overdue, one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import jobs
from andon.catalog import current
from andon.flows import digests, queries
from andon.flows.models import FlowInstance, Task
from andon.identity.accounts import ensure_group, ensure_org_unit
from andon.identity.models import User, UserRole

NOW = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
LATE, LATER = NOW - timedelta(hours=1), NOW + timedelta(hours=5)


@pytest.fixture
def outsider(session: Session, people: dict[str, User]) -> User:
    """Return a person in no group and no org unit (only the role ``member``)."""
    user = User(username="outsider", display_name="Out Sider", password_hash="!",
                role_rows=[UserRole(role="member")])
    session.add(user)
    session.flush()
    return user


def instance(session: Session, starter: User) -> FlowInstance:
    """Add a bare running instance of the change request flow started by someone."""
    row = FlowInstance(version_id=current(session, "flow", "change_request").id,
                       title="T", state="{}", started_by_id=starter.id)
    session.add(row)
    session.flush()
    return row


def task(session: Session, on: FlowInstance, name: str, **fields: object) -> Task:
    """Add a task named by the way it reaches someone; open unless told otherwise."""
    row = Task(instance=on, spiff_id=name, step_id=name, step_name=name, **fields)
    session.add(row)
    session.flush()
    return row


def names(session: Session, query: object) -> set[str]:
    """Return the step ids of the tasks a query finds."""
    return {t.step_id for t in session.scalars(query)}  # type: ignore[call-overload]


def test_each_way_into_the_inbox_counts_and_nothing_else(session, people, outsider):
    me, other = people["engineer1"], people["engineer2"]
    engineers, unit = ensure_group(session, "engineers", ""), me.org_unit
    qa = ensure_group(session, "qa", "QA")
    run = instance(session, other)
    task(session, run, "mine", assignee_id=me.id, due_at=LATE)
    task(session, run, "group", candidate_group_id=engineers.id, due_at=LATER)
    task(session, run, "role", candidate_role="member")
    task(session, run, "unit", candidate_org_unit_id=unit.id, due_at=LATE)
    task(session, run, "claimed", candidate_group_id=engineers.id, assignee_id=other.id)
    task(session, run, "done", candidate_group_id=engineers.id, state="completed")
    task(session, run, "done-mine", assignee_id=me.id, state="completed")
    task(session, run, "elsewhere", candidate_group_id=qa.id, candidate_role="designer",
         candidate_org_unit_id=ensure_org_unit(session, "west", "West").id)
    session.commit()

    assert names(session, queries.inbox(me, now=NOW)) == {"mine", "group", "role", "unit"}
    assert queries.inbox_count(session, me) == 4
    assert names(session, queries.inbox(me, "mine", NOW)) == {"mine"}
    assert names(session, queries.inbox(me, "to_claim", NOW)) == {"group", "role", "unit"}
    assert names(session, queries.inbox(me, "overdue", NOW)) == {"mine", "unit"}
    assert names(session, queries.inbox(me, "due_soon", NOW)) == {"group"}
    assert names(session, queries.inbox(outsider, now=NOW)) == {"role"}  # no group, no unit
    assert queries.inbox_count(session, outsider) == 1
    assert names(session, queries.inbox(outsider, "mine", NOW)) == set()
    flows, _ = queries.inbox_choices(session, outsider)
    assert [v.definition.key for v in flows] == ["change_request"]


def test_team_overdue_finds_each_way_a_task_belongs_to_the_team(session, people, outsider):
    member, unit = people["engineer1"], people["engineer1"].org_unit
    ours, theirs = instance(session, member), instance(session, outsider)
    task(session, ours, "started", assignee_id=outsider.id, due_at=LATE - timedelta(hours=4))
    task(session, theirs, "held", assignee_id=people["engineer2"].id, due_at=LATE)
    task(session, theirs, "offered", candidate_org_unit_id=unit.id,
         due_at=LATE - timedelta(hours=2))
    task(session, theirs, "offered-claimed", candidate_org_unit_id=unit.id,
         assignee_id=outsider.id, due_at=LATE - timedelta(hours=3))
    task(session, ours, "both", assignee_id=member.id, due_at=LATE - timedelta(hours=1))
    task(session, theirs, "outside", assignee_id=outsider.id, due_at=LATE)
    task(session, theirs, "not-yet", candidate_org_unit_id=unit.id, due_at=LATER)
    task(session, ours, "done", assignee_id=member.id, due_at=LATE, state="completed")
    task(session, theirs, "other-unit", due_at=LATE,
         candidate_org_unit_id=ensure_org_unit(session, "west", "West").id)
    session.commit()

    units = queries.managed_units(session, people["pm"])
    found = [t.step_id for t in session.scalars(queries.team_overdue(units, NOW))]
    assert found == ["started", "offered-claimed", "offered", "both", "held"]  # by due time
    assert list(session.scalars(queries.team_overdue([], NOW))) == []


def test_digests_are_planned_once_a_day_for_every_manager(session, people, outsider):
    planned = select(jobs.WorkItem.key).where(jobs.WorkItem.kind == "digest")
    digests.plan(session, NOW, "Asia/Shanghai")
    digests.plan(session, NOW + timedelta(hours=1), "Asia/Shanghai")
    assert list(session.scalars(planned)) == [f"digest:2026-03-05:{people['pm'].id}"]
    ensure_org_unit(session, "west", "West").manager_id = outsider.id
    session.flush()
    digests.plan(session, NOW + timedelta(hours=2), "Asia/Shanghai")
    assert sorted(session.scalars(planned)) == sorted(
        f"digest:2026-03-05:{manager.id}" for manager in (people["pm"], outsider))
    digests.plan(session, NOW + timedelta(days=1), "Asia/Shanghai")
    assert len(list(session.scalars(planned))) == 4
