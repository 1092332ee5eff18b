"""The delivery story: every started project runs through the project delivery flow.

Each stage is completed by its owner early, on time or late. How often a stage
slips depends on the region (International and North slip most), on the step
(the build and the customer's sign-offs slip most) and on time (teams get
better over the months), so the reports have a story to tell. Before each
completion the worker's due reminders and escalations run at their own
moments, so a late stage has been escalated to its delivery director.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from andon import clock
from andon.demo_history import lateness, texts
from andon.demo_history.people import region_of
from andon.demo_history.worker import catch_up
from andon.flows import runtime
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.forms.records import update_record
from andon.identity.models import User

FLOW = "project_delivery"
SHANGHAI = texts.SHANGHAI
STEP_LATENESS = {"kickoff": 0.5, "requirements": 1.3, "breakdown": 0.8, "build": 1.9,
                 "internal_test": 1.1, "acceptance": 1.5, "retrospective": 1.2,
                 "archive": 0.9}
#: how much of the budget is spent once a step is done
SPENT = {"kickoff": 0.03, "requirements": 0.15, "breakdown": 0.2, "build": 0.7,
         "internal_test": 0.82, "acceptance": 0.92, "retrospective": 0.95, "archive": 1.0}
REWORK = {"requirements": 0.15, "acceptance": 0.1}
STALL = ("build", timedelta(days=75))  # one project's build stalls, started this long ago


def seed(session: Session, people: Mapping[str, User], projects: Sequence[Record],
         rng: random.Random, until: datetime) -> int:
    """Deliver every started project through the delivery flow; return instances started."""
    started = [p for p in projects if p.data.get("start_date", "9999") <= _day(until)]
    if not started:
        return 0
    first = min(_start(p) for p in started)
    stalled = max((p for p in started if _start(p) <= until - STALL[1]), key=_start,
                  default=None)
    for project in started:
        progress = (_start(project) - first) / max(until - first, timedelta(days=1))
        deliver(session, people, project, random.Random(rng.random()), until, progress,
                STALL[0] if project is stalled else None)
    return len(started)


def deliver(session: Session, people: Mapping[str, User], project: Record,
            rng: random.Random, until: datetime, progress: float = 0.5,
            stall: str | None = None) -> FlowInstance:
    """Run one project's delivery from its start up to ``until``; update its record.

    ``progress`` (0 to 1) is how late in the history it starts: later projects slip
    less. At the step ``stall`` the delivery stops, its task left open (and overdue).
    """
    data, moment = project.data, _start(project)
    team = {row["role"]: row["member"] for row in data.get("team", [])}
    with clock.frozen(moment):
        instance = runtime.start_instance(session, FLOW, people[data["project_manager"]], {
            "title": f"交付 Delivery: {data['name']}", "project": project.id,
            "delivery_director": data["delivery_director"],
            "tech_lead": team.get("技术负责人 Tech lead", data["project_manager"]),
            "test_lead": team.get("测试负责人 Test lead", data["project_manager"]),
            "planned_acceptance": data.get("end_date")})
        _update(session, project, {"status": "active"})
    slip = region_of(data["region"]).lateness * (1.5 - 1.0 * progress)
    done: dict[str, datetime] = {}
    while instance.status == "running":
        task = next(t for t in instance.tasks if t.state == "open")
        late_share = min(0.85, slip * STEP_LATENESS.get(task.step_id, 1))
        moment = _finish_time(rng, task, late_share)
        if moment > until or task.step_id == stall:
            break
        catch_up(session, moment)  # reminders and escalations before it was done
        with clock.frozen(moment):
            form = texts.form_for(rng, task.step_id, data, moment, late=moment > task.due_at,
                                  rework=rng.random() < REWORK.get(task.step_id, 0))
            lateness.finish(session, task, task.assignee or task.instance.started_by, form)
        if form.get("signoff_result") != "rejected":
            done[task.step_id] = moment
    with clock.frozen(min(moment, until)):
        _update(session, project, _outcome(rng, data, done, until))
    return instance


def _finish_time(rng: random.Random, task: Task, late_share: float) -> datetime:
    """Return when the owner finishes a task: early, on time or late, in working hours."""
    created, due = task.created_at, task.due_at or task.created_at + timedelta(days=5)
    window, draw = due - created, rng.random()
    if draw < late_share:
        moment = due + window * rng.uniform(0.05, 0.6) + timedelta(hours=rng.uniform(1, 30))
    elif draw < late_share + (1 - late_share) * 0.35:
        moment = due - window * rng.uniform(0.0, 0.08)
    else:
        moment = created + window * rng.uniform(0.3, 0.85)
    moment = _working_hours(moment, rng)
    if draw >= late_share and moment > due:
        moment = due - timedelta(minutes=rng.randint(20, 90))
    return max(moment, created + timedelta(minutes=30))


def _working_hours(moment: datetime, rng: random.Random) -> datetime:
    """Move a moment into Shanghai office hours on a weekday, keeping its day when it can."""
    local = moment.astimezone(SHANGHAI)
    if 9 <= local.hour < 19 and local.weekday() < 5:
        return moment
    day = local.date() + timedelta(days=0 if local.hour < 9 else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.randint(0, 540))


def _outcome(rng: random.Random, data: Mapping[str, Any], done: Mapping[str, datetime],
             until: datetime) -> dict[str, Any]:
    """Return the record's new status, cost, man-days and milestones after the delivery so far."""
    reached = max((SPENT[step] for step in done if step in SPENT), default=0.01)
    overrun = region_of(data["region"]).overrun * rng.uniform(0.88, 1.12)
    status = ("closed" if "archive" in done else "accepted" if "acceptance" in done
              else "active")
    effort = [{**row, "actual_days": round(row["budget_days"] * reached * overrun
                                           * rng.uniform(0.9, 1.1) * 2) / 2}
              for row in data.get("effort", [])]
    spent = sum(row["actual_days"] * row["day_rate"] for row in effort)
    budget = data.get("budget_amount") or spent or 1
    cost = round(budget * round(spent / budget, 3), 2)  # a share with one decimal place
    milestones = [{**row, "status": _milestone_state(row, done.get(step), until)}
                  for row, step in zip(data.get("milestones", []),
                                       ("requirements", "acceptance", "archive"), strict=False)]
    return {"status": status, "effort": effort, "cost_to_date": cost, "milestones": milestones}


def _milestone_state(row: Mapping[str, Any], finished: datetime | None, until: datetime) -> str:
    """Return a milestone's status from when its stage finished (if it did)."""
    if finished is not None:
        return "done" if _day(finished) <= row["due_date"] else "late"
    return "late" if row["due_date"] < _day(until) else "open"


def _update(session: Session, project: Record, changes: Mapping[str, Any]) -> None:
    """Save changes to a project record as its creator."""
    update_record(session, project.id, {**project.data, **changes}, project.created_by,
                  project.lock_version)


def _start(project: Record) -> datetime:
    """Return the project's start: its start date at half past nine in Shanghai."""
    return datetime.combine(datetime.fromisoformat(project.data["start_date"]).date(),
                            time(9, 30), SHANGHAI)


def _day(moment: datetime) -> str:
    """Return a moment's date in Shanghai, as ISO text."""
    return moment.astimezone(SHANGHAI).date().isoformat()
