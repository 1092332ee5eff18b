"""Demo history of systemic problem escalation: a year of problems, reviews and follow-ups.

Problems are raised from every source between biweekly reviews; the leader
accepts most (more often when the evidence is complete) and rejects some with a
reason. Accepted problems get action points, progress, follow-ups that escalate
when nothing moves for 2, 4 and 6 weeks, and a verification with figures.
Everything goes through the runtime under a frozen clock; the worker's work for
these flows (service steps, messages, timers, escalations) runs at each moment.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock, jobs
from andon.demo_history import lateness
from andon.flows import escalations, messages, runtime, services, waits
from andon.flows.models import FlowInstance
from andon.flows.worker import run_due
from andon.forms.models import Record
from andon.identity.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
FLOWS = ("systemic_problem", "systemic_problem_review", "systemic_problem_action")
WORK: dict[str, jobs.Handler] = {services.KIND: services.handler(False), waits.KIND: messages.send,
                                 "escalate": escalations.escalate, "remind": escalations.remind}
RAISERS = ("pm", "engineer1", "engineer2", "director")
DOERS = ("engineer1", "engineer2", "pm")
PROBLEMS = [  # source, title, what happens
    ("retrospective", "需求评审总是推迟 Requirement reviews keep slipping",
     "三个项目复盘都提到客户评审推迟两周以上 Three retrospectives name customer reviews "
     "slipping by two weeks or more."),
    ("retrospective", "测试环境不稳定 The test environment is unstable",
     "每次迭代损失约两天 About two days lost per iteration."),
    ("retrospective", "交接文档缺失 Hand-over documents are missing",
     "新成员上手平均需要三周 New members need three weeks to get going."),
    ("frequent_changes", "小变更绕过变更流程 Small changes bypass the change process",
     "客户通过聊天提出小改动，未评估就进入开发 Customers ask for tweaks in chat; nobody "
     "estimates them."),
    ("frequent_changes", "接口字段频繁变化 Interface fields change often",
     "第三方接口每月变化两次 The third-party interface changes twice a month."),
    ("frequent_changes", "报表格式反复修改 Report layouts are redone again and again",
     "同一张报表改了七次 One report was redone seven times."),
    ("incident", "发布后数据库连接耗尽 Database connections run out after releases",
     "近三个月两次生产事故 Two production incidents in three months."),
    ("incident", "证书过期导致停机 Expired certificates take services down",
     "无人负责证书续期 Nobody owns certificate renewal."),
    ("incident", "备份从未演练恢复 Backups were never restored in a drill",
     "一次恢复耗时九小时 One restore took nine hours."),
    ("interruptions", "临时支持请求打断开发 Ad-hoc support requests interrupt developers",
     "每人每天被打断五次以上 Each developer is interrupted five times a day or more."),
    ("interruptions", "会议过多 Too many meetings",
     "技术负责人每周会议超过二十小时 Tech leads spend over twenty hours a week in meetings."),
    ("walkthrough", "演示环境与生产不一致 The demo environment differs from production",
     "产品走查时发现功能不一致 Walk-throughs show features that production lacks."),
    ("walkthrough", "验收标准不清晰 Acceptance criteria are vague",
     "走查中客户对完成的理解不同 In walk-throughs the customer reads 'done' differently."),
]
EVIDENCE: dict[str, Callable[[random.Random], Any]] = {
    "revenue_loss": lambda r: r.randrange(2, 60) * 10000,
    "added_cost": lambda r: r.randrange(1, 30) * 10000,
    "strategic_impact": lambda r: "影响客户续约 Puts contract renewals at risk",
    "spread": lambda r: r.choice(["one_project", "several_projects", "department",
                                  "organisation"]),
    "severity": lambda r: r.choice(["low", "medium", "high", "critical"]),
    "trend": lambda r: r.choice(["improving", "stable", "worsening", "worsening"]),
    "root_cause": lambda r: r.choice(["internal.mechanism.missing_review",
                                      "internal.system.unclear_ownership",
                                      "internal.mechanism.change_control",
                                      "internal.people.overload"]),
    "pilot_results": lambda r: "试点项目返工减少30% The pilot cut rework by 30%",
    "options": lambda r: "A：流程调整；B：工具支持 A: change the process; B: a tool",
    "resources": lambda r: f"{r.randrange(5, 40)} 人天 man-days",
    "timeline": lambda r: "试点一个月，推广两个月 One month's pilot, two to roll out",
    "risks": lambda r: "客户配合度 Customer buy-in",
}


class Story:
    """One run of the history: the people, the clock's limit and the randomness."""

    def __init__(self, session: Session, people: Mapping[str, User], until: datetime,
                 rng: random.Random) -> None:
        self.session, self.people, self.until, self.rng = session, people, until, rng
        self.owner = uuid.uuid4().hex
        self.started = 0
        self.queue: list[tuple[datetime, int, Life]] = []  # what happens next, soonest first
        self.count = 0

    def spawn(self, life: Life) -> None:
        """Plan a life's first act."""
        self.resume(life)

    def resume(self, life: Life) -> None:
        """Let a life act, then plan its next act."""
        moment = next(life, None)
        if moment is not None:
            self.count += 1
            heapq.heappush(self.queue, (moment, self.count, life))

    def work(self, moment: datetime) -> None:
        """Run what the worker would for these flows at a moment: timers, steps, messages."""
        with clock.frozen(moment):
            for _ in range(6):
                run_due(self.session, moment)
                items = list(self.session.scalars(
                    select(jobs.WorkItem).where(
                        jobs.WorkItem.state == "pending", jobs.WorkItem.due_at <= moment,
                        jobs.WorkItem.kind.in_(WORK),
                        jobs.WorkItem.instance_id.in_(_instances_of(FLOWS)))
                    .order_by(jobs.WorkItem.due_at, jobs.WorkItem.id)))
                if not items:
                    return
                for item in items:  # each at its own due time, as a running worker would
                    at = item.due_at
                    item.lease_owner, item.lease_until = self.owner, at + jobs.LEASE
                    self.session.flush()
                    with clock.frozen(at):
                        done = jobs.perform(self.session, item.id, WORK, at, self.owner)
                    if not done:
                        item.state = "failed"  # a story item that cannot run is left aside
                self.session.flush()

    def act(self, moment: datetime, instance: FlowInstance, step: str, who: str,
            form: Mapping[str, Any]) -> bool:
        """Complete an instance's open step as someone at a moment, then run the worker."""
        if moment > self.until:
            return False
        self.session.expire_all()
        task = next((t for t in instance.tasks if t.state == "open" and t.step_id == step), None)
        if task is None:
            return False
        with clock.frozen(moment):
            lateness.finish(self.session, task, self.people[who], dict(form))
        self.work(moment)
        return True

    def start(self, moment: datetime, flow: str, who: str,
              form: Mapping[str, Any]) -> FlowInstance:
        """Start a flow as someone at a moment, then run the worker."""
        with clock.frozen(moment):
            instance = runtime.start_instance(self.session, flow, self.people[who], dict(form))
        self.started += 1
        self.work(moment)
        return instance


