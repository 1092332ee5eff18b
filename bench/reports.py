"""Run every shipped report on a large database: rows, time and the indexes its plan uses.

    .venv/bin/python bench/reports.py [--database postgresql,sqlite] [--scale 1]
        [--rounds 3] [--no-before]

At scale 1 the database holds 1,000,000 tasks (250,000 instances of five flows,
100,000 of them running; a fifth of the completed tasks with a due time
completed late), 5,000 people in 100 org units, 100,000 records of the
``project`` form that four instances in five belong to, the escalation levels
the late tasks reached, and the audit log such a history leaves (starts,
claims, completions, transfers, releases, send-backs, escalations: about
1.4 million events). Then it runs every report in definitions/reports/ (read
at run time, so reports added later are measured too) with its default
parameters, and those with a period once more for the last 30 days, as a
leader, and prints per report: rows, median time, and for each
table its plan reads, the index used or "seq scan" (SQLite EXPLAIN QUERY PLAN,
PostgreSQL EXPLAIN). Unless --no-before, it first runs them without the
indexes migration 9d41c2b7e5f0 adds, then creates them and runs them again.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Index, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset  # noqa: E402
from common import ROOT, Stopwatch, scratch_database  # noqa: E402

from andon import catalog, temporal  # noqa: E402
from andon.audit import AuditEvent  # noqa: E402
from andon.database import make_engine, make_session_factory, utcnow  # noqa: E402
from andon.demo import create_people  # noqa: E402
from andon.flows.models import Escalation, FlowInstance, Task  # noqa: E402
from andon.forms.models import Record  # noqa: E402
from andon.identity.models import OrgUnit, User  # noqa: E402
from andon.loader import load_folder  # noqa: E402
from andon.migrate import upgrade  # noqa: E402
from andon.reports.compiler import Scope, compile_report, run_report  # noqa: E402
from andon.reports.definition import ReportSpec, check_definition  # noqa: E402

REPORTS = ROOT / "definitions" / "reports"
NEW_INDEXES: list[Index] = [  # migration 9d41c2b7e5f0
    index for table in (Task.__table__, FlowInstance.__table__,  # type: ignore[attr-defined]
                        AuditEvent.__table__)  # type: ignore[attr-defined]
    for index in table.indexes
    if index.name in ("ix_task_escalated", "ix_task_created_at", "ix_task_completed_at",
                      "ix_flow_instance_ended_at", "ix_audit_event_kind_at")]
RECENT = 30  # days: the period a reader typically chooses
REGIONS = ("华东 East", "华北 North", "华南 South", "西部 West")
STATUSES = ("planning", "active", "active", "active", "closed")
DETAIL_KINDS = (("task.transferred", .03), ("task.released", .01), ("task.sent_back", .02))


def shape_at(scale: float) -> dataset.Shape:
    """Return the generated organisation's size at a scale (1 = a million tasks)."""
    def sized(full: int, least: int) -> int:
        return max(least, round(full * scale))
    return dataset.Shape(tasks=sized(1_000_000, 400), open=sized(100_000, 40),
                         users=sized(5_000, 30), groups=sized(500, 4), units=sized(100, 3),
                         due_now=sized(500, 2), wake_now=sized(200, 2), late=.2)


def project_records(connection: Connection, count: int, people: list[int], now: datetime,
                    version_id: int, rng: random.Random) -> list[int]:
    """Insert ``count`` records of the project form; return their ids."""
    first = int(connection.scalar(select(text("coalesce(max(id), 0) + 1")).select_from(
        Record.__table__)) or 1)  # type: ignore[arg-type]
    ids = list(range(first, first + count))

    def rows() -> Iterator[tuple[Any, ...]]:
        for number, record_id in enumerate(ids):
            created = now - timedelta(days=rng.uniform(0, 540))
            person = rng.choice(people)
            data = {"name": f"项目 Project {number:06d}", "code": f"PRJ-{number:06d}",
                    "client": f"Client {number % 2000}", "region": rng.choice(REGIONS),
                    "status": rng.choice(STATUSES), "project_manager": f"user{person}",
                    "delivery_director": f"user{rng.choice(people)}",
                    "contract_value": rng.randrange(100_000, 5_000_000, 1000),
                    "budget_amount": rng.randrange(50_000, 3_000_000, 1000),
                    "start_date": created.date().isoformat()}
            yield (record_id, "project", version_id, data, data["name"].lower(), created, person,
                   created, person, 1)
    dataset.bulk_load(connection, Record.__table__,  # type: ignore[arg-type]
                      ["id", "form_key", "form_version_id", "data", "search_text", "created_at",
                       "created_by_id", "updated_at", "updated_by_id", "lock_version"], rows())
    return ids


