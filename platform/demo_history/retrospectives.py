"""Demo history: retrospectives of the projects that ended, and their tracked action items.

Everything goes through the runtime: each retrospective is held and reviewed,
the worker records its cases and starts one action flow per item, and each
owner does the action early, on time or late (reminded, then escalated to the
project manager and the delivery director); a few actions are not effective
the first time and go back to their owner with a new due date. Events run in
time order, and before each one the due work items of these flows run at
their own due times, so reminders and escalations happen when they would have.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from andon import clock, jobs
from andon.demo_history import lateness
from andon.flows import escalations, runtime, services
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.identity.models import User

ZONE = ZoneInfo("Asia/Shanghai")
CASES = [
    ("测试环境晚到一周 The test environment came a week late",
     "external.mechanism.customer_environment", "借用预发布环境 Borrowed the staging environment",
     "合同中写明环境交付日期 Put the environment date in the contract"),
    ("客户在验收前两周变更报表需求 Report requirements changed two weeks before acceptance",
     "external.mechanism.requirement_change", "走变更流程并确认人天 Ran a change request",
     "需求冻结点写入计划 Add a requirements freeze to the plan"),
    ("开发未经方案评审就开始 Build started before the design review",
     "internal.mechanism.missing_review", "补做评审 Held the review afterwards",
     "评审通过才能开始开发 No build without a passed review"),
    ("工作量低估约30% Effort underestimated by about 30%",
     "internal.mechanism.estimation_error", "加派一名工程师 Added an engineer",
     "用历史数据做估算 Estimate from past projects"),
    ("交接文档不全导致返工 Rework after an incomplete handover",
     "internal.mechanism.handover", "补齐交接清单 Completed the handover list",
     "交接清单签字 Sign the handover checklist"),
    ("核心开发人员中途调离 A key developer was reassigned mid-project",
     "internal.people.turnover", "安排结对交接 Paired the successor for two weeks",
     "关键岗位设 AB 角 Name a backup for key roles"),
    ("客户关键用户无法参加 UAT Key users missed the acceptance test",
     "external.people.customer_unavailable", "改期并远程演示 Rescheduled with a remote demo",
     "启动时约定 UAT 时间 Agree the UAT dates at kickoff"),
    ("上线配置遗漏 A configuration item was missed at go-live",
     "internal.mechanism.release_error", "当晚回滚并修复 Rolled back and fixed that night",
     "上线检查单自动化 Automate the release checklist"),
]
ACTIONS = [
    ("方案评审纳入开发前检查单 Add the design review to the pre-build checklist",
     "下季度所有项目开发前均有评审记录 Every build next quarter has a review record"),
    ("每周检查测试环境 Check the test environment weekly",
     "连续四周无因环境损失的测试日 Four weeks without a test day lost"),
    ("建立估算基线表 Build an estimation baseline from past projects",
     "新项目估算偏差小于15% Estimates within 15% on new projects"),
    ("交接清单模板并双方签字 A signed handover checklist template",
     "交接后两周内无返工 No rework in the two weeks after a handover"),
    ("关键岗位AB角名单 A backup for every key role",
     "每个项目关键岗位均有备份 Every project names its backups"),
    ("上线检查单自动化脚本 Automate the release checklist",
     "连续三次上线无配置遗漏 Three releases without a missed item"),
]
PROFILES = (("early", 0.45), ("on_time", 0.2), ("late", 0.2), ("rework", 0.15))
HANDLERS: Mapping[str, jobs.Handler] = {
    "remind": escalations.remind, "escalate": escalations.escalate,
    services.KIND: services.handler(False)}


@dataclass(order=True)
class _Event:
    """Something a person does at a moment."""

    at: datetime
    seq: int
    act: Callable[[], None] = field(compare=False)


class _Story:
    """The retrospectives' timeline, played in time order."""

    def __init__(self, session: Session, people: Mapping[str, User], rng: random.Random,
                 until: datetime) -> None:
        self.session, self.people, self.rng, self.until = session, people, rng, until
        self.queue: list[_Event] = []
        self.mine: set[int] = set()
        self.started = 0

    def later(self, moment: datetime, act: Callable[[], None]) -> None:
        """Plan an act; what falls after ``until`` stays undone (still open today)."""
        if moment <= self.until:
            heapq.heappush(self.queue, _Event(moment, len(self.queue) + self.started * 997
                                              + self.rng.randrange(1000), act))

    def play(self) -> None:
        """Run every planned act in time order, the due work before each."""
        while self.queue:
            event = heapq.heappop(self.queue)
            self.work(event.at)
            with clock.frozen(event.at):
                event.act()
                self.session.flush()
        self.work(self.until)
        self.quiet()

    def work(self, now: datetime) -> None:
        """Run the due reminders, escalations and service steps of these flows."""
        while True:
            due = self.session.scalars(
                select(jobs.WorkItem).where(jobs.WorkItem.state == "pending",
                                            jobs.WorkItem.due_at <= now,
                                            jobs.WorkItem.kind.in_(list(HANDLERS)),
                                            jobs.WorkItem.instance_id.in_(self.mine))
                .order_by(jobs.WorkItem.due_at, jobs.WorkItem.id).limit(1)).first()
            if due is None:
                return
            moment, owner = _aware(due.due_at), uuid.uuid4().hex
            with clock.frozen(moment):
                self.session.execute(update(jobs.WorkItem).where(jobs.WorkItem.id == due.id)
                                     .values(lease_owner=owner,
                                             lease_until=moment + jobs.LEASE))
                if not jobs.perform(self.session, due.id, HANDLERS, moment, owner):
                    due.state = "cancelled"
                self.session.flush()
            self.adopt()

    def adopt(self) -> None:
        """Count the action flows the retrospectives started as this story's own."""
        children = self.session.scalars(select(FlowInstance.id).where(
            FlowInstance.parent_id.in_(self.mine)))
        self.mine.update(children)

    def quiet(self) -> None:
        """Cancel the historical emails and chat messages: nobody should get them now."""
        self.session.execute(update(jobs.WorkItem).where(
            jobs.WorkItem.state == "pending", jobs.WorkItem.instance_id.in_(self.mine),
            jobs.WorkItem.kind.not_in(list(HANDLERS))).values(state="cancelled"))