def _instances_of(keys: Sequence[str]) -> Any:
    """Return a query of the ids of the instances of some flows."""
    return (select(FlowInstance.id).join(catalog.DefinitionVersion)
            .join(catalog.Definition).where(catalog.Definition.key.in_(keys)))


def _problem_form(rng: random.Random, projects: Sequence[Record]) -> dict[str, Any]:
    """Return a raise form with a random share of its evidence filled in."""
    source, title, description = rng.choice(PROBLEMS)
    form: dict[str, Any] = {"title": title, "source": source, "description": description,
                            "sponsor": rng.choice(["director", "leader"]),
                            "goal": "消除问题根因 Remove the root cause"}
    if projects and rng.random() < 0.7:
        form["project"] = str(rng.choice(projects).id)
    share = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
    for name, make in EVIDENCE.items():
        if rng.random() < share:
            form[name] = str(make(rng))
    if "revenue_loss" in form and rng.random() < 0.7:
        form["fix_cost"] = str(rng.randrange(2, 20) * 10000)
    return form


def _review_form(rng: random.Random, completeness: float, moment: datetime) -> dict[str, Any]:
    """Return the leader's review: accepted more often when the evidence is complete."""
    form: dict[str, Any] = {"classification": rng.choice(["system", "mechanism", "people"]),
                            "frequency": rng.choice(["rare", "monthly", "weekly"]),
                            "impact": rng.choice(["low", "medium", "high"])}
    if rng.random() > 0.35 + completeness / 200:
        return {**form, "decision": "reject",
                "reject_reason": "证据不足或非系统性问题 Not enough evidence, or not systemic"}
    day = moment.astimezone(SHANGHAI).date()
    points = [{"action": f"行动项 Action point {n + 1}", "owner": rng.choice(DOERS),
               "due": (day + timedelta(days=rng.randrange(10, 30))).isoformat()}
              for n in range(rng.randrange(1, 3))]
    return {**form, "decision": "accept", "problem_owner": rng.choice(DOERS),
            "action_points": points}


Life = Iterator[datetime]  # yields the moment of its next act, acts when resumed


