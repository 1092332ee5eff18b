"""The audit and escalation datasets, and projects by name, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from andon import clock, jobs
from andon.config import Config
from andon.database import make_session_factory
from andon.flows import actions, runtime
from andon.flows.models import Task
from andon.forms.records import create_record
from andon.identity.accounts import create_user, ensure_org_unit
from andon.reports.compiler import Scope, run_report
from andon.reports.definition import check_definition
from andon.reports.drill import drill
from andon.reports.parameters import choices
from andon.worker import handlers, run_once

SHIPPED = Path("definitions/reports")
SHANGHAI = ZoneInfo("Asia/Shanghai")
REQUEST = {"title": "Export", "project": "PRJ-FREE", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}
PROJECT = {"name": "Grid dispatch platform", "code": "PRJ-2026-031", "client": "East Grid",
           "contract_value": 1000, "project_manager": "pm", "delivery_director": "director"}


def shipped(key: str) -> dict:
    """Return a shipped definition."""
    return json.loads((SHIPPED / f"{key}.json").read_text())


def run(session, body, reader=None, values=None):
    """Check and run a definition; return its rows."""
    spec = check_definition(body, "r.json", session)
    return run_report(session, spec, "en", str, Scope(reader, values)).rows


@pytest.fixture
def worker(engine, tmp_path) -> Callable[[datetime], int]:
    """Return a function that runs the worker once at a moment."""
    sessions = make_session_factory(engine)
    work = handlers(Config.from_env({}, instance_path=tmp_path))

    def once(moment: datetime) -> int:
        with clock.frozen(moment):
            return run_once(sessions, work, moment)
    return once


@pytest.fixture
def outsider(session):
    """Return a person of another org unit, with no role that sees everything."""
    user = create_user(session, "outsider", "Outsider", "correct-horse-1", ("member",))
    user.org_unit = ensure_org_unit(session, "delivery-west", "West")
    session.commit()
    return user


def escalated_review(session, people, worker) -> Task:
    """Start a change request, let its review pass two escalation levels, then complete it."""
    with clock.frozen(datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)):
        instance = runtime.start_instance(session, "change_request", people["engineer1"],
                                          REQUEST)
        session.commit()
    review = next(t for t in instance.tasks if t.state == "open")
    levels = list(session.scalars(select(jobs.WorkItem.due_at).where(
        jobs.WorkItem.task_id == review.id, jobs.WorkItem.kind == "escalate")
        .order_by(jobs.WorkItem.due_at)))
    assert len(levels) == 2
    for due in levels:
        worker(due)
    session.expire_all()
    with clock.frozen(levels[0] + timedelta(hours=48)):
        runtime.complete_task(session, review.id, people["pm"], {"decision": "reject"})
        session.commit()
    return review


def test_escalations_by_step_counts_levels_how_late_and_what_followed(
        session, people, worker, outsider):
    review = escalated_review(session, people, worker)  # levels at due and one day after
    body = shipped("escalations_by_step")
    rows = run(session, body)
    assert len(rows) == 1
    flow, step, count, tasks, late, completed, to_complete = rows[0]
    assert (flow, step, count, tasks, completed) == (
        "Change request", "Project manager review", 2, 1, 1.0)
    assert late == pytest.approx((0 + 24) / 2)
    assert to_complete == pytest.approx((48 + 24) / 2)  # completed 48 h after the due time
    assert run(session, body, reader=outsider) == []
    assert len(run(session, body, reader=people["engineer1"])) == 1  # started it
    found = drill(session, check_definition(body, "r.json", session), "en", str,
                  {"flow": "Change request", "step": "Project manager review"})
    assert {row.link for row in found.rows} == {"task"}
    assert {row.id for row in found.rows} == {review.id}
    asked = [dict(zip([c.key for c in found.columns], row.cells, strict=True))["asked"]
             for row in found.rows]
    assert asked[0] == people["pm"].display_name  # manager of the starter's unit
    assert people["director"].display_name in asked[1]  # the delivery directors


def test_hand_offs_per_month_count_transfers_for_the_flow(session, people, outsider):
    instance = runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    review = next(t for t in instance.tasks if t.state == "open")
    runtime.claim_task(session, review.id, people["pm"])
    actions.transfer(session, review.id, people["pm"], people["engineer2"], "On leave")
    session.commit()
    body = shipped("task_handoffs_by_month")
    month = clock.now().astimezone(ZoneInfo("UTC")).strftime("%Y-%m")
    assert run(session, body) == [(month, "Change request", 1, 1, 0, 0, 1)]
    assert run(session, body, reader=outsider) == []
    assert run(session, body, values={"flow": "project_delivery"}) == []
    spec = check_definition(body, "r.json", session)
    found = drill(session, spec, "en", str, {"at_month": month, "flow": "Change request"})
    cells = dict(zip([c.key for c in found.columns], found.rows[0].cells, strict=True))
    assert (found.rows[0].link, found.rows[0].id) == ("instance", instance.id)
    assert (cells["kind"], cells["actor"], cells["handed_to"]) == (
        "Task transferred", people["pm"].display_name, people["engineer2"].display_name)


def test_tasks_and_instances_show_projects_by_code_and_name(session, people):
    record = create_record(session, "project", PROJECT, people["pm"])
    session.commit()
    runtime.start_instance(session, "project_delivery", people["pm"], {
        "title": "Delivery", "project": str(record.id), "delivery_director": "director",
        "tech_lead": "engineer1", "test_lead": "engineer2", "planned_acceptance": "2026-05-29"})
    runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    session.commit()
    body = {"key": "by_project", "title": {"en": "P", "zh-CN": "P"}, "dataset": "tasks",
            "parameters": [{"key": "project", "type": "project"}],
            "group_by": ["project", "project_code"],
            "measures": [{"key": "n", "agg": "count", "label": {"en": "n", "zh-CN": "n"}}],
            "sort": [{"key": "project"}], "visualisation": {"type": "table"}}
    # each start leaves two tasks: the start form, completed, and the first step
    assert run(session, body) == [("Grid dispatch platform", "PRJ-2026-031", 2),
                                  ("PRJ-FREE", None, 2)]
    assert run(session, body, values={"project": str(record.id)}) == [
        ("Grid dispatch platform", "PRJ-2026-031", 2)]
    instances = {**body, "dataset": "instances"}
    assert run(session, instances, values={"project": "PRJ-FREE"}) == [("PRJ-FREE", None, 1)]
    offered = choices(session, check_definition(body, "r.json", session), "en")["project"]
    assert offered == [(str(record.id), "PRJ-2026-031 · Grid dispatch platform"),
                       ("PRJ-FREE", "PRJ-FREE")]
