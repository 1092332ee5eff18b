"""Measure completed tasks per second with 1 and 4 worker processes on PostgreSQL.

    .venv/bin/python bench/workers.py [--tasks 2000] [--workers 1,4] [--quick]

The workload: open review tasks whose deadline has passed and whose escalation
chain completes them (``escalation: PT0S complete decision=approve``), so the
worker locks the instance, loads and runs the engine, completes the task, ends
the instance and records it all, as for any automatic completion. One instance
is started with the runtime and copied (state, tasks, work item) so that
setting up thousands takes seconds; each run gets its own batch, due at its
own time. Each worker is a real ``andon worker --once`` process with the clock
moved past the batch's due time. Afterwards every task must be completed
exactly once: one done work item with one attempt, one escalation and one
completion on each instance's timeline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, text, update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Stopwatch, scratch_database  # noqa: E402

from andon import jobs  # noqa: E402
from andon.audit import AuditEvent  # noqa: E402
from andon.database import make_engine, make_session_factory, utcnow  # noqa: E402
from andon.demo import create_people  # noqa: E402
from andon.flows import runtime  # noqa: E402
from andon.flows.models import FlowInstance, Task  # noqa: E402
from andon.identity.models import User  # noqa: E402
from andon.loader import load_folder  # noqa: E402
from andon.migrate import upgrade  # noqa: E402

REQUEST = {"title": "Bench", "project": "PRJ-1", "reason": "Load", "effort_days": "2",
           "customer_contact": "C"}
FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiff="http://spiffworkflow.org/bpmn/schema/1.0/core" id="auto_review_defs"
    targetNamespace="http://andon.example/bench">
  <bpmn:process id="auto_review" name="Auto review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="submit" name="Submit"><bpmn:extensionElements><spiff:properties>
      <spiff:property name="form" value="change_request"/>
      <spiff:property name="owner" value="starter"/>
    </spiff:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="review" name="Review"><bpmn:extensionElements><spiff:properties>
      <spiff:property name="form" value="change_review"/>
      <spiff:property name="owner" value="group:project-managers"/>
      <spiff:property name="deadline" value="PT1H"/>
      <spiff:property name="deadline_time" value="calendar"/>
      <spiff:property name="escalation" value="PT0S complete decision=approve"/>
    </spiff:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="submit"/>
    <bpmn:sequenceFlow id="f2" sourceRef="submit" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def template(session: Session) -> int:
    """Load the flow and start one instance with the runtime; return its id."""
    folder = Path(tempfile.mkdtemp(prefix="andon-bench-flow-"))
    shutil.copytree(ROOT / "definitions/forms", folder / "forms")
    (folder / "flows").mkdir()
    (folder / "flows/auto_review.bpmn").write_text(FLOW)
    create_people(session, "bench-password")
    failed = [r.error for r in load_folder(session, folder) if r.error]
    assert not failed, failed
    shutil.rmtree(folder)
    starter = session.scalar(select(User).where(User.username == "engineer1"))
    instance = runtime.start_instance(session, "auto_review", starter, REQUEST)
    session.commit()
    return instance.id


def _rows(connection: Connection, table: Table, condition: Any) -> list[dict[str, Any]]:
    """Return rows of a table as dictionaries."""
    return [dict(row._mapping) for row in connection.execute(select(table).where(condition))]


def first_free(connection: Connection, table: Table) -> int:
    """Return the first id after a table's last row."""
    return int(connection.scalar(select(func.max(table.c.id))) or 0) + 1


def copy_batch(connection: Connection, source: int, copies: int, shift: timedelta) -> list[int]:
    """Copy the template instance ``copies`` times, due ``shift`` later; return the new ids."""
    tables = {name: model.__table__ for name, model in
              (("instance", FlowInstance), ("task", Task), ("item", jobs.WorkItem))}
    instance = _rows(connection, tables["instance"], FlowInstance.id == source)[0]
    tasks = _rows(connection, tables["task"], Task.instance_id == source)
    item = _rows(connection, tables["item"], jobs.WorkItem.instance_id == source)[0]
    first = {name: first_free(connection, table) for name, table in tables.items()}
    ids = [first["instance"] + n for n in range(copies)]
    connection.execute(tables["instance"].insert(), [{**instance, "id": i} for i in ids])
    task_ids: dict[tuple[int, int], int] = {}
    rows = []
    for number, instance_id in enumerate(ids):
        for position, task in enumerate(tasks):
            task_ids[number, position] = first["task"] + number * len(tasks) + position
            rows.append({**task, "id": task_ids[number, position], "instance_id": instance_id,
                         "due_at": task["due_at"] and task["due_at"] + shift})
    connection.execute(tables["task"].insert(), rows)
    open_position = next(p for p, task in enumerate(tasks) if task["state"] == "open")
    connection.execute(tables["item"].insert(), [
        {**item, "id": first["item"] + n, "instance_id": ids[n],
         "task_id": task_ids[n, open_position], "due_at": item["due_at"] + shift,
         "key": f"escalate:{task_ids[n, open_position]}:0"} for n in range(copies)])
    for table in tables.values():  # later rows (audit, new tasks) take ids after the copies
        connection.execute(text("SELECT setval(pg_get_serial_sequence(:name, 'id'), :last)"),
                           {"name": table.name, "last": first_free(connection, table) - 1})
    return ids


