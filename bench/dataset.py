"""Generate a large, realistic Andon database fast: people, instances, tasks, work items.

Rows go in by COPY on PostgreSQL and by bulk Core inserts on SQLite. The engine
state of generated instances is a stub (the queries measured never read it);
bench/long_flows.py measures real state sizes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, select, text
from sqlalchemy.orm import Session

from andon import catalog, jobs
from andon.database import Base
from andon.flows.models import FlowInstance, Task
from andon.identity.models import Group, OrgUnit, User, UserRole, group_member
from andon.notifications.models import Notification

TASKS_PER_INSTANCE = 4
STEPS = ("submit", "pm_review", "director_approval", "finance_check", "handover")


@dataclass
class Shape:
    """How big the generated organisation and its history are."""

    tasks: int = 1_000_000
    open: int = 100_000
    users: int = 5_000
    groups: int = 500
    units: int = 100
    due_now: int = 500  # pending work items already due (a worker that keeps up)
    wake_now: int = 200  # running instances whose timer is due
    seed: int = 7
    late: float = 0.0  # share of completed tasks with a due time that were completed late
    typical: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def quick(cls) -> Shape:
        """Return a shape for a one-minute smoke run."""
        return cls(tasks=40_000, open=4_000, users=500, groups=50, units=10, due_now=50,
                   wake_now=20)


def bulk_load(connection: Connection, table: Table, columns: list[str],
              rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert rows fast: COPY on PostgreSQL, raw executemany on SQLite; return how many.

    On PostgreSQL the foreign-key triggers are off for the transaction (the rows
    are consistent by construction), as a restore would do.
    """
    jsons = {index for index, name in enumerate(columns) if isinstance(table.c[name].type, JSON)}
    names = ", ".join(f'"{name}"' for name in columns)
    count = 0
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(_encoded(row, jsons))
                count += 1
        return count
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608 (names from the models)
    iterator = iter(rows)
    while chunk := list(islice(iterator, 20_000)):
        connection.exec_driver_sql(sql, [tuple(_sqlite_value(value) for value in
                                               _encoded(row, jsons)) for row in chunk])
        count += len(chunk)
    return count


def _encoded(row: tuple[Any, ...], jsons: set[int]) -> list[Any]:
    """Return a row with its JSON columns as text."""
    return [json.dumps(value) if index in jsons and value is not None else value
            for index, value in enumerate(row)]