def _follow_up(story: Story, problem: FlowInstance, accepted: datetime, owner: str,
               sponsor: str) -> Life:
    """Carry out the action points, record progress (or stall) and verify when it is done."""
    rng = story.rng
    for action in _children(story.session, problem):
        task = next((t for t in action.tasks if t.state == "open"), None)
        if task is not None and task.due_at is not None:
            story.spawn(_action(story, action, task.due_at, accepted))
    moment = accepted
    if rng.random() < 0.35:  # stalled: the follow-ups escalate before anything moves
        weeks = rng.choice([2, 4, 6])
        for week in range(2, weeks + 1, 2):
            yield accepted + timedelta(weeks=week, minutes=1)
            story.work(accepted + timedelta(weeks=week, minutes=1))
        moment = accepted + timedelta(weeks=weeks, days=rng.randrange(1, 6))
    for _ in range(rng.randrange(0, 3)):
        moment += timedelta(days=rng.randrange(6, 13))
        yield moment
        story.act(moment, problem, "progress", owner,
                  {"progress_note": "推进中 Work goes on", "progress_state": "continue"})
    moment += timedelta(days=rng.randrange(5, 15))
    yield moment
    story.act(moment, problem, "progress", owner,
              {"progress_note": "行动项完成 Action points done", "progress_state": "verify"})
    before = rng.randrange(8, 30)
    verdict = "effective" if rng.random() < 0.85 else "not_effective"
    moment += timedelta(days=rng.randrange(1, 8))
    yield moment
    story.act(moment, problem, "verify", sponsor,
              {"metric": "每月发生次数 Occurrences per month", "before_value": str(before),
               "after_value": str(max(0, before - rng.randrange(3, 12))),
               "evidence_notes": "对比改进前后三个月的记录 Three months before and after",
               "verdict": verdict})


def _action(story: Story, action: FlowInstance, due: datetime, accepted: datetime) -> Life:
    """Carry out one action point early, on time or late."""
    done = max(due + timedelta(days=story.rng.choice([-4, -2, -1, 0, 1, 3, 6])), accepted)
    yield done
    task = next((t for t in action.tasks if t.state == "open"), None)
    if task is not None:
        story.act(done, action, "carry_out", task.assignee.username, {"outcome": "已完成 Done"})


def _children(session: Session, parent: FlowInstance) -> list[FlowInstance]:
    """Return the action point flows a problem started."""
    session.expire_all()
    return list(session.scalars(select(FlowInstance).where(FlowInstance.parent_id == parent.id)
                                .order_by(FlowInstance.id)))


def _rounds(until: datetime) -> list[datetime]:
    """Return the biweekly review Mondays at 10:00 over the year before ``until``."""
    day = (until - timedelta(weeks=52)).astimezone(SHANGHAI).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    first = datetime.combine(day, time(10), SHANGHAI)
    return [first + timedelta(weeks=2 * n) for n in range(26)
            if first + timedelta(weeks=2 * n) < until - timedelta(days=1)]


def _calendar(story: Story, projects: Sequence[Record]) -> Life:
    """Raise problems between reviews, hold each review and decide on what it lists."""
    rng = story.rng
    for number, review_at in enumerate(_rounds(story.until)):
        raised = sorted(review_at - timedelta(days=rng.randrange(2, 13), hours=rng.randrange(6))
                        for _ in range(rng.choice([0, 1, 1, 2] if number % 3 else [1, 2])))
        waiting = []
        for moment in raised:
            yield moment
            waiting.append(story.start(moment, "systemic_problem", rng.choice(RAISERS),
                                       _problem_form(rng, projects)))
        yield review_at
        round_ = story.start(review_at, "systemic_problem_review", "leader", {})
        reviewed = review_at + timedelta(days=rng.randrange(1, 4))
        yield reviewed
        for problem in waiting:
            record = story.session.get(Record, problem.data["problem_id"])
            completeness = float(record.data.get("evidence_completeness", 0)) if record else 0
            form = _review_form(rng, completeness, reviewed)
            if story.act(reviewed, problem, "review", "leader", form) and \
                    form["decision"] == "accept":
                story.spawn(_follow_up(story, problem, reviewed, form["problem_owner"],
                                       str(problem.data["sponsor"])))
        story.act(reviewed, round_, "hold", "leader",
                  {"round_notes": f"评审 {len(waiting)} 个问题 {len(waiting)} problems reviewed"})


def seed(session: Session, people: Mapping[str, User], projects: Sequence[Record],
         rng: random.Random, until: datetime) -> int:
    """Create this solution's history through the runtime API; return instances started."""
    story = Story(session, people, until, rng)
    story.spawn(_calendar(story, projects))
    while story.queue:
        moment, _, life = heapq.heappop(story.queue)
        if moment > until:
            continue
        story.resume(life)
    return story.started
