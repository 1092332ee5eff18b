"""Demo history of change approval: changes on a fair share of the projects.

Each change goes through the runtime as a person would: the requester starts it,
the project's manager reviews it, the delivery director approves the large ones,
the customer's written confirmation is uploaded, and the worker's service steps
update the project's budget and plan and keep the change record. Steps are
completed early, on time and late in believable proportions; before a step is
completed, its reminders and escalations that fell due are run at their due
times, so late steps carry their escalations. Changes near ``until`` stay open.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock, files
from andon.demo_history import lateness
from andon.errors import Undelivered
from andon.flows import escalations, runtime, services
from andon.flows.models import FlowInstance, Task
from andon.forms import file_fields
from andon.forms.models import Record
from andon.forms.schema import FormSpec
from andon.identity.models import User
from andon.jobs import Handler, WorkItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
FLOW = "change_approval"
SHARE = 0.4  # of the projects get changes
HANDLERS: dict[str, Handler] = {"remind": escalations.remind, "escalate": escalations.escalate,
                                services.KIND: services.handler(False)}
TITLES = [
    ("增加报表导出", "Add exports to the weekly report"),
    ("对接新计费系统", "Integrate the new billing system"),
    ("双活数据中心", "Active-active data centre"),
    ("移动端审批", "Approvals on the mobile app"),
    ("单点登录改造", "Single sign-on with the customer's directory"),
    ("数据迁移补充", "Migrate five more years of history"),
    ("性能优化", "Performance work for the doubled user base"),
    ("新增接口", "Two new interfaces for the dispatch system"),
    ("等保三级整改", "Security level 3 remediation"),
    ("报表大屏", "A wall display of the daily KPIs"),
    ("多语言支持", "English user interface"),
    ("国产化适配", "Run on the domestic database and OS"),
]
REASONS = ["客户新增需求 New requirement from the customer",
           "合同补充协议 Contract amendment", "监管要求 Regulatory requirement",
           "用户量翻倍 The number of users doubled",
           "原方案遗漏 Missed in the original solution"]
REQUESTERS = ["刘洋 Liu Yang", "孙伟 Sun Wei", "周敏 Zhou Min", "吴刚 Wu Gang", "郑丽 Zheng Li"]


def seed(session: Session, people: Mapping[str, User], projects: Sequence[Record],
         rng: random.Random, until: datetime) -> int:
    """Create this solution's history through the runtime API; return instances started."""
    spec = FormSpec(**catalog.current(session, "form", "change_confirmation").content)
    started = 0
    for project in projects:
        if rng.random() >= SHARE or not _runs(project, people):
            continue
        for moment in _moments(project, rng, until):
            started += _change(session, people, project, rng, moment, until, spec)
    return started


def _runs(project: Record, people: Mapping[str, User]) -> bool:
    """Tell whether the project's manager and director are people of the demo."""
    return all(project.data.get(role) in people
               for role in ("project_manager", "delivery_director"))


def _moments(project: Record, rng: random.Random, until: datetime) -> list[datetime]:
    """Return when a project's changes are requested: 1 to 3 working mornings in its life."""
    first = _day(project.data.get("start_date"), until.date() - timedelta(days=300))
    last = min(_day(project.data.get("end_date"), until.date()), until.date())
    if last <= first:
        return []
    days = sorted(first + timedelta(days=rng.randrange((last - first).days))
                  for _ in range(rng.choice((1, 1, 2, 2, 3))))
    return [datetime.combine(_weekday(d), time(9 + rng.randrange(8), rng.randrange(60)),
                             SHANGHAI) for d in days]


def _change(session: Session, people: Mapping[str, User], project: Record, rng: random.Random,
            moment: datetime, until: datetime, spec: FormSpec) -> int:
    """Request one change at a moment and take it as far as ``until`` allows."""
    if moment > until:
        return 0
    form = _request(project, rng)
    with clock.frozen(moment):
        instance = runtime.start_instance(session, FLOW, _requester(people, project, rng), form)
    confirmed = _confirmed(form, rng)
    decisions = [("pm_review", _decision(rng, 0.08)), ("director_approval", _decision(rng, 0.15)),
                 ("customer_confirmation", confirmed)]
    for step, answer in decisions:
        task = _open(instance)
        if task is None or task.step_id != step:
            continue
        done_at = _when(task, rng)
        if done_at > until:
            _run_jobs(session, instance, until)
            return 1
        _run_jobs(session, instance, done_at)
        if step == "customer_confirmation":
            answer = {**answer, "evidence": [_evidence(session, spec, task.assignee, rng)],
                      "signed_on": done_at.date().isoformat()}
        with clock.frozen(done_at):
            lateness.finish(session, task, task.assignee, answer)
        if instance.status != "running" or _open(instance) is None:
            break
    _run_jobs(session, instance, min(until, _last_done(instance) + timedelta(minutes=3)))
    return 1


