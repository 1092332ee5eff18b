"""Demo history of receivable exceptions: a year of orders to cash, a few late stages.

Each order is a record of the ``order`` form whose ``order_to_cash`` flow starts
with it. Most stages are done before their due time; a late one raises a
receivable exception through the stage's own escalation (the worker's handler
run at the historical moment), which its owner classifies with a believable
cause, sometimes after dispatching it to a colleague, sometimes after the
leaders were told, and then resolves. Everything goes through the runtime with
``andon.clock.frozen`` so each timestamp is historical.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock, jobs
from andon.demo_history import lateness
from andon.flows import actions, escalations, record_starts, services
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.forms.schema import FormSpec
from andon.identity.accounts import create_user, new_password
from andon.identity.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDERS = 100  # orders over the year for the full demo's 40 projects; fewer with fewer
MONTHS = 12
FINANCE = {"finance1": "孙丽 Sun Li", "finance2": "周洋 Zhou Yang"}
STAGES = ("delivery", "confirmation", "billing", "reconciliation", "invoicing", "acceptance",
          "payment")
LATE = {"delivery": 0.04, "confirmation": 0.06, "billing": 0.04, "reconciliation": 0.06,
        "invoicing": 0.05, "acceptance": 0.04, "payment": 0.10}
CAUSES = {
    "delivery": ["internal.mechanism.resource_conflict", "internal.mechanism.planning",
                 "external.mechanism.customer_environment",
                 "external.mechanism.third_party_dependency"],
    "confirmation": ["external.mechanism.delivery_signoff_delay",
                     "external.people.customer_unavailable",
                     "external.mechanism.confirmation_delay"],
    "billing": ["internal.mechanism.billing_late", "internal.mechanism.delivery_incomplete",
                "internal.people.overload"],
    "reconciliation": ["external.mechanism.reconciliation_dispute",
                       "external.mechanism.customer_documents",
                       "internal.mechanism.billing_data"],
    "invoicing": ["external.system.invoicing_rules", "internal.mechanism.billing_data",
                  "internal.people.finance_handover"],
    "acceptance": ["external.mechanism.invoice_rejected",
                   "external.people.customer_finance_unavailable"],
    "payment": ["external.system.customer_payment_approval", "external.system.customer_funds",
                "internal.mechanism.collection_follow_up", "internal.system.credit_control"],
}
FINDINGS = ["已与客户沟通，原因已确认 Confirmed with the customer",
            "内部复核后确认 Confirmed after an internal review",
            "与上月同类问题相同 Same as a similar case last month"]
RESOLUTIONS = ["已补齐资料并重新提交 Documents completed and resubmitted",
               "已与客户对齐并取得确认 Aligned with the customer and confirmed",
               "已安排专人跟进直至完成 A named person followed it up to the end"]
HANDLERS: dict[str, jobs.Handler] = {"escalate": escalations.escalate,
                                     services.KIND: services.handler(False)}


def seed(session: Session, people: Mapping[str, User], projects: Sequence[Record],
         rng: random.Random, until: datetime) -> int:
    """Create this solution's history through the runtime API; return instances started."""
    staff = {**people, **_finance(session)}
    spec = FormSpec(**catalog.current(session, "form", "order").content)
    first = until - timedelta(days=30 * MONTHS)
    count = min(ORDERS, max(10, 5 * len(projects) // 2)) if projects else ORDERS
    moments = sorted(_working_moment(first + (until - first) * rng.random() * 0.97, rng)
                     for _ in range(count))
    started = 0
    for number, moment in enumerate(moments, start=1):
        project = rng.choice(projects) if projects and rng.random() < 0.7 else None
        data = _order(number, moment, project, rng)
        with clock.frozen(moment):
            record = create_record(session, "order", data, staff[data["confirmation_owner"]])
            instance = record_starts.start_for(session, spec, record,
                                               staff[data["confirmation_owner"]])
        assert instance is not None
        started += 1 + _run_stages(session, instance, staff, rng, until)
    session.flush()
    return started


def _finance(session: Session) -> dict[str, User]:
    """Return the two finance clerks, creating them when missing."""
    found = {}
    for username, name in FINANCE.items():
        user = session.scalar(select(User).where(User.username == username))
        found[username] = user or create_user(session, username, name, new_password(),
                                              email=f"{username}@andon.example")
    return found


def _working_moment(moment: datetime, rng: random.Random) -> datetime:
    """Return a weekday between 09:30 and 17:00 in Shanghai on or after a moment's day."""
    day = moment.astimezone(SHANGHAI).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.randrange(9 * 60 + 30, 17 * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), SHANGHAI)


def _order(number: int, moment: datetime, project: Record | None,
           rng: random.Random) -> dict[str, object]:
    """Return an order's data: its customer, amount and the owner of each stage."""
    manager = str(project.data.get("project_manager") or "pm") if project else "pm"
    data: dict[str, object] = {
        "customer": str(project.data.get("client")) if project else rng.choice(
            ["华东电网 East China Grid", "南方航空 China Southern Airlines",
             "招商银行 China Merchants Bank", "上汽集团 SAIC Motor"]),
        "order_number": f"SO-{moment:%Y%m}-{number:04d}",
        "amount": round(rng.uniform(20000, 600000), -2), "currency": "CNY",
        "order_date": moment.astimezone(SHANGHAI).date().isoformat(), "status": "open",
        "delivery_owner": rng.choice(["engineer1", "engineer2"]),
        "confirmation_owner": manager, "billing_owner": "finance1",
        "reconciliation_owner": "finance1", "invoicing_owner": "finance2",
        "acceptance_owner": "finance2", "payment_owner": manager}
    if project is not None:
        data["project"] = project.id
    return data


def _run_stages(session: Session, instance: FlowInstance, staff: Mapping[str, User],
                rng: random.Random, until: datetime) -> int:
    """Complete the order's stages in turn, some late; return the exceptions started."""
    raised = 0
    for stage in STAGES:
        task = _open(instance, stage)
        if task is None or task.due_at is None:
            return raised
        late = rng.random() < LATE[stage]
        done = _finish_time(task, late, rng)
        if late and task.due_at + timedelta(minutes=5) < until:
            raised += _raise(session, task, staff, rng, until)
        if done > until:
            return raised
        with clock.frozen(done):
            lateness.finish(session, task, task.assignee,
                            {"reference": f"{stage[:3].upper()}-{task.id}"}, CAUSES.get(stage, ()))
    _services(session, instance, done)  # the order is marked paid
    return raised


def _finish_time(task: Task, late: bool, rng: random.Random) -> datetime:
    """Return when a stage is done: well inside its time, or some hours to days after it."""
    assert task.due_at is not None
    if late:
        return task.due_at + timedelta(hours=rng.uniform(3, 120))
    return task.created_at + (task.due_at - task.created_at) * rng.uniform(0.15, 0.9)


def _raise(session: Session, task: Task, staff: Mapping[str, User], rng: random.Random,
           until: datetime) -> int:
    """Let the late stage's escalation start its exception, then work the exception."""
    assert task.due_at is not None
    moment = task.due_at + timedelta(minutes=5)
    _perform(session, select(jobs.WorkItem).where(
        jobs.WorkItem.task_id == task.id, jobs.WorkItem.kind == "escalate",
        jobs.WorkItem.payload["level"].as_integer() == 0), moment)
    child = session.scalar(select(FlowInstance).where(FlowInstance.parent_id == task.instance_id)
                           .order_by(FlowInstance.id.desc()))
    if child is None:
        return 0
    _services(session, child, moment)
    _work_exception(session, child, task.step_id, staff, rng, until)
    return 1


def _work_exception(session: Session, child: FlowInstance, stage: str,
                    staff: Mapping[str, User], rng: random.Random, until: datetime) -> None:
    """Classify the exception (maybe dispatched, maybe late) and resolve it."""
    classify = _open(child, "classify")
    if classify is None or classify.due_at is None:
        return
    owner = classify.assignee
    if rng.random() < 0.25:  # dispatched to a colleague who knows the case
        other = staff[rng.choice([n for n in ("finance1", "finance2", "pm") if
                                  staff[n].id != owner.id])]
        with clock.frozen(classify.created_at + timedelta(minutes=40)):
            actions.transfer(session, classify.id, owner, other, "更了解此客户 Knows this customer")
        owner = other
    located = _step_time(classify, rng.random() < 0.82, rng)
    if located > until:
        return
    if located > classify.due_at:
        _escalations(session, classify, located)
    with clock.frozen(located):
        lateness.finish(session, classify, owner, {
            "cause": rng.choice(CAUSES[stage]), "finding": rng.choice(FINDINGS),
            "owner": owner.username})
    _services(session, child, located)
    resolve = _open(child, "resolve")
    if resolve is None or resolve.due_at is None:
        return
    resolved = _step_time(resolve, rng.random() < 0.78, rng)
    if resolved > until:
        return
    if resolved > resolve.due_at:
        _escalations(session, resolve, resolved)
    with clock.frozen(resolved):
        lateness.finish(session, resolve, resolve.assignee,
                        {"resolution": rng.choice(RESOLUTIONS)})
    _services(session, child, resolved)


def _step_time(task: Task, in_time: bool, rng: random.Random) -> datetime:
    """Return when an exception step is done: before its due time or up to two days after."""
    assert task.due_at is not None
    if in_time:
        return task.created_at + (task.due_at - task.created_at) * rng.uniform(0.1, 0.95)
    return task.due_at + timedelta(hours=rng.uniform(1, 48))


def _escalations(session: Session, task: Task, moment: datetime) -> None:
    """Run the task's escalation levels that are due by a moment."""
    _perform(session, select(jobs.WorkItem).where(jobs.WorkItem.task_id == task.id,
                                                  jobs.WorkItem.kind == "escalate"), moment)


def _services(session: Session, instance: FlowInstance, moment: datetime) -> None:
    """Run the instance's waiting service steps (its records) at a moment."""
    _perform(session, select(jobs.WorkItem).where(jobs.WorkItem.instance_id == instance.id,
                                                  jobs.WorkItem.kind == services.KIND), moment)


def _perform(session: Session, query: object, moment: datetime) -> None:
    """Run the pending work items a query finds that are due by a moment, as the worker would."""
    assert hasattr(query, "where")
    items = session.scalars(query.where(jobs.WorkItem.state == "pending",
                                        jobs.WorkItem.due_at <= moment)
                            .order_by(jobs.WorkItem.due_at, jobs.WorkItem.id)).all()
    for item in items:  # each at its own due time, as a running worker would
        at = item.due_at
        with clock.frozen(at):
            item.lease_owner, item.lease_until = "demo", at + jobs.LEASE
            session.flush()
            jobs.perform(session, item.id, HANDLERS, at, "demo")


def _open(instance: FlowInstance, step: str) -> Task | None:
    """Return the instance's open task of a step, if any."""
    return next((t for t in instance.tasks if t.state == "open" and t.step_id == step), None)