def run_workers(url: str, processes: int, now: datetime, folder: Path) -> float:
    """Run ``andon worker --once`` processes with the clock at ``now``; return seconds."""
    offset = now - utcnow()
    env = {**os.environ, "ANDON_DATABASE_URL": url, "ANDON_INSTANCE_PATH": str(folder),
           "ANDON_CLOCK_OFFSET": f"PT{int(offset.total_seconds())}S"}
    andon = Path(sys.executable).parent / "andon"
    began = time.perf_counter()
    workers = [subprocess.Popen([str(andon), "worker", "--once"], env=env)  # noqa: S603
               for _ in range(processes)]
    codes = [worker.wait(timeout=3600) for worker in workers]
    assert codes == [0] * processes, codes
    return time.perf_counter() - began


def check(session: Session, ids: list[int]) -> dict[str, Any]:
    """Count what happened to a batch: every task must be completed exactly once."""
    def count(query: Any) -> int:
        return int(session.scalar(query) or 0)
    of_batch = Task.instance_id.in_(ids)
    escalated = AuditEvent.kind == "task.escalated"
    span = session.execute(select(func.min(Task.completed_at), func.max(Task.completed_at))
                           .where(of_batch, Task.step_id == "review")).one()
    return {
        "completed": count(select(func.count()).where(of_batch, Task.step_id == "review",
                                                      Task.state == "completed")),
        "instances ended": count(select(func.count()).where(FlowInstance.id.in_(ids),
                                                            FlowInstance.status == "completed")),
        "items done once": count(select(func.count()).where(
            jobs.WorkItem.instance_id.in_(ids), jobs.WorkItem.state == "done",
            jobs.WorkItem.attempts == 1)),
        "escalations recorded": count(select(func.count()).where(
            escalated, AuditEvent.subject_type == "instance",
            AuditEvent.subject_id.in_(ids))),
        "span": (span[1] - span[0]).total_seconds() if span[0] else 0.0}


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per run")
    parser.add_argument("--workers", default="1,4", help="worker processes per run")
    parser.add_argument("--quick", action="store_true", help="100 tasks per run")
    args = parser.parse_args()
    tasks = 100 if args.quick else args.tasks
    runs = [int(n) for n in args.workers.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="andon-bench-worker-"))
    with scratch_database("postgresql") as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            source = template(session)
            due = session.scalar(select(jobs.WorkItem.due_at)
                                 .where(jobs.WorkItem.instance_id == source))
            with Stopwatch(f"copying the instance into {len(runs)} batches of {tasks:,}"):
                batches = [copy_batch(session.connection(), source, tasks,
                                      timedelta(days=number + 1)) for number in range(len(runs))]
                session.execute(update(jobs.WorkItem).where(jobs.WorkItem.instance_id == source)
                                .values(state="cancelled"))
                session.commit()
        print(f"database: postgresql   {tasks:,} overdue tasks per run, each completed by its "
              "escalation (engine step, instance ends, timeline)")
        for number, (processes, ids) in enumerate(zip(runs, batches, strict=True)):
            now = due + timedelta(days=number + 1, minutes=1)
            seconds = run_workers(url, processes, now, folder)
            with sessions() as session:
                seen = check(session, ids)
            print(f"  {processes} worker process{'es' if processes > 1 else ''}: "
                  f"{seen['completed'] / seconds:6.1f} tasks/s over the whole run "
                  f"({seconds:.1f} s with process start-up), "
                  f"{seen['completed'] / max(seen['span'], 1e-9):6.1f} tasks/s between the first "
                  f"and the last completion")
            print("      " + ", ".join(f"{name} {value}" for name, value in seen.items()
                                       if name != "span") + f" of {tasks}")
        engine.dispose()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
