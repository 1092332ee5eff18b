"""Measure the inbox and the worker's due scans on a large database.

    .venv/bin/python bench/scale.py [--tasks 1000000] [--open 100000] [--rounds 30]
        [--database postgresql,sqlite] [--quick]

Generates an organisation (5,000 people in 500 groups, 100 org units, roles)
and its history (instances of several flows, four tasks each, mostly
completed; the open ones assigned, or offered to groups, roles and org units;
reminders and escalations as work items, a few due now), then times the
queries the app runs for a typical person (no special role, two groups, one
org unit) and for their manager, and the worker's scans for due timers and due
work items. Prints p50/p95 and the key lines of each query's plan.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset  # noqa: E402
from common import ROOT, Stopwatch, measure, scratch_database, summary  # noqa: E402

from andon import jobs  # noqa: E402
from andon.database import make_engine, make_session_factory, utcnow  # noqa: E402
from andon.demo import create_people  # noqa: E402
from andon.flows import digests, queries  # noqa: E402
from andon.flows.models import FlowInstance, Task  # noqa: E402
from andon.identity.models import User  # noqa: E402
from andon.loader import load_folder  # noqa: E402
from andon.migrate import upgrade  # noqa: E402
from andon.notifications.center import unread_count  # noqa: E402

Case = tuple[str, Callable[[], Any], Select[Any] | None]  # name, action, statement to explain
PLAN_WORDS = ("Scan", "SCAN", "SEARCH", "Sort", "USE TEMP B-TREE", "MULTI-INDEX")


def explain(connection: Connection, statement: Select[Any]) -> list[str]:
    """Return the key lines of a statement's plan: how each table is reached, and sorts.

    On PostgreSQL the statement runs (EXPLAIN ANALYZE): each line carries the rows
    it produced, and the last one the time the database took.
    """
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, TIMING OFF) {compiled}",
                                          compiled.params)
        lines = [row[0] for row in rows]
    else:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        lines = [row[3] for row in rows]
    key = [re.sub(r"\s*\(cost=[^)]*\)", "", line.strip().lstrip("-> "))
           .replace("(actual rows=", "(rows=").replace(" loops=1)", ")")
           for line in lines
           if any(word in line for word in PLAN_WORDS) and "Method" not in line]
    total = [line.split(":")[1].strip() for line in lines if line.startswith("Execution Time")]
    return key + [f"database {total[0]}"] if total else key


def due_instances(now: datetime, limit: int = 50) -> Select[Any]:
    """Return flows.worker.run_due's scan (the same statement, without waking anyone)."""
    return (select(FlowInstance)
            .where(FlowInstance.status == "running", FlowInstance.wake_at <= now)
            .order_by(FlowInstance.wake_at).limit(limit).with_for_update(skip_locked=True))


def claim_scan(now: datetime) -> Select[Any]:
    """Return jobs.claim's scan for due work items."""
    return (select(jobs.WorkItem.id)
            .where(jobs.WorkItem.state == "pending", jobs.WorkItem.due_at <= now,
                   (jobs.WorkItem.lease_until.is_(None)) | (jobs.WorkItem.lease_until < now))
            .order_by(jobs.WorkItem.due_at, jobs.WorkItem.id).limit(20)
            .with_for_update(skip_locked=True))


