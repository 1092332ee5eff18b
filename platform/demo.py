"""Demo data: an org unit, teams, six people and a little history.

The history: two client projects (records of the ``project`` form), the
delivery of the first, waiting at its build stage, and two change requests
against them (change approval), one waiting for the project manager and one,
above 10 man-days, for the delivery director.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import clock
from andon.flows import runtime
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.identity.accounts import create_user, ensure_group, ensure_org_unit, new_password
from andon.identity.models import User


@dataclass(frozen=True)
class Person:
    """A demo user."""

    username: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()


PEOPLE = [
    Person("admin", "Admin 管理员", ("admin", "designer")),
    Person("pm", "王芳 Wang Fang", ("member",), ("project-managers",)),
    Person("engineer1", "李雷 Li Lei", ("member",), ("engineers",)),
    Person("engineer2", "韩梅梅 Han Meimei", ("member",), ("engineers",)),
    Person("director", "陈静 Chen Jing", ("member",), ("delivery-directors",)),
    Person("leader", "赵强 Zhao Qiang", ("leader",)),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUPS = {"project-managers": "项目经理 Project managers", "engineers": "工程师 Engineers",
          "delivery-directors": "交付总监 Delivery directors"}


def create_people(session: Session, password: str | None = None) -> dict[str, str]:
    """Create the demo users that do not exist yet; return their new passwords."""
    unit = ensure_org_unit(session, "delivery-east", "华东交付中心 East delivery centre")
    groups = {key: ensure_group(session, key, name) for key, name in GROUPS.items()}
    passwords = {}
    for person in PEOPLE:
        if session.scalar(select(User).where(User.username == person.username)):
            continue
        passwords[person.username] = password or new_password()
        user = create_user(session, person.username, person.name, passwords[person.username],
                           person.roles, email=f"{person.username}@andon.example")
        user.org_unit = unit
        user.groups = [groups[key] for key in person.groups]
    session.flush()
    pm = session.scalar(select(User).where(User.username == "pm"))
    unit.manager_id = pm.id if pm else None
    return passwords


CHANGES = [  # (requester, project code, change_start form without the project)
    ("engineer1", "PRJ-2026-014",
     {"title": "增加报表导出 Add export to the weekly report",
      "reason": "客户要求 Customer request", "scope": "Excel and PDF export of the weekly report",
      "development_days": "3", "deployment_days": "1", "cost_impact": "8000",
      "schedule_impact_days": "0", "requester": "刘洋 Liu Yang"}),
    ("engineer2", "PRJ-2026-021",
     {"title": "对接新计费系统 Integrate the new billing system",
      "reason": "合同变更 Contract amendment",
      "scope": "Two new interfaces and a data migration", "development_days": "28",
      "deployment_days": "8", "cost_impact": "180000", "schedule_impact_days": "15",
      "requester": "孙伟 Sun Wei"}),
]


def projects(today: date) -> list[dict[str, Any]]:
    """Return the demo projects, their dates counted from today."""

    def day(offset: int) -> str:
        """Return the ISO date ``offset`` days from today."""
        return (today + timedelta(days=offset)).isoformat()

    return [
        {"name": "华东电网调度平台 Grid dispatch platform", "code": "PRJ-2026-014",
         "client": "华东电网 East China Grid", "region": "华东 East", "status": "active",
         "project_manager": "pm", "delivery_director": "director",
         "start_date": day(-30), "end_date": day(120),
         "contract_value": 2400000, "budget_amount": 1500000, "cost_to_date": 420000,
         "milestones": [
             {"milestone": "需求确认 Requirements signed off", "due_date": day(-5),
              "amount": 480000,
              "acceptance_criteria": "需求规格说明书客户签字 SRS signed by the customer",
              "status": "done"},
             {"milestone": "上线试运行 Go-live", "due_date": day(90), "amount": 1200000,
              "acceptance_criteria": "试运行30天无一级故障 30 days without a severity-1 incident",
              "status": "open"},
             {"milestone": "终验 Final acceptance", "due_date": day(120), "amount": 720000,
              "acceptance_criteria": "终验报告客户签字 Final report signed", "status": "open"}],
         "effort": [
             {"role": "项目经理 Project manager", "budget_days": 100, "actual_days": 30,
              "day_rate": 2500},
             {"role": "开发 Developer", "budget_days": 400, "actual_days": 110, "day_rate": 2000},
             {"role": "测试 Tester", "budget_days": 120, "actual_days": 10, "day_rate": 1600}],
         "team": [{"member": "pm", "role": "项目经理 Project manager", "allocation": 100},
                  {"member": "engineer1", "role": "技术负责人 Tech lead", "allocation": 100},
                  {"member": "engineer2", "role": "测试负责人 Test lead", "allocation": 50}]},
        {"name": "苏州智慧水务 Suzhou smart water", "code": "PRJ-2026-021",
         "client": "苏州水务集团 Suzhou Water Group", "region": "华东 East", "status": "planned",
         "project_manager": "pm", "delivery_director": "director",
         "start_date": day(60), "end_date": day(240),
         "contract_value": 1800000, "budget_amount": 1100000, "cost_to_date": 0,
         "milestones": [
             {"milestone": "方案确认 Solution signed off", "due_date": day(100),
              "amount": 540000, "acceptance_criteria": "方案评审通过 Solution review passed",
              "status": "open"}],
         "team": [{"member": "engineer2", "role": "技术负责人 Tech lead", "allocation": 80}]},
    ]


STAGES = [  # the delivery's first stages, each completed by its owner (sign-offs dated today)
    ("pm", {"summary": "启动会已召开，范围、计划和沟通机制已确认 Kickoff held; scope, plan "
                       "and reporting agreed",
            "next_steps": "需求调研 Requirements workshops", "days_spent": "3"}),
    ("pm", {"summary": "需求规格说明书和总体方案 SRS and solution design",
            "signoff_result": "accepted", "signed_by": "刘洋 Liu Yang",
            "signer_title": "信息中心主任 Head of IT",
            "customer_comments": "同意按此方案实施 Agreed"}),
    ("engineer1", {"summary": "工作分解：42个工作包，480人天 WBS: 42 work packages, "
                              "480 man-days",
                   "issues": "接口文档待客户提供 Interface specs still due from the customer",
                   "days_spent": "4"}),
]


def seed_history(session: Session) -> int:
    """Start a delivery and two change requests; the project manager approves the large one.

    Return how many instances were started.
    """
    users = {u.username: u for u in session.scalars(select(User))}
    started = seed_delivery(session, users)
    by_code = {r.data["code"]: r for r in session.scalars(
        select(Record).where(Record.form_key == "project"))}
    instances = [runtime.start_instance(session, "change_approval", users[who],
                                        {**form, "project": str(by_code[code].id)})
                 for who, code, form in CHANGES]
    review = next(t for t in instances[1].tasks if t.state == "open")
    runtime.complete_task(session, review.id, users["pm"],
                          {"decision": "approve", "comment": "范围清楚 Scope is clear"})
    return started + len(instances)


def seed_delivery(session: Session, users: dict[str, User]) -> int:
    """Create the demo projects and take the first one's delivery to its build stage."""
    today = clock.now().astimezone(SHANGHAI).date()
    records = [create_record(session, "project", project, users["pm"])
               for project in projects(today)]
    delivery = runtime.start_instance(session, "project_delivery", users["pm"], {
        "title": "交付 Delivery: 华东电网调度平台 Grid dispatch platform",
        "project": str(records[0].id), "delivery_director": "director",
        "tech_lead": "engineer1", "test_lead": "engineer2",
        "planned_acceptance": (today + timedelta(days=120)).isoformat()})
    for owner, form in STAGES:
        task = next(t for t in delivery.tasks if t.state == "open")
        signed = {"signed_on": today.isoformat()} if "signoff_result" in form else {}
        runtime.complete_task(session, task.id, users[owner], {**form, **signed})
    return 1