def _sqlite_value(value: Any) -> Any:
    """Return a value as SQLAlchemy stores it on SQLite (UTC datetimes as text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _next_id(connection: Connection, table: Table) -> int:
    """Return the first free id of a table."""
    return int(connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def people(connection: Connection, shape: Shape, now: datetime) -> dict[str, Any]:
    """Create org units, groups and users with roles; return ids for the task owners."""
    rng = random.Random(shape.seed)  # noqa: S311 (reproducible data, no secrets)
    tables = Base.metadata.tables
    unit0, group0, user0 = (_next_id(connection, tables[name])
                            for name in ("org_unit", "group", "user"))
    units = list(range(unit0, unit0 + shape.units))
    groups = list(range(group0, group0 + shape.groups))
    users = list(range(user0, user0 + shape.users))
    bulk_load(connection, OrgUnit.__table__, ["id", "key", "name"],  # type: ignore[arg-type]
              ((u, f"unit-{u}", f"Unit {u}") for u in units))
    bulk_load(connection, Group.__table__, ["id", "key", "name"],  # type: ignore[arg-type]
              ((g, f"group-{g}", f"Group {g}") for g in groups))
    homes = {u: rng.choice(units) for u in users}
    bulk_load(connection, User.__table__,  # type: ignore[arg-type]
              ["id", "username", "display_name", "email", "password_hash", "active",
               "org_unit_id", "created_at"],
              ((u, f"user{u}", f"User {u}", f"user{u}@bench.example", "!", True, homes[u], now)
               for u in users))
    memberships = {u: rng.sample(groups, 2) for u in users}
    bulk_load(connection, group_member, ["group_id", "user_id"],
              ((g, u) for u in users for g in memberships[u]))
    roles = {u: ["member"] + [r for r, share in (("leader", .05), ("designer", .05),
                                                 ("admin", .01)) if rng.random() < share]
             for u in users}
    bulk_load(connection, UserRole.__table__, ["user_id", "role"],  # type: ignore[arg-type]
              ((u, r) for u in users for r in roles[u]))
    managers = rng.sample(users, len(units))
    for unit, manager in zip(units, managers, strict=True):
        connection.execute(OrgUnit.__table__.update().where(OrgUnit.id == unit)  # type: ignore[attr-defined]
                           .values(manager_id=manager))
    typical = next(u for u in users if roles[u] == ["member"] and u not in managers)
    return {"units": units, "groups": groups, "users": users, "homes": homes,
            "typical": typical, "manager": managers[units.index(homes[typical])]}


def _owner(rng: random.Random, org: dict[str, Any], open_: bool) -> tuple[Any, ...]:
    """Return (assignee, group, role, org unit) of one task."""
    draw = rng.random()
    if draw < .55:
        return rng.choice(org["users"]), None, None, None
    if draw < .85:
        claimed = not open_ or rng.random() < .3
        return (rng.choice(org["users"]) if claimed else None), rng.choice(org["groups"]), \
            None, None
    if draw < .95:
        return None, None, None, rng.choice(org["units"])
    return None, None, rng.choice(("leader", "designer")), None


def history(connection: Connection, shape: Shape, org: dict[str, Any], versions: list[int],
            now: datetime, projects: Sequence[int] = ()) -> dict[str, int]:
    """Create instances, their tasks, work items and notifications; return row counts.

    With ``projects`` (record ids), four instances in five belong to one of them.
    """
    rng = random.Random(shape.seed + 1)  # noqa: S311
    instances = shape.tasks // TASKS_PER_INSTANCE
    first_instance = _next_id(connection, FlowInstance.__table__)  # type: ignore[arg-type]
    first_task = _next_id(connection, Task.__table__)  # type: ignore[arg-type]
    plan = _plan(rng, shape, org, instances, first_instance, first_task, now)
    counts = {"instances": bulk_load(connection, FlowInstance.__table__,  # type: ignore[arg-type]
                                     INSTANCE_COLUMNS, _instances(rng, shape, org, versions,
                                                                  plan, now, projects))}
    counts["tasks"] = bulk_load(connection, Task.__table__,  # type: ignore[arg-type]
                                TASK_COLUMNS, (task for task, _ in plan["tasks"]))
    counts["work items"] = bulk_load(connection, jobs.WorkItem.__table__,  # type: ignore[arg-type]
                                     ITEM_COLUMNS, _items(shape, plan, now))
    counts["notifications"] = bulk_load(connection, Notification.__table__,  # type: ignore[arg-type]
                                        NOTE_COLUMNS, _notes(rng, plan, now))
    return counts


INSTANCE_COLUMNS = ["id", "version_id", "title", "status", "state", "data", "started_by_id",
                    "started_at", "ended_at", "wake_at", "updated_at", "lock_version", "project"]
TASK_COLUMNS = ["id", "instance_id", "spiff_id", "step_id", "step_name", "step_title",
                "form_key", "due_at", "escalation_level", "assignee_id", "candidate_group_id",
                "candidate_role", "candidate_org_unit_id", "state", "created_at",
                "completed_at", "completed_by_id", "data"]
ITEM_COLUMNS = ["kind", "key", "due_at", "state", "payload", "instance_id", "task_id",
                "attempts", "created_at", "done_at"]
NOTE_COLUMNS = ["key", "user_id", "kind", "message", "params", "instance_id", "task_id",
                "created_at", "read_at", "email_state"]


def _plan(rng: random.Random, shape: Shape, org: dict[str, Any], instances: int,
          first_instance: int, first_task: int, now: datetime) -> dict[str, Any]:
    """Lay out the instances' start times and their task rows (running ones first)."""
    started, tasks = [], []
    task_id = first_task
    for number in range(instances):
        running = number < shape.open
        begin = now - timedelta(days=rng.uniform(0, 10) if running else rng.uniform(10, 365))
        started.append(begin)
        for position in range(TASKS_PER_INSTANCE):
            open_ = running and position == TASKS_PER_INSTANCE - 1
            created = begin + timedelta(hours=position * 6)
            due = None
            if rng.random() < .7:
                due = (now + timedelta(hours=rng.uniform(-72, 168))) if open_ \
                    else created + timedelta(days=2)
            done = created + timedelta(hours=3)
            if shape.late and due is not None and not open_ and rng.random() < shape.late:
                done = due + timedelta(hours=rng.uniform(1, 96))
            assignee, group, role, unit = _owner(rng, org, open_)
            done_by = None if open_ else (assignee or rng.choice(org["users"]))
            step = STEPS[position % len(STEPS)]
            tasks.append(((task_id, first_instance + number, f"{task_id:032x}", step,
                           step.replace("_", " ").title(), {"en": step, "zh-CN": step},
                           "change_review", due, 0, assignee if open_ else done_by, group, role,
                           unit, "open" if open_ else "completed", created,
                           None if open_ else done, done_by,
                           {} if open_ else {"decision": "approve"}), open_))
            task_id += 1
    return {"started": started, "tasks": tasks, "first_instance": first_instance}