def build(sessions: sessionmaker[Session], shape: dataset.Shape, now: datetime
          ) -> dict[str, Any]:
    """Fill the database; return the ids of the typical person and their manager."""
    with sessions() as session:
        create_people(session, "bench-password")
        load_folder(session, ROOT / "definitions")
        versions = dataset.flow_versions(session, 5)
        session.commit()
        with Stopwatch(f"generating {shape.users:,} people, {shape.tasks:,} tasks "
                       f"({shape.open:,} open)"):
            connection = session.connection()
            org = dataset.people(connection, shape, now)
            counts = dataset.history(connection, shape, org, versions, now)
            session.commit()
        with Stopwatch("planning digests, ANALYZE"):
            digests.plan(session, now, "Asia/Shanghai")
            session.commit()
            dataset.analyze(session.connection())
            session.commit()
    print("  rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    return org


def inbox_timings(sessions: sessionmaker[Session], org: dict[str, Any], now: datetime,
                  rounds: int) -> None:
    """Time what the inbox page and the navigation run, and print their plans."""
    with sessions() as session:
        person = session.get(User, org["typical"])
        manager = session.get(User, org["manager"])
        assert person is not None and manager is not None
        units = queries.managed_units(session, manager)
        sizes = {view: len(session.scalars(queries.inbox(person, view, now)).all())
                 for view in (None, "mine", "to_claim", "due_soon", "overdue")}
        print(f"  typical person {person.username}: {sizes[None]} open tasks "
              f"(mine {sizes['mine']}, to claim {sizes['to_claim']}, due soon "
              f"{sizes['due_soon']}, overdue {sizes['overdue']}); manager {manager.username} "
              f"of {len(units)} unit(s)")
        for name, action, statement in inbox_cases(session, person, manager, units, now):
            samples = measure(partial(_fresh, session, action, [person, manager]), rounds)
            print(summary(name, samples))
            if statement is not None:
                print_plan(session.connection(), statement)


def inbox_cases(session: Session, person: User, manager: User, units: list[int],
                now: datetime) -> list[Case]:
    """Return the inbox page's queries, the navigation's counts and the manager's view."""
    cases: list[Case] = [
        (f"inbox {view or 'all'}", partial(_listed, session, queries.inbox(person, view, now)),
         queries.inbox(person, view, now))
        for view in (None, "mine", "to_claim", "due_soon", "overdue")]
    count = select(func.count(Task.id)).where(queries._owned_by(person))
    return cases + [
        ("nav: inbox count", lambda: queries.inbox_count(session, person), count),
        ("nav: unread notifications", lambda: unread_count(session, person.id), None),
        ("managed units", lambda: queries.managed_units(session, manager), None),
        ("team overdue (manager)", partial(_listed, session, queries.team_overdue(units, now)),
         queries.team_overdue(units, now))]


def _listed(session: Session, statement: Select[Any]) -> list[Any]:
    """Load a query's objects as the page does."""
    return list(session.scalars(statement))


def _fresh(session: Session, action: Callable[[], Any], keep: list[User]) -> None:
    """Run an action, then forget what it loaded (as the next request would)."""
    action()
    session.expunge_all()
    session.add_all(keep)


def _undone(session: Session, action: Callable[[], Any]) -> None:
    """Run an action and roll back what it did."""
    action()
    session.rollback()


def print_plan(connection: Connection, statement: Select[Any]) -> None:
    """Print a statement's plan lines under its figures."""
    print("      plan: " + " | ".join(explain(connection, statement)))


def due_scan_timings(sessions: sessionmaker[Session], now: datetime, rounds: int) -> None:
    """Time the worker's scans for due timers and due work items (rolled back each time)."""
    with sessions() as session:
        cases: list[Case] = [
            ("run_due: due instances", lambda: session.scalars(due_instances(now)).all(),
             due_instances(now)),
            ("jobs.claim (20 items)", lambda: jobs.claim(session, now, "bench"),
             claim_scan(now)),
            ("digests.plan (steady)", lambda: digests.plan(session, now, "Asia/Shanghai"),
             None)]
        for name, action, statement in cases:
            found = action()
            session.rollback()
            samples = measure(partial(_undone, session, action), rounds)
            print(summary(name, samples) + (f"   ({len(found)} found)" if found else ""))
            if statement is not None:
                print_plan(session.connection(), statement)
                session.rollback()


OLD_INDEXES = {"group": "candidate_group_id", "role": "candidate_role",
               "org_unit": "candidate_org_unit_id"}


def restore_old_indexes(sessions: sessionmaker[Session]) -> None:
    """Put back the inbox indexes migration 42c7ffe5323e replaced, to measure before it."""
    with sessions() as session:
        for name, column in OLD_INDEXES.items():
            session.execute(text(f"DROP INDEX ix_task_offered_{name}"))
            session.execute(text(f"CREATE INDEX ix_task_state_{name} ON task (state, {column})"))
        session.execute(text("DROP INDEX ix_task_open_due"))
        session.execute(text("CREATE INDEX ix_task_due_at ON task (due_at)"))
        session.commit()
        dataset.analyze(session.connection())
        session.commit()


def run(kind: str, shape: dataset.Shape, rounds: int, before: bool) -> None:
    """Build one database, measure it, print, and drop it."""
    with scratch_database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        print(f"== {kind}")
        now = utcnow()
        org = build(sessions, shape, now)
        print(f"inbox and navigation ({rounds} rounds each, ORM objects loaded as the page does)")
        inbox_timings(sessions, org, now, rounds)
        if before:
            restore_old_indexes(sessions)
            print("the same before migration 42c7ffe5323e: indexes on (state, candidate_*) and "
                  "on due_at over all tasks, instead of partial ones over open tasks")
            inbox_timings(sessions, org, now, rounds)
        print(f"worker scans ({shape.due_now} work items and {shape.wake_now} timers due now)")
        due_scan_timings(sessions, now, rounds)
        engine.dispose()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--open", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--database", default="postgresql,sqlite",
                        help="postgresql, sqlite, or both comma separated")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40,000 tasks")
    parser.add_argument("--no-before", action="store_true",
                        help="skip measuring the inbox with the indexes before 42c7ffe5323e")
    args = parser.parse_args()
    shape = dataset.Shape.quick() if args.quick else dataset.Shape()
    shape.tasks, shape.open = args.tasks or shape.tasks, args.open or shape.open
    rounds = args.rounds or (10 if args.quick else 30)
    began = time.perf_counter()
    for kind in args.database.split(","):
        run(kind.strip(), shape, rounds, not args.no_before)
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