def events(connection: Connection, now: datetime, rng: random.Random,
           managers: dict[int, int]) -> dict[str, int]:
    """Derive the escalations and the audit log from the generated tasks; return counts."""
    instances = connection.execute(select(FlowInstance.id, FlowInstance.started_by_id,
                                          FlowInstance.started_at)).all()
    starters = {instance_id: starter for instance_id, starter, _ in instances}
    homes = dict(connection.execute(select(User.id, User.org_unit_id)).all())
    tasks = connection.execute(select(
        Task.id, Task.instance_id, Task.step_id, Task.step_title, Task.due_at,
        Task.completed_at, Task.completed_by_id, Task.created_at, Task.assignee_id,
        Task.candidate_group_id).order_by(Task.id)).all()
    levels: list[tuple[Any, ...]] = []
    log: list[tuple[Any, ...]] = [("instance.started", at, starter, instance_id,
                                   {"flow": "change_request"})
                                  for instance_id, starter, at in instances]
    for task in tasks:
        task_id, instance_id, step, title, due, done, done_by, created, holder, group = task
        detail = {"task": task_id, "step": step, "step_title": title}
        if group is not None and holder is not None:
            log.append(("task.claimed", created + timedelta(minutes=30), holder, instance_id,
                        detail))
        draw = rng.random()
        for kind, share in DETAIL_KINDS:
            if draw < share:
                log.append((kind, created + timedelta(hours=1), holder or done_by, instance_id,
                            {**detail, "to": f"User {rng.choice(list(homes))}"}
                            if kind == "task.transferred" else detail))
                break
            draw -= share
        if done is not None:
            log.append(("task.completed", done, done_by, instance_id, detail))
        ended = done or now
        if due is None or ended <= due:
            continue
        manager = managers.get(homes.get(starters[instance_id]) or 0)
        for level, delay, action in ((1, 0, "notify"), (2, 24, "reassign")):
            at = due + timedelta(hours=delay)
            if at >= ended:
                break
            levels.append((task_id, instance_id, level, action, "manager:starter", at, due,
                           manager, f"User {manager}" if manager else None))
            log.append(("task.escalated", at, None, instance_id,
                        {**detail, "level": level, "action": action,
                         "target": "manager:starter"}))
    counts = {"escalations": dataset.bulk_load(
        connection, Escalation.__table__,  # type: ignore[arg-type]
        ["task_id", "instance_id", "level", "action", "rule", "at", "due_at", "asked_id",
         "asked"], levels)}
    counts["audit events"] = dataset.bulk_load(
        connection, AuditEvent.__table__,  # type: ignore[arg-type]
        ["kind", "at", "actor_id", "subject_type", "subject_id", "detail"],
        ((kind, at, actor, "instance", instance_id, detail)
         for kind, at, actor, instance_id, detail in log))
    connection.execute(text(
        "UPDATE task SET escalation_level = (SELECT max(level) FROM escalation "
        "WHERE escalation.task_id = task.id) WHERE id IN (SELECT task_id FROM escalation)"))
    return counts