def seed(session: Session, people: Mapping[str, User], projects: Sequence[Record],
         rng: random.Random, until: datetime) -> int:
    """Create this solution's history through the runtime API; return instances started."""
    story = _Story(session, people, rng, until)
    for project in projects:
        end = _stage_done(session, project) or _day(project.data.get("end_date"))
        if end is None or _at(end + timedelta(days=12), 9) > until:
            continue
        story.later(_at(end + timedelta(days=rng.randint(1, 5)), 9, 30),
                    lambda project=project: _plan(story, project))
    story.play()
    return story.started


def _plan(story: _Story, project: Record) -> None:
    """The project manager plans the retrospective, then holds it within a week or so."""
    pm = _person(story, project.data.get("project_manager"), "pm")
    director = _person(story, project.data.get("delivery_director"), "director")
    now = clock.now()
    instance = runtime.start_instance(story.session, "retrospective", pm, {
        "title": f"{project.data.get('code', '')} 项目复盘 Retrospective",
        "project": str(project.id), "delivery_director": director.username,
        "held_on": now.astimezone(ZONE).date().isoformat()})
    story.mine.add(instance.id)
    story.started += 1
    retro = _retro(story, project, now)
    story.later(_weekday(now + timedelta(days=story.rng.choice([1, 2, 3, 4, 6, 9]), hours=5)),
                lambda: _hold(story, instance, retro, first=True))


def _hold(story: _Story, instance: FlowInstance, retro: dict[str, Any], first: bool) -> None:
    """The project manager records the retrospective; the director reviews it."""
    _finish(story, instance, retro)
    revise = first and story.rng.random() < 0.15
    story.later(_weekday(clock.now() + timedelta(days=story.rng.randint(0, 3), hours=2)),
                lambda: _review(story, instance, retro, revise))


def _review(story: _Story, instance: FlowInstance, retro: dict[str, Any], revise: bool) -> None:
    """The director approves, or sends it back once; approval starts the action flows."""
    if revise:
        _finish(story, instance, {"review_decision": "revise",
                                  "review_comment": "根因再深挖一层 Dig one level deeper"})
        story.later(_weekday(clock.now() + timedelta(days=2)),
                    lambda: _hold(story, instance, retro, first=False))
        return
    _finish(story, instance, {"review_decision": "approve"})
    story.work(clock.now())
    story.session.flush()
    for child in story.session.scalars(select(FlowInstance).where(
            FlowInstance.parent_id == instance.id).order_by(FlowInstance.id)):
        _plan_action(story, child)


def _plan_action(story: _Story, action: FlowInstance) -> None:
    """Plan how the owner does the action and how its check goes."""
    story.mine.add(action.id)
    due = _at(date.fromisoformat(action.data["due_date"]), 16)
    profile = _pick(story.rng)
    if profile == "early":
        done = max(clock.now() + timedelta(days=1), due - timedelta(days=story.rng.randint(2, 8)))
    elif profile == "late":
        done = due + timedelta(days=story.rng.randint(2, 9))
    else:
        done = due - timedelta(hours=story.rng.randint(3, 6))  # the due day, 10:00 to 13:00
    story.later(_weekday(done), lambda: _act(story, action, profile))


