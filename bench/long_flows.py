"""Measure stored state size and step time against instance length (linear flows).

    .venv/bin/python bench/long_flows.py [--steps 50,150,300] [--quick]
        [--database sqlite|postgresql]

Generates a linear BPMN flow of N user steps for each length, runs one instance
through it with the runtime (complete_task, one commit per step, as the web
does), and prints the bytes of ``flow_instance.state`` after the first and
the last step, and the time per step over the first and the last ten steps.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, scratch_database  # noqa: E402

from andon.database import make_engine, make_session_factory  # noqa: E402
from andon.demo import create_people  # noqa: E402
from andon.flows import runtime  # noqa: E402
from andon.flows.models import FlowInstance, Task  # noqa: E402
from andon.identity.models import User  # noqa: E402
from andon.loader import load_folder  # noqa: E402
from andon.migrate import upgrade  # noqa: E402

REQUEST = {"title": "Bench", "project": "PRJ-1", "reason": "Load", "effort_days": "20",
           "customer_contact": "C"}
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiff="http://spiffworkflow.org/bpmn/schema/1.0/core"')
EDGE = 10  # steps averaged at each end


def user_task(element: str, name: str, form: str, incoming: str, outgoing: str) -> str:
    """Return one user task owned by the starter."""
    return (f'<bpmn:userTask id="{element}" name="{name}"><bpmn:extensionElements>'
            f'<spiff:properties><spiff:property name="form" value="{form}"/>'
            '<spiff:property name="owner" value="starter"/></spiff:properties>'
            f'</bpmn:extensionElements><bpmn:incoming>{incoming}</bpmn:incoming>'
            f'<bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>')


def linear_flow(key: str, steps: int) -> str:
    """Return a BPMN flow: the starter's form, then ``steps`` review steps in a row."""
    parts = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>',
             user_task("submit", "Submit", "change_request", "f0", "f1")]
    for number in range(1, steps + 1):
        parts.append(user_task(f"step_{number}", f"Step {number}", "change_review",
                               f"f{number}", f"f{number + 1}"))
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{steps + 1}</bpmn:incoming>'
                 '</bpmn:endEvent>')
    flows = ['<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="submit"/>',
             '<bpmn:sequenceFlow id="f1" sourceRef="submit" targetRef="step_1"/>']
    flows += [f'<bpmn:sequenceFlow id="f{n + 1}" sourceRef="step_{n}" '
              f'targetRef="{"end" if n == steps else f"step_{n + 1}"}"/>'
              for n in range(1, steps + 1)]
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="{key}_defs" '
            f'targetNamespace="http://andon.example/bench"><bpmn:process id="{key}" '
            f'name="Linear {steps}" isExecutable="true">{"".join(parts + flows)}'
            '</bpmn:process></bpmn:definitions>')


def definitions(lengths: list[int]) -> Path:
    """Write the shipped forms and one linear flow per length to a new folder."""
    folder = Path(tempfile.mkdtemp(prefix="andon-bench-flows-"))
    shutil.copytree(ROOT / "definitions/forms", folder / "forms")
    (folder / "flows").mkdir()
    for steps in lengths:
        (folder / "flows" / f"linear_{steps}.bpmn").write_text(linear_flow(f"linear_{steps}",
                                                                            steps))
    return folder


def run_through(sessions: sessionmaker[Session], steps: int
                ) -> tuple[list[float], list[float], list[int]]:
    """Run one instance to its end; return wall and CPU ms per step, state bytes after each."""
    times: list[float] = []
    cpu: list[float] = []
    sizes: list[int] = []
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == "engineer1"))
        instance = runtime.start_instance(session, f"linear_{steps}", user, REQUEST)
        session.commit()
        for _ in range(steps):
            task_id = session.scalar(select(Task.id).where(Task.instance_id == instance.id,
                                                           Task.state == "open"))
            began, began_cpu = time.perf_counter(), time.process_time()
            runtime.complete_task(session, task_id, user, {"decision": "approve"})
            session.commit()
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            sizes.append(session.scalar(select(func.length(FlowInstance.state))
                                        .where(FlowInstance.id == instance.id)) or 0)
        status = session.scalar(select(FlowInstance.status)
                                .where(FlowInstance.id == instance.id))
        assert status == "completed", status
    return times, cpu, sizes


def report(steps: int, times: list[float], cpu: list[float], sizes: list[int]) -> None:
    """Print one length's figures."""
    def ends(samples: list[float]) -> str:
        return (f"first {EDGE} {statistics.median(samples[:EDGE]):6.1f}  "
                f"last {EDGE} {statistics.median(samples[-EDGE:]):6.1f}  "
                f"max {max(samples):6.1f}")
    print(f"  {steps:>4} steps   state: after step 1 {sizes[0] / 1024:6.1f} KiB, at the end "
          f"{sizes[-1] / 1024:6.1f} KiB   whole run {sum(times) / 1000:5.1f} s")
    print(f"             ms per step, wall (p50): {ends(times)}")
    print(f"             ms per step, CPU of this process (p50): {ends(cpu)}")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="50,150,300", help="flow lengths, comma separated")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--quick", action="store_true", help="lengths 20 and 60 only")
    args = parser.parse_args()
    lengths = [20, 60] if args.quick else [int(n) for n in args.steps.split(",")]
    folder = definitions(lengths)
    with scratch_database(args.database) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            create_people(session, "bench-password")
            failed = [r.error for r in load_folder(session, folder) if r.error]
            assert not failed, failed
            session.commit()
        print(f"database: {engine.dialect.name}   one instance per length, "
              "each step completed by its owner and committed")
        for steps in lengths:
            report(steps, *run_through(sessions, steps))
        engine.dispose()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