def build(sessions: sessionmaker[Session], shape: dataset.Shape, scale: float,
          now: datetime) -> int:
    """Fill the database; return the id of the leader who reads the reports."""
    rng = random.Random(shape.seed + 2)  # noqa: S311 (reproducible data, no secrets)
    with sessions() as session:
        create_people(session, "bench-password")
        load_folder(session, ROOT / "definitions")
        versions = dataset.flow_versions(session, 5)
        form = catalog.current(session, "form", "project")
        leader = session.scalar(select(User.id).where(User.username == "leader"))
        session.commit()
        connection = session.connection()
        with Stopwatch(f"generating {shape.users:,} people, {round(100_000 * scale):,} "
                       f"projects, {shape.tasks:,} tasks ({shape.open:,} open)"):
            org = dataset.people(connection, shape, now)
            projects = project_records(connection, max(20, round(100_000 * scale)),
                                       org["users"], now, form.id, rng)
            counts = dataset.history(connection, shape, org, versions, now, projects)
            session.commit()
        with Stopwatch("deriving escalations and the audit log"):
            connection = session.connection()
            managers = dict(session.execute(select(OrgUnit.id, OrgUnit.manager_id)).all())
            counts.update(events(connection, now, rng, managers))
            session.commit()
        with Stopwatch("ANALYZE"):
            analyze(session)
    counts["project records"] = len(projects)
    print("  rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    assert leader is not None
    return int(leader)


def analyze(session: Session) -> None:
    """Refresh the planner's statistics (and, on PostgreSQL, the visibility maps)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        with connection.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.execute(text('VACUUM flow_instance, task, "user", record, audit_event, '
                                'escalation'))
    connection.execute(text("ANALYZE"))
    session.commit()


def shipped() -> list[tuple[str, dict[str, Any]]]:
    """Return every report definition in the folder, by file name."""
    return [(path.name, json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(REPORTS.glob("*.json"))]


def plan(connection: Connection, statement: Select[Any]) -> str:
    """Return how the plan reads each table: the index it uses, or "seq scan"."""
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if connection.dialect.name == "postgresql":
        lines = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}",
                                                              compiled.params)]
        return _postgresql_reads(lines)
    processors = compiled._bind_processors  # the column types' own conversions (JSON paths)
    params = tuple(processors[name](compiled.params[name]) if name in processors
                   else compiled.params[name] for name in compiled.positiontup or ())
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
    return _sqlite_reads([row[3] for row in rows])


def _sqlite_reads(lines: list[str]) -> str:
    """Summarise SQLite's plan lines: table and index, or seq scan."""
    found = []
    for line in lines:
        match = re.match(r"(SCAN|SEARCH) (\S+)(?: AS (\S+))?(.*)", line.strip())
        if not match:
            continue
        how, table, alias, rest = match.groups()
        index = re.search(r"INDEX (\w+)", rest)
        name = table if not alias else f"{table} {alias}"
        if index:
            found.append(f"{name}: {index.group(1)}")
        elif "PRIMARY KEY" in rest:
            found.append(f"{name}: pk")
        else:
            found.append(f"{name}: {'seq scan' if how == 'SCAN' else 'search'}")
    return "; ".join(found)


def _postgresql_reads(lines: list[str]) -> str:
    """Summarise PostgreSQL's plan lines: table and index, or seq scan."""
    found = []
    for line in lines:
        seq = re.search(r"Seq Scan on (\S+)(?: (\S+))?", line)
        index = re.search(r"(?:Index Scan|Index Only Scan) using (\S+) on (\S+)", line)
        bitmap = re.search(r"Bitmap Index Scan on (\S+)", line)
        if seq:
            found.append(f"{seq.group(1)}: seq scan")
        elif index:
            found.append(f"{index.group(2)}: {index.group(1)}")
        elif bitmap:
            found.append(f"bitmap: {bitmap.group(1)}")
    return "; ".join(found)


def run_all(sessions: sessionmaker[Session], leader_id: int, rounds: int) -> dict[str, float]:
    """Run every report, print its rows, median time and plan; return the times by report.

    A report with a period runs twice: with its defaults, and as ``<key>@30d`` with the
    last 30 days chosen.
    """
    times = {}
    today = temporal.today()
    with sessions() as session:
        leader = session.get_one(User, leader_id)
        for name, body in shipped():
            spec = check_definition(body, name, session)
            runs = [(spec.key, {})]
            runs += [(f"{spec.key}@{RECENT}d",
                      {f"{p['key']}_from": (today - timedelta(days=RECENT - 1)).isoformat(),
                       f"{p['key']}_to": today.isoformat()})
                     for p in body.get("parameters", []) if p["type"] == "date_range"][:1]
            for key, values in runs:
                times[key] = timed(session, spec, Scope(leader, values), key, rounds)
    return times


def timed(session: Session, spec: ReportSpec, scope: Scope, key: str, rounds: int) -> float:
    """Run one report several times; print its rows, median time and plan; return the time."""
    samples, rows = [], 0
    for _ in range(rounds):
        began = time.perf_counter()
        rows = len(run_report(session, spec, "en", str, scope).rows)
        samples.append((time.perf_counter() - began) * 1000)
        session.rollback()
    median = statistics.median(samples)
    print(f"  {key:<32} rows {rows:>5}   {median:9.1f} ms")
    query, _ = compile_report(spec, "en", session, scope)
    print(f"      plan: {plan(session.connection(), query)}")
    session.rollback()
    return median


def drop_new_indexes(sessions: sessionmaker[Session]) -> None:
    """Drop the indexes the reports' migration added, to measure without them."""
    with sessions() as session:
        for index in NEW_INDEXES:
            session.execute(text(f"DROP INDEX {index.name}"))
        session.commit()
        analyze(session)


def create_new_indexes(sessions: sessionmaker[Session]) -> None:
    """Create the reports' indexes again."""
    with sessions() as session:
        for index in NEW_INDEXES:
            index.create(session.connection())
        session.commit()
        analyze(session)


def run(kind: str, scale: float, rounds: int, before: bool) -> dict[str, dict[str, float]]:
    """Build one database, run the reports (before and after the indexes), print, drop it."""
    found: dict[str, dict[str, float]] = {}
    with scratch_database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        print(f"== {kind}")
        leader = build(sessions, shape_at(scale), scale, utcnow())
        if before:
            drop_new_indexes(sessions)
            print(f"every report without {', '.join(str(i.name) for i in NEW_INDEXES)} "
                  f"(median of {rounds}):")
            found["before"] = run_all(sessions, leader, rounds)
            with Stopwatch("creating the indexes"):
                create_new_indexes(sessions)
        print(f"every report (median of {rounds}):")
        found["after"] = run_all(sessions, leader, rounds)
        engine.dispose()
    return found


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql,sqlite",
                        help="postgresql, sqlite, or both comma separated")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = a million tasks and 100,000 projects; 0.01 for a quick run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-before", action="store_true",
                        help="skip running the reports without the reports' indexes first")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    for kind in args.database.split(","):
        figures = run(kind.strip(), args.scale, args.rounds, not args.no_before)
        if "before" in figures:
            print(f"before → after ({kind}):")
            for key, after in figures["after"].items():
                print(f"  {key:<32} {figures['before'][key]:9.1f} → {after:9.1f} ms")
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
