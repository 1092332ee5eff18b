"""Measure the flow runtime: start and complete change requests, print the figures.

    .venv/bin/python bench/runtime.py [--instances 200] [--database-url URL]

Prints time per start and per completion (median and 95th percentile), the
round trip of starting an instance and completing its first user task, the
same round trip on bare SpiffWorkflow (parse once, no database) and the ratio
of the two, the size of the stored engine state per instance, and peak Python
memory. The database is a fresh SQLite file unless a URL is given (PostgreSQL:
point it at an empty database or schema).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from andon.database import make_engine, make_session_factory
from andon.demo import create_people
from andon.flows import runtime
from andon.flows.models import FlowInstance, Task
from andon.identity.models import User
from andon.loader import load_folder
from andon.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REQUEST = {"title": "Bench", "project": "PRJ-1", "reason": "Load", "effort_days": "20",
           "customer_contact": "C"}


def timed(samples: list[float], action, *args):  # type: ignore[no-untyped-def]
    """Run an action, append its duration in milliseconds, return its result."""
    began = time.perf_counter()
    result = action(*args)
    samples.append((time.perf_counter() - began) * 1000)
    return result


def summary(name: str, samples: list[float]) -> str:
    """Return one printed line of figures."""
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    return f"{name:<22} n={len(samples):<5} median {statistics.median(samples):7.2f} ms   " \
           f"p95 {p95:7.2f} ms"


def bare_spiff(rounds: int) -> list[float]:
    """Time the round trip on SpiffWorkflow (with Andon's safe script engine) and no database."""
    from andon.flows.bpmn import load_bpmn
    from andon.flows.engine import Engine

    spec = load_bpmn((ROOT / "definitions/flows/change_request.bpmn").read_bytes(),
                     "change_request.bpmn").spec_json
    engine, samples = Engine(), []
    for _ in range(rounds):
        began = time.perf_counter()
        workflow = engine.start(spec)
        for data in ({"title": "Bench", "effort_days": 20}, {"decision": "approve"}):
            engine.complete(workflow, engine.ready_tasks(workflow)[0].id, data)
        engine.dump(workflow)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="andon-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        create_people(session, "bench-password")
        load_folder(session, ROOT / "definitions")
        session.commit()
    tracemalloc.start()
    starts: list[float] = []
    completions: list[float] = []
    with sessions() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        for _ in range(args.instances):
            instance = timed(starts, runtime.start_instance, session, "change_request",
                             users["engineer1"], REQUEST)
            session.commit()
            for approver in ("pm", "director"):
                (task,) = [t for t in instance.tasks if t.state == "open"]
                timed(completions, runtime.complete_task, session, task.id, users[approver],
                      {"decision": "approve"})
                session.commit()
        state = session.scalar(select(func.avg(func.length(FlowInstance.state))))
        tasks = session.scalar(select(func.count(Task.id)))
    _, peak = tracemalloc.get_traced_memory()
    bare = bare_spiff(args.instances)
    print(f"database: {engine.dialect.name}   instances: {args.instances}   tasks: {tasks}")
    print(summary("start_instance", starts))
    print(summary("complete_task", completions))
    trips = [start + done for start, done in zip(starts, completions[::2], strict=True)]
    print(summary("start + first task", trips))
    print(summary("engine alone (no DB)", bare))
    ratio = statistics.median(trips) / statistics.median(bare)
    print(f"{'Andon / engine ratio':<22} median {ratio:.1f}x  (forms, owners, deadlines, audit, "
          "database)")
    print(f"{'engine state':<22} {state / 1024:.1f} KiB per instance (the spec is stored once)")
    print(f"{'peak Python memory':<22} {peak / 1024 / 1024:.1f} MiB")
    engine.dispose()


if __name__ == "__main__":
    main()
