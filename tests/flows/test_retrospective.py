"""The shipped retrospective: action items become tracked flows closed after a check."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock
from andon.audit import history
from andon.errors import InvalidSubmission
from andon.flows import lint, runtime
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.identity.models import User
from andon.notifications.models import Notification
from andon.reports.compiler import Scope, run_report
from andon.reports.definition import check_definition

ROOT = Path(__file__).resolve().parent.parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT = {"name": "华东电网调度平台 Grid dispatch platform", "code": "PRJ-2026-031",
           "client": "华东电网 East China Grid", "region": "华东 East", "status": "closed",
           "project_manager": "pm", "delivery_director": "director", "contract_value": 2400000}
ACTIONS = [
    {"what": "Add a design review before the build", "owner": "engineer1",
     "due_date": "2026-06-12", "outcome": "Every build starts from a reviewed design"},
    {"what": "Weekly test environment check", "owner": "engineer2",
     "due_date": "2026-06-05", "outcome": "No test day lost to the environment"},
]
RETRO = {
    "goals": [{"goal": "Go live", "target": "2026-05-15", "result": "2026-05-29", "met": "no"},
              {"goal": "Margin", "target": "30%", "result": "32%", "met": "yes"}],
    "went_well": "The customer signed the requirements in one round.",
    "went_wrong": "Integration tests waited a week for the environment.",
    "cases": [{"description": "Test environment not ready", "measures": "Borrowed one",
               "cause": "external.mechanism.customer_environment",
               "proposals": "Check it weekly"},
              {"description": "Build started before the design review",
               "cause": "internal.mechanism.missing_review"}],
    "actions": ACTIONS,
}
REPORTED = {"done": "Review added to the build checklist", "measured": "3 of 3 builds reviewed"}


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def hold(session: Session, people: dict[str, User], moment: datetime,
         retro: dict[str, Any] | None = None) -> FlowInstance:
    """Create the project, start its retrospective as the pm and hold it; return it."""
    record = create_record(session, "project", PROJECT, people["pm"])
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "retrospective", people["pm"], {
            "title": "Grid dispatch retrospective", "project": str(record.id),
            "delivery_director": "director", "held_on": moment.date().isoformat()})
        runtime.complete_task(session, waiting(instance).id, people["pm"],
                              retro or RETRO)
        session.commit()
    return instance


def waiting(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def approve(session: Session, people: dict[str, User], instance: FlowInstance,
            moment: datetime, worker: Callable[[datetime], int]) -> list[FlowInstance]:
    """Approve the retrospective as the director, run the worker; return the action flows."""
    with clock.frozen(moment):
        runtime.complete_task(session, waiting(instance).id, people["director"],
                              {"review_decision": "approve"})
        session.commit()
    worker(moment)  # records the cases
    worker(moment)  # starts the action flows
    session.expire_all()
    return actions(session, instance)


def actions(session: Session, parent: FlowInstance) -> list[FlowInstance]:
    """Return the action flows a retrospective started, by their due date."""
    found = session.scalars(select(FlowInstance).where(FlowInstance.parent_id == parent.id))
    return sorted(found, key=lambda i: i.data["due_date"])


def finish(session: Session, task: Task, moment: datetime, form: dict[str, Any]) -> None:
    """Complete a task as its assignee at a moment."""
    with clock.frozen(moment):
        runtime.complete_task(session, task.id, task.assignee, form)
        session.commit()


def told(session: Session, username: str, kind: str) -> int:
    """Return how many notifications of a kind a person has."""
    session.expire_all()
    return len(list(session.scalars(
        select(Notification.id).join(User, Notification.user_id == User.id)
        .where(User.username == username, Notification.kind == kind))))


def report(session: Session, people: dict[str, User], key: str,
           **values: str) -> list[dict[str, Any]]:
    """Run a shipped report as the leader with parameter values; return its rows."""
    spec = check_definition(catalog.current(session, "report", key).content, key, session)
    result = run_report(session, spec, "en", str, Scope(people["leader"], values))
    return [dict(zip([c.key for c in result.columns], row, strict=True))
            for row in result.rows]


def test_the_definitions_load_and_the_flows_have_no_findings(session, people):
    for name in ("retrospective", "retro_action"):
        source = (ROOT / "definitions" / "flows" / f"{name}.bpmn").read_bytes()
        assert lint.findings(session, source, f"{name}.bpmn") == [], name
    content = catalog.current(session, "flow", "retrospective").content
    assert content["start_form"] == "retro_start"
    assert catalog.current(session, "flow", "retro_action").content["start_form"] == \
        "retro_action"


def test_each_action_item_becomes_a_task_of_its_owner_due_on_its_date(
        session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"))  # a Monday
    review = waiting(instance)
    assert (review.step_id, review.assignee.username) == ("review", "director")
    flows = approve(session, people, instance, at("2026-06-01T15:00"), worker)
    assert instance.status == "completed" and instance.outcome["en"] == "Actions under way"
    tasks = [waiting(flow) for flow in flows]
    assert [(t.step_id, t.assignee.username) for t in tasks] == [
        ("act", "engineer2"), ("act", "engineer1")]
    # due at the end of the due date's working day (cn-mainland: 18:00)
    assert [t.due_at.astimezone(SHANGHAI) for t in tasks] == [
        at("2026-06-05T18:00"), at("2026-06-12T18:00")]
    assert {flow.project for flow in flows} == {instance.project}
    assert flows[1].started_by.username == "pm"
    cases = session.scalars(select(Record).where(Record.form_key == "retro_case")).all()
    assert sorted(c.data["cause"] for c in cases) == [
        "external.mechanism.customer_environment", "internal.mechanism.missing_review"]


def test_a_case_cause_must_come_from_the_taxonomy(session, people):
    bad = {**RETRO, "cases": [{"description": "X", "cause": "internal.nonsense"}]}
    with pytest.raises(InvalidSubmission) as raised:
        hold(session, people, at("2026-06-01T10:00"), bad)
    assert "cases[0][cause]" in raised.value.errors


def test_an_action_closes_only_after_an_effective_check(session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"))
    flow = approve(session, people, instance, at("2026-06-01T15:00"), worker)[1]
    finish(session, waiting(flow), at("2026-06-08T10:00"), REPORTED)
    check = waiting(flow)
    assert (check.step_id, check.assignee.username) == ("verify", "pm")
    # not effective: back to the owner with the new due date
    finish(session, check, at("2026-06-09T10:00"),
           {"effective": "no", "evidence": "Two builds still skipped it",
            "new_due_date": "2026-06-19"})  # Dragon Boat Festival
    again = waiting(flow)
    assert (again.step_id, again.assignee.username) == ("act", "engineer1")
    # a holiday due date means the end of the working day before it
    assert again.due_at.astimezone(SHANGHAI) == at("2026-06-18T18:00")
    finish(session, again, at("2026-06-16T10:00"), REPORTED)
    assert flow.status == "running"
    finish(session, waiting(flow), at("2026-06-17T10:00"),
           {"effective": "yes", "evidence": "All builds of June reviewed"})
    worker(at("2026-06-17T10:05"))
    session.expire_all()
    assert flow.status == "completed" and flow.outcome["en"] == "Action closed"
    (log,) = session.scalars(select(Record).where(Record.form_key == "retro_action_log"))
    assert (log.data["due_date"], log.data["closed_on"], log.data["closed_on_time"],
            log.data["rounds"]) == ("2026-06-12", "2026-06-17", "no", 2)


def test_a_not_effective_check_needs_a_new_due_date(session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"))
    flow = approve(session, people, instance, at("2026-06-01T15:00"), worker)[0]
    finish(session, waiting(flow), at("2026-06-03T10:00"), REPORTED)
    with pytest.raises(InvalidSubmission) as raised:
        finish(session, waiting(flow), at("2026-06-03T11:00"),
               {"effective": "no", "evidence": "Still broken"})
    assert "new_due_date" in raised.value.errors


def test_a_late_action_is_reminded_then_escalated_to_the_pm_and_the_director(
        session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"))
    flow = approve(session, people, instance, at("2026-06-01T15:00"), worker)[0]
    task = waiting(flow)  # engineer2's, due Friday 5 June 18:00
    worker(at("2026-06-04T09:00"))  # two working days before (16 working hours)
    assert told(session, "engineer2", "reminder") == 1
    worker(at("2026-06-05T14:00"))  # four working hours before
    assert told(session, "engineer2", "reminder") == 2
    assert told(session, "pm", "escalation") == 0
    worker(at("2026-06-05T18:00"))
    assert (told(session, "pm", "escalation"), told(session, "director", "escalation")) == (1, 0)
    worker(at("2026-06-09T18:00"))  # two working days later
    assert told(session, "director", "escalation") == 1
    kinds = [e.kind for e in history(session, "instance", flow.id)]
    assert kinds.count("task.escalated") == 2
    finish(session, task, at("2026-06-10T09:00"), REPORTED)
    finish(session, waiting(flow), at("2026-06-10T10:00"),
           {"effective": "yes", "evidence": "No day lost since"})
    worker(at("2026-06-10T10:05"))
    rows = report(session, people, "retro_actions_closed_on_time")
    assert [(r["closed_on_month"], r["on_time_rate"], r["closed"]) for r in rows] == [
        ("2026-06", 0.0, 1)]


def test_the_reports_show_actions_closed_on_time_and_causes(session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"))
    early, late = approve(session, people, instance, at("2026-06-01T15:00"), worker)
    for flow, moment in ((early, "2026-06-04T10:00"), (late, "2026-06-15T10:00")):
        finish(session, waiting(flow), at(moment), REPORTED)
        finish(session, waiting(flow), at(moment), {"effective": "yes", "evidence": "Seen"})
        worker(at(moment))
    rows = report(session, people, "retro_actions_closed_on_time")
    assert [(r["closed_on_month"], r["on_time_rate"], r["closed"]) for r in rows] == [
        ("2026-06", 0.5, 2)]
    causes = {r["cause_level2"]: r["cases"] for r in report(session, people,
                                                            "retro_root_causes")}
    assert causes == {"external.mechanism": 1, "internal.mechanism": 1}
    assert report(session, people, "retro_actions_closed_on_time", project=instance.project)
    assert report(session, people, "retro_actions_closed_on_time", project="999") == []
    assert report(session, people, "retro_actions_closed_on_time",
                  period_from="2026-07-01", period_to="2026-07-31") == []
    assert date(2026, 6, 4) <= date.fromisoformat(early.data["due_date"])


def test_the_demo_story_holds_retrospectives_of_ended_projects(session, people):
    from andon.demo_history import retrospectives

    until = at("2026-09-30T18:00")
    ended = [create_record(session, "project", {
        **PROJECT, "code": f"PRJ-{n}", "team": [{"member": "engineer1", "role": "Dev"},
                                                {"member": "engineer2", "role": "Test"}],
        "end_date": f"2026-0{n}-15"}, people["pm"]) for n in range(1, 8)]
    running = create_record(session, "project", {**PROJECT, "end_date": "2026-12-31"},
                            people["pm"])
    started = retrospectives.seed(session, people, [*ended, running], random.Random(7), until)
    session.commit()
    retros = session.scalars(select(FlowInstance).where(FlowInstance.parent_id.is_(None))).all()
    assert started == len(retros) == 7
    assert str(running.id) not in {r.project for r in retros}
    acts = session.scalars(select(Task).where(Task.step_id == "act")).all()
    assert len({t.instance_id for t in acts}) >= 7
    assert any(t.escalation_level for t in acts)  # some were late and escalated
    checks = session.scalars(select(Task).where(Task.step_id == "verify",
                                                Task.state == "completed")).all()
    assert any(t.data["effective"] == "no" for t in checks)
    assert all(t.completed_at <= until for t in acts if t.completed_at)
    rows = report(session, people, "retro_actions_closed_on_time")
    assert rows and 0 < sum(r["closed"] for r in rows)
    assert {r["on_time_rate"] for r in rows} - {0.0, 1.0}
    assert report(session, people, "retro_root_causes")


def test_a_retrospective_without_cases_still_tracks_its_actions(session, people, worker):
    instance = hold(session, people, at("2026-06-01T10:00"), {**RETRO, "cases": []})
    flows = approve(session, people, instance, at("2026-06-01T15:00"), worker)
    assert instance.status == "completed" and len(flows) == 2
    assert session.scalars(select(Record).where(Record.form_key == "retro_case")).all() == []
