"""The demo history: made through the runtime, a story the reports can tell, made once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from andon import clock, demo_history, jobs
from andon.audit import AuditEvent
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.reports.compiler import Scope, run_report
from andon.reports.store import report

ROOT = Path(__file__).resolve().parent.parent
UNTIL = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SMALL = demo_history.Size(projects=6, months=6)


@pytest.fixture
def history(session, people) -> demo_history.Summary:
    """Make a small history (6 projects over 6 months) up to UNTIL."""
    with clock.frozen(UNTIL):
        made = demo_history.seed(session, SMALL, UNTIL, password="long-enough-1")
        session.commit()
    return made


def test_every_shipped_report_has_rows_on_the_demo_history(session, people, history):
    keys = [json.loads(path.read_text())["key"]
            for path in sorted((ROOT / "definitions" / "reports").glob("*.json"))]
    assert len(keys) >= 10
    with clock.frozen(UNTIL):
        empty = [key for key in keys if not run_report(
            session, report(session, key, people["leader"]), "en", str,
            Scope(reader=people["leader"])).rows]
    assert empty == []


def test_the_history_has_projects_in_every_state_late_stages_and_escalations(
        session, people, history):
    assert (history.projects, history.instances["delivery"]) == (6, 5)  # one still to start
    states = dict(session.execute(select(FlowInstance.status, func.count())
                                  .group_by(FlowInstance.status)).all())
    assert states["completed"] >= 1 and states["running"] >= 1
    done = list(session.scalars(select(Task).join(FlowInstance).where(
        FlowInstance.title.startswith("交付 Delivery"), Task.state == "completed",
        Task.due_at.is_not(None))))  # the delivery stages
    late = [t for t in done if t.completed_at > t.due_at]
    assert 0.1 < len(late) / len(done) < 0.6
    assert all(t.completed_at <= UNTIL for t in done)
    escalated = list(session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "task.escalated")))
    assert escalated and all(event.at < UNTIL for event in escalated)
    ran = list(session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.kind.in_(["remind", "escalate"]), jobs.WorkItem.state == "done")))
    assert ran and all(item.done_at == item.due_at for item in ran)  # each at its own time
    statuses = {r.data["status"] for r in session.scalars(
        select(Record).where(Record.form_key == "project"))}
    assert {"planned", "active", "closed"} <= statuses


def test_seeding_again_adds_nothing(session, people, history):
    count = session.scalar(select(func.count(FlowInstance.id)))
    with clock.frozen(UNTIL):
        again = demo_history.seed(session, SMALL, UNTIL)
    assert (again.projects, again.instances) == (0, {})
    assert session.scalar(select(func.count(FlowInstance.id))) == count