def _request(project: Record, rng: random.Random) -> dict[str, Any]:
    """Return a change request form: small (up to 10 man-days), large, now and then huge."""
    size = rng.random()
    if size < 0.55:
        development, deployment = rng.randrange(2, 13) / 2, rng.randrange(0, 7) / 2
    elif size < 0.9:
        development, deployment = float(rng.randrange(8, 60)), float(rng.randrange(2, 20))
    else:
        development, deployment = float(rng.randrange(120, 300)), float(rng.randrange(20, 80))
    total = development + deployment
    zh, en = rng.choice(TITLES)
    return {"title": f"{zh} {en}", "project": str(project.id), "reason": rng.choice(REASONS),
            "scope": f"{en}: design, build, test and roll-out",
            "development_days": str(development), "deployment_days": str(deployment),
            "cost_impact": str(int(total * rng.choice((1800, 2000, 2200, 2500)) // 100 * 100)),
            "schedule_impact_days": str(0 if total <= 5 else int(total // rng.choice((2, 3, 4)))),
            "requester": rng.choice(REQUESTERS)}


def _confirmed(form: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """Return the customer's answer: mostly the effort as asked, often less, seldom a refusal."""
    development, deployment = float(form["development_days"]), float(form["deployment_days"])
    if rng.random() < 0.35:  # the customer negotiated the effort down
        cut = rng.uniform(0.6, 0.9)
        development, deployment = (round(development * cut * 2) / 2,
                                   round(deployment * cut * 2) / 2)
    result = "refused" if rng.random() < 0.05 else "confirmed"
    return {"customer_result": result, "confirmed_development_days": str(development),
            "confirmed_deployment_days": str(deployment), "signed_by": form["requester"],
            "customer_comments": "" if result == "confirmed" else "超出合同范围 Out of scope"}


def _decision(rng: random.Random, rejected: float) -> dict[str, Any]:
    """Return a review decision, rejecting with the given probability."""
    if rng.random() < rejected:
        return {"decision": "reject", "comment": rng.choice(
            ["不在合同范围内 Not in the contract", "工作量估计过高 The estimate is too high",
             "推迟到二期 Postponed to phase 2"])}
    return {"decision": "approve", "comment": rng.choice(
        ["范围清楚 Scope is clear", "同意，注意进度 Agreed; mind the schedule",
         "客户已口头确认 The customer agreed verbally"])}


def _when(task: Task, rng: random.Random) -> datetime:
    """Return when a step is completed: mostly early, some just in time, a fifth late."""
    created, due = task.created_at, task.due_at or task.created_at + timedelta(days=2)
    roll = rng.random()
    if roll < 0.6:
        return created + (due - created) * rng.uniform(0.1, 0.8)
    if roll < 0.8:
        return max(created + timedelta(minutes=30), due - timedelta(hours=rng.uniform(0.5, 3)))
    return due + timedelta(hours=rng.uniform(4, 120))


def _run_jobs(session: Session, instance: FlowInstance, moment: datetime) -> None:
    """Run the instance's reminders, escalations and service steps due by a moment, each
    at its due time, as the worker would have."""
    while True:
        item = session.scalar(
            select(WorkItem).where(WorkItem.instance_id == instance.id,
                                   WorkItem.state == "pending", WorkItem.kind.in_(HANDLERS),
                                   WorkItem.due_at <= moment)
            .order_by(WorkItem.due_at, WorkItem.id).limit(1))
        if item is None:
            return
        at = item.due_at
        savepoint = session.begin_nested()
        try:
            with clock.frozen(at):
                HANDLERS[item.kind](session, item, at)
            savepoint.commit()
        except Undelivered as error:  # e.g. a project the change cannot be written into
            savepoint.rollback()
            _give_up(session, item, error, at)
            continue
        item.state, item.done_at = "done", at
        session.flush()


def _give_up(session: Session, item: WorkItem, error: Undelivered, at: datetime) -> None:
    """Fail an item for good as the worker would; a service step leaves its incident."""
    item.state, item.last_error = "failed", str(error)[:500]
    if item.kind == services.KIND:
        with clock.frozen(at):
            services.failed(session, item, error, at)
    session.flush()


def _evidence(session: Session, spec: FormSpec, pm: User, rng: random.Random) -> str:
    """Upload the customer's signed change sheet as the project manager; return its id."""
    kept = file_fields.receive(session, _uploads(), spec, "evidence",
                               io.BytesIO(b"%PDF-1.4\n% signed change sheet\n"),
                               f"change-confirmation-{rng.randrange(10000):04d}.pdf", pm)
    return str(kept.id)


def _uploads() -> files.UploadSettings:
    """Return where uploads go in this installation (ANDON_INSTANCE_PATH, ANDON_UPLOAD_*)."""
    instance = Path(os.environ.get("ANDON_INSTANCE_PATH") or "instance").resolve()
    return files.UploadSettings.from_env(dict(os.environ), instance)


def _requester(people: Mapping[str, User], project: Record, rng: random.Random) -> User:
    """Return a team member of the project who is a demo person, else an engineer."""
    team = [row.get("member") for row in project.data.get("team") or []]
    found = [people[name] for name in team if name in people and people[name].active]
    return rng.choice(found or [people.get("engineer1") or next(iter(people.values()))])


def _open(instance: FlowInstance) -> Task | None:
    """Return the instance's open task, if any."""
    return next((t for t in instance.tasks if t.state == "open"), None)


def _last_done(instance: FlowInstance) -> datetime:
    """Return when the instance's latest task was completed."""
    return max(t.completed_at for t in instance.tasks if t.completed_at is not None)


def _day(text: Any, fallback: date) -> date:
    """Return a date from ISO text, or the fallback."""
    try:
        return date.fromisoformat(text) if isinstance(text, str) else fallback
    except ValueError:
        return fallback


def _weekday(day: date) -> date:
    """Return the day, or the Monday after it if it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day
