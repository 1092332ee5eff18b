"""The shipped systemic problem escalation: raise, biweekly review, follow-ups, verification."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock
from andon.flows import lint, runtime, schedules
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.identity.models import User
from andon.jobs import WorkItem
from andon.notifications.models import Notification
from andon.reports.compiler import Scope, run_report
from andon.reports.store import spec_of

ROOT = Path(__file__).resolve().parent.parent.parent
FLOWS = ROOT / "definitions" / "flows"
PROBLEM = {
    "title": "Small scope changes arrive by chat and bypass the change process",
    "source": "frequent_changes", "description": "Every week customers ask for small "
    "changes in chat; nobody estimates them and the build slips.",
    "revenue_loss": "120000", "added_cost": "80000", "fix_cost": "50000",
    "strategic_impact": "Customers see us as unreliable on dates.",
    "spread": "several_projects", "severity": "high", "trend": "worsening",
    "root_cause": "internal.mechanism.change_control", "sponsor": "director",
    "goal": "Every change, however small, goes through the change request flow.",
    "options": "A weekly change window; a change budget per project.",
    "timeline": "Pilot in one project for a month, then all projects.",
}
THIN = {"title": "Meeting rooms are always booked", "source": "interruptions",
        "description": "Teams cannot find a room for stand-ups.", "sponsor": "director",
        "goal": "A room for each team every morning."}
ACCEPT = {"classification": "mechanism", "frequency": "weekly", "impact": "high",
          "decision": "accept", "problem_owner": "pm",
          "action_points": [{"action": "Route chat requests to the change form",
                             "owner": "engineer1", "due": "2026-12-11"},
                            {"action": "Agree a weekly change window with customers",
                             "owner": "engineer2", "due": "2026-12-18"}]}


def review_due(session: Session) -> datetime:
    """Return when the biweekly review is next planned to start."""
    item = session.scalar(select(WorkItem).where(WorkItem.kind == schedules.KIND,
                                                 WorkItem.state == "pending"))
    assert item is not None and item.payload["flow"] == "systemic_problem_review"
    return item.due_at


def of_flow(session: Session, key: str) -> list[FlowInstance]:
    """Return the instances of a flow, oldest first."""
    session.expire_all()
    return list(session.scalars(
        select(FlowInstance).join(catalog.DefinitionVersion).join(catalog.Definition)
        .where(catalog.Definition.key == key).order_by(FlowInstance.id)))


def raise_problem(session: Session, who: User, form: dict[str, object],
                  moment: datetime) -> FlowInstance:
    """Raise a systemic problem at a moment."""
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "systemic_problem", who, form)
        session.commit()
    return instance


def problem_record(session: Session, instance: FlowInstance) -> Record:
    """Return the problem record the instance keeps."""
    session.expire_all()
    record = session.get(Record, instance.data["problem_id"])
    assert record is not None
    return record


def open_task(session: Session, instance: FlowInstance, step: str) -> Task:
    """Return the instance's open task at a step."""
    session.expire_all()
    (task,) = [t for t in instance.tasks if t.state == "open" and t.step_id == step]
    return task


def finish(session: Session, task: Task, who: User, form: dict[str, object],
           moment: datetime) -> None:
    """Complete a task as someone at a moment."""
    with clock.frozen(moment):
        runtime.complete_task(session, task.id, who, form)
        session.commit()


def told(session: Session, username: str) -> list[str]:
    """Return the flow notifications a person got, oldest first."""
    session.expire_all()
    return list(session.scalars(
        select(Notification.params).join(User, Notification.user_id == User.id)
        .where(User.username == username, Notification.kind == "flow")
        .order_by(Notification.id)))


@pytest.fixture
def drive(worker):
    """Run the worker a few times at a moment, until what it started has run on."""
    def run(moment: datetime) -> None:
        for _ in range(5):
            worker(moment)
    return run


def test_the_definitions_load_and_the_flows_have_no_findings(session, people):
    dmn = {"problem_priority.dmn": (FLOWS / "problem_priority.dmn").read_bytes()}
    for name in ("systemic_problem", "systemic_problem_review", "systemic_problem_action"):
        source = (FLOWS / f"{name}.bpmn").read_bytes()
        assert lint.findings(session, source, f"{name}.bpmn", dmn) == [], name
    content = catalog.current(session, "flow", "systemic_problem_review").content
    assert content["schedule"]["cycle"] == "R/2026-01-05T10:00:00+08:00/P2W"