def _instances(rng: random.Random, shape: Shape, org: dict[str, Any], versions: list[int],
               plan: dict[str, Any], now: datetime, projects: Sequence[int] = ()
               ) -> Iterator[tuple[Any, ...]]:
    """Yield instance rows: running ones first, a few with a timer due now."""
    for number, begin in enumerate(plan["started"]):
        running = number < shape.open
        wake = None
        if number < shape.wake_now:
            wake = now - timedelta(seconds=rng.uniform(1, 60))
        elif running and rng.random() < .05:
            wake = now + timedelta(hours=rng.uniform(1, 240))
        project = str(rng.choice(projects)) if projects and rng.random() < .8 else None
        yield (plan["first_instance"] + number, rng.choice(versions), f"Change {number}",
               "running" if running else "completed", "{}", {"title": f"Change {number}"},
               rng.choice(org["users"]), begin, None if running else begin + timedelta(days=2),
               wake, begin, 1, project)


def _items(shape: Shape, plan: dict[str, Any], now: datetime) -> Iterator[tuple[Any, ...]]:
    """Yield work items: each deadline's reminder and escalation, a few of them due now."""
    due_now = shape.due_now
    for row, open_ in plan["tasks"]:
        task_id, instance_id, due, created = row[0], row[1], row[7], row[14]
        if due is None:
            continue
        for kind, at in (("remind", due - timedelta(hours=4)), ("escalate", due)):
            if not open_:
                state = "done" if kind == "remind" else "cancelled"
            elif at > now:
                state = "pending"
            elif due_now > 0:
                state, at, due_now = "pending", now - timedelta(seconds=30), due_now - 1
            else:
                state = "done"  # the worker kept up
            yield (kind, f"{kind}:{task_id}:0", at, state, {"level": 0, "index": 0},
                   instance_id, task_id, 0 if state == "pending" else 1, created,
                   None if state != "done" else at)


def _notes(rng: random.Random, plan: dict[str, Any], now: datetime
           ) -> Iterator[tuple[Any, ...]]:
    """Yield a notification for every other task, most of them read."""
    for row, open_ in plan["tasks"][::2]:
        task_id, instance_id, created = row[0], row[1], row[14]
        person = row[9] or row[16]
        if person is None:
            continue
        unread = open_ and rng.random() < .5
        yield (f"created:{task_id}", person, "task", "A task waits for you", {}, instance_id,
               task_id, created, None if unread else created + timedelta(hours=1), "none")


def flow_versions(session: Session, flows: int) -> list[int]:
    """Copy the shipped flow's version under several keys; return the version ids."""
    shipped = catalog.current(session, "flow", "change_request")
    ids = [shipped.id]
    for number in range(1, flows):
        definition = catalog.Definition(kind="flow", key=f"bench_flow_{number}")
        session.add(definition)
        session.flush()
        copy = catalog.DefinitionVersion(
            definition_id=definition.id, number=1, status="published", title=shipped.title,
            source=shipped.source,
            compiled=shipped.compiled, checksum=shipped.checksum)
        session.add(copy)
        session.flush()
        ids.append(copy.id)
    return ids


def analyze(connection: Connection) -> None:
    """Refresh the planner's statistics; on PostgreSQL vacuum the big tables too.

    Autovacuum would do so after a load this size; without it no page is marked
    all-visible, and the planner passes over index-only scans.
    """
    if connection.dialect.name == "postgresql":
        with connection.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.execute(text('VACUUM flow_instance, task, "user", work_item'))
    connection.execute(text("ANALYZE"))