def _act(story: _Story, action: FlowInstance, profile: str) -> None:
    """The owner reports the action done; the project manager checks it a day or two later."""
    _finish(story, action, {"done": "已按计划落实 Done as agreed",
                            "measured": "见附表数据 See the figures attached"})
    wait = timedelta(days=story.rng.randint(1, 2)) if profile in ("late", "rework") \
        else timedelta(hours=story.rng.randint(1, 4))
    story.later(_weekday(clock.now() + wait), lambda: _check(story, action, profile))


def _check(story: _Story, action: FlowInstance, profile: str) -> None:
    """The effectiveness check: not effective the first time for the rework profile."""
    if profile == "rework":
        new_due = (clock.now() + timedelta(days=story.rng.randint(10, 20))).astimezone(ZONE)
        _finish(story, action, {"effective": "no",
                                "evidence": "两周内仍出现同类问题 The problem came back twice",
                                "new_due_date": new_due.date().isoformat()})
        story.later(_weekday(new_due - timedelta(days=story.rng.randint(1, 4))),
                    lambda: _act(story, action, "on_time"))
        return
    _finish(story, action, {"effective": "yes",
                            "evidence": "连续数据达到成效标准 The figures meet the outcome"})


def _retro(story: _Story, project: Record, now: datetime) -> dict[str, Any]:
    """Return a retrospective of the project with one or two cases and one to three actions."""
    rng, data = story.rng, project.data
    late = rng.random() < 0.4
    cases = rng.sample(CASES, rng.randint(1, 2))
    owners = [m.get("member") for m in data.get("team") or [] if m.get("member") in story.people]
    owners = owners or [name for name in ("engineer1", "engineer2") if name in story.people]
    today = now.astimezone(ZONE).date()
    actions = [{"what": what, "owner": rng.choice(owners), "outcome": outcome,
                "due_date": _workday(today + timedelta(days=rng.randint(14, 45))).isoformat()}
               for what, outcome in rng.sample(ACTIONS, rng.choice([1, 1, 2, 2, 3]))]
    return {"project": project.id,
            "goals": [{"goal": "按期终验 Final acceptance on time",
                       "target": str(data.get("end_date", "")),
                       "result": "延期两周 Two weeks late" if late else "按期 On time",
                       "met": "no" if late else "yes"},
                      {"goal": "成本不超预算 Cost within budget", "target": "100%",
                       "result": f"{rng.randint(85, 115)}%",
                       "met": rng.choice(["yes", "partly"])}],
            "went_well": "客户沟通顺畅，需求一次签字 Smooth customer communication",
            "went_wrong": "; ".join(c[0] for c in cases),
            "cases": [{"description": d, "cause": c, "measures": m, "proposals": p}
                      for d, c, m, p in cases],
            "actions": actions}


def _finish(story: _Story, instance: FlowInstance, form: dict[str, Any]) -> None:
    """Complete the instance's open task as its assignee."""
    story.session.refresh(instance)
    task = story.session.scalars(select(Task).where(Task.instance_id == instance.id,
                                                    Task.state == "open")).first()
    if task is not None and task.assignee is not None:
        lateness.finish(story.session, task, task.assignee, form)


def _person(story: _Story, username: Any, fallback: str) -> User:
    """Return the named person, or a demo one."""
    return story.people.get(str(username or "")) or story.people[fallback]


def _pick(rng: random.Random) -> str:
    """Pick how an action item goes."""
    roll, total = rng.random(), 0.0
    for name, share in PROFILES:
        total += share
        if roll < total:
            return name
    return PROFILES[-1][0]


def _stage_done(session: Session, project: Record) -> date | None:
    """Return the day the project's delivery finished its retrospective stage, if it did."""
    done = session.scalar(select(Task.completed_at).join(FlowInstance)
                          .where(FlowInstance.project == str(project.id),
                                 Task.step_id == "retrospective", Task.state == "completed")
                          .order_by(Task.completed_at.desc()).limit(1))
    return done.astimezone(ZONE).date() if done else None


def _day(text: Any) -> date | None:
    """Return a date from ISO text, None if there is none."""
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Shanghai wall-clock time on a day."""
    return datetime.combine(day, time(hour, minute), ZONE)


def _aware(moment: datetime) -> datetime:
    """Return a stored time as an aware one (SQLite gives it back naive, in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _workday(day: date) -> date:
    """Move a day off the weekend to the Friday before."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday(moment: datetime) -> datetime:
    """Move a moment off the weekend to the Monday after, same time of day."""
    local = moment.astimezone(ZONE)
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return local