def test_a_problem_is_reviewed_followed_up_escalated_and_closed_on_data(
        session, people, drive):
    due = review_due(session)
    raised = due - timedelta(days=3)
    problem = raise_problem(session, people["engineer1"], PROBLEM, raised)
    thin = raise_problem(session, people["engineer2"], THIN, raised)
    drive(raised)
    record = problem_record(session, problem)
    assert (record.data["status"], record.data["evidence_completeness"],
            record.data["completeness_band"], record.data["roi"]) == ("new", 75, "high", 300)
    assert problem_record(session, thin).data["completeness_band"] == "low"

    drive(due)  # the timer starts the biweekly review; it opens each problem's review
    (round_,) = of_flow(session, "systemic_problem_review")
    hold = open_task(session, round_, "hold")
    assert hold.assignee.username == "leader"
    listed = [row["id"] for row in round_.data["new_problems"]]
    assert listed == [record.id, problem_record(session, thin).id]
    assert problem_record(session, problem).data["status"] == "in_review"

    reviewed = due + timedelta(days=1)
    finish(session, open_task(session, problem, "review"), people["leader"], ACCEPT, reviewed)
    finish(session, open_task(session, thin, "review"), people["leader"],
           {"classification": "people", "frequency": "rare", "impact": "low",
            "decision": "reject", "reject_reason": "Facilities, not delivery."}, reviewed)
    drive(reviewed)
    accepted = problem_record(session, problem).data
    assert (accepted["status"], accepted["priority"], accepted["classification"],
            accepted["problem_owner"]) == ("accepted", "P1", "mechanism", "pm")
    rejected = problem_record(session, thin).data
    assert (rejected["status"], rejected["priority"], rejected["reject_reason"]) == (
        "rejected", "P3", "Facilities, not delivery.")
    session.expire_all()
    assert thin.status == "completed" and thin.outcome["en"] == "Problem rejected"
    actions = of_flow(session, "systemic_problem_action")
    assert [(a.started_by.username, open_task(session, a, "carry_out").assignee.username)
            for a in actions] == [("engineer1", "engineer1"), ("engineer2", "engineer2")]
    assert all(a.parent_id == problem.id for a in actions)

    # nothing moves: weeks 2, 4 and 6 escalate owner, sponsor, directors and leader
    for weeks, level, who in ((2, 1, "pm"), (4, 2, "director"), (6, 3, "leader")):
        drive(reviewed + timedelta(weeks=weeks, minutes=1))
        data = problem_record(session, problem).data
        assert (data["status"], data["escalation_level"]) == ("escalated", level), weeks
        assert len(told(session, who)) >= 1, who
    assert len(told(session, "pm")) == 1 and len(told(session, "director")) == 2

    moved = reviewed + timedelta(weeks=7)
    finish(session, open_task(session, problem, "progress"), people["pm"],
           {"progress_note": "Chat requests now go to the form.", "progress_state": "continue"},
           moved)
    drive(moved)
    data = problem_record(session, problem).data
    assert (data["status"], data["escalation_level"]) == ("in_progress", 0)
    finish(session, open_task(session, problem, "progress"), people["pm"],
           {"progress_note": "All action points done.", "progress_state": "verify"}, moved)
    verify = open_task(session, problem, "verify")
    assert verify.assignee.username == "director"
    closed = moved + timedelta(days=2)
    finish(session, verify, people["director"],
           {"metric": "Unplanned changes per month", "before_value": "14", "after_value": "3",
            "evidence_notes": "Change log, October against December.",
            "verdict": "effective"}, closed)
    drive(closed)
    data = problem_record(session, problem).data
    days = (closed.date() - raised.date()).days
    assert (data["status"], data["before_value"], data["after_value"],
            data["days_to_resolution"]) == ("resolved", 14, 3, days)
    session.expire_all()
    assert problem.status == "completed"
    assert problem.outcome["en"] == "Problem resolved and verified"

    def measure(key: str, name: str) -> dict[object, object]:
        spec = spec_of(catalog.current(session, "report", key))
        result = run_report(session, spec, "en", str, Scope())
        keys = [column.key for column in result.columns]
        rows = [dict(zip(keys, row, strict=True)) for row in result.rows]
        return {row["completeness_band"]: row[name] for row in rows}
    assert measure("problem_accepted_rate_by_band", "accepted_rate") == {"high": 1, "low": 0}
    assert measure("problem_resolved_rate_by_band", "resolved_rate") == {"high": 1, "low": None}
    assert measure("problem_resolution_time_by_band", "average_days")["high"] == days


def test_progress_before_week_two_stops_the_follow_up_escalation(session, people, drive):
    due = review_due(session)
    problem = raise_problem(session, people["engineer1"], PROBLEM, due - timedelta(days=1))
    drive(due - timedelta(days=1))
    drive(due)
    reviewed = due + timedelta(days=1)
    finish(session, open_task(session, problem, "review"), people["leader"], ACCEPT, reviewed)
    drive(reviewed)
    finish(session, open_task(session, problem, "progress"), people["pm"],
           {"progress_note": "Form announced to customers.", "progress_state": "continue"},
           reviewed + timedelta(days=10))
    drive(reviewed + timedelta(weeks=2, minutes=1))
    data = problem_record(session, problem).data
    assert (data["status"], data["escalation_level"]) == ("in_progress", 0)
    assert told(session, "pm") == []


def test_the_demo_history_tells_a_year_of_problems(session, people):
    from andon.demo import projects
    from andon.demo_history import systemic_problems
    from andon.forms.records import create_record

    until = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    records = [create_record(session, "project", data, people["pm"])
               for data in projects(until.date())]
    started = systemic_problems.seed(session, people, records, random.Random(7), until)
    session.commit()
    kept = list(session.scalars(select(Record).where(Record.form_key == "systemic_problem")))
    problems = [record.data for record in kept]
    assert started > len(problems) >= 20
    statuses = {data["status"] for data in problems}
    assert {"resolved", "rejected"} <= statuses
    chased = [note for note in session.scalars(select(Notification))
              if "No progress for" in str(note.params.get("text"))]
    assert len(chased) >= 3  # follow-ups that found nothing moved
    assert any(data["status"] == "resolved" and data["days_to_resolution"] > 60
               for data in problems)
    assert len({data["completeness_band"] for data in problems}) == 3
    assert len({data["source"] for data in problems}) == 5
    assert max(record.updated_at for record in kept) <= until
