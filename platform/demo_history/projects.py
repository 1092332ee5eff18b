"""The demo's client projects: believable clients, contracts, milestones, effort and teams.

Projects are planned from a seeded random generator, spread evenly over the
months before ``until``; the last few are still to start. Each is stored as a
record of the ``project`` form by its project manager a few days before it starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from andon import clock
from andon.demo_history.people import REGIONS, Region
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.identity.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLIENTS = {
    "delivery-east": ("上海地铁 Shanghai Metro", "杭州银行 Bank of Hangzhou",
                      "宁波舟山港 Ningbo-Zhoushan Port", "江苏移动 China Mobile Jiangsu",
                      "苏州工业园区 Suzhou Industrial Park", "浙江省人民医院 Zhejiang Provincial "
                      "People's Hospital"),
    "delivery-north": ("国家电网华北分部 State Grid North China", "天津港 Tianjin Port",
                       "首都机场 Beijing Capital Airport", "河钢集团 HBIS Group",
                       "中信银行 China CITIC Bank", "北京协和医院 Peking Union Medical College "
                       "Hospital"),
    "delivery-south": ("深圳地铁 Shenzhen Metro", "广州白云机场 Guangzhou Baiyun Airport",
                       "南方电网 China Southern Power Grid", "招商银行 China Merchants Bank",
                       "美的集团 Midea Group", "广汽集团 GAC Group"),
    "delivery-intl": ("新加坡公用事业局 Singapore PUB", "马来亚银行 Maybank",
                      "泰国国家石油 PTT Thailand", "越南航空 Vietnam Airlines",
                      "印尼电信 Telkom Indonesia", "迪拜水电局 Dubai Electricity and Water"),
}
SYSTEMS = ("调度平台 dispatch platform", "数据中台 data platform",
           "客户服务系统 customer service system", "智慧运维 smart maintenance",
           "计费系统 billing system", "资产管理 asset management",
           "安全监控 security monitoring", "ERP集成 ERP integration", "票务系统 ticketing system",
           "移动办公 mobile workplace")
ROLES = (("项目经理 Project manager", 0.14, 2500), ("架构师 Architect", 0.08, 3200),
         ("开发 Developer", 0.58, 2000), ("测试 Tester", 0.20, 1600))


@dataclass
class Plan:
    """One project to create: its region, when it starts, and its record's data."""

    region: Region
    start: datetime
    data: dict[str, Any]
    record: Record | None = None
    traits: dict[str, float] = field(default_factory=dict)


def plan(rng: random.Random, count: int, months: int, until: datetime) -> list[Plan]:
    """Plan ``count`` projects over the ``months`` before ``until``; the last few start later."""
    planned = max(1, count // 20)
    first = until - timedelta(days=months * 30.4)
    span = (until - timedelta(days=3) - first) / max(1, count - planned)
    plans = []
    for index in range(count):
        if index < count - planned:
            moment = first + span * (index + rng.uniform(0, 0.7))
        else:
            moment = until + timedelta(days=rng.randint(15, 60))
        plans.append(_one(rng, index, REGIONS[index % len(REGIONS)], _working(moment)))
    return plans


def _working(moment: datetime) -> datetime:
    """Return the moment's day at half past nine in Shanghai, moved off the weekend."""
    day = moment.astimezone(SHANGHAI).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 30), SHANGHAI)


def _one(rng: random.Random, index: int, region: Region, start: datetime) -> Plan:
    """Plan one project of a region starting at a moment."""
    client, system = rng.choice(CLIENTS[region.key]), rng.choice(SYSTEMS)
    value = round(rng.lognormvariate(14.6, 0.55) / 10000) * 10000  # about 2.2 million
    budget = round(value * rng.uniform(0.55, 0.7) / 1000) * 1000
    months = 3 + min(9, int(value / 900000))
    end = start.date() + timedelta(days=months * 30)
    data = {
        "name": f"{client.split(' ')[0]}{system}", "code": f"PRJ-{start.year}-{101 + index:03d}",
        "client": client, "region": region.label, "status": "planned",
        "project_manager": rng.choice(region.managers), "delivery_director": region.director,
        "start_date": start.date().isoformat(), "end_date": end.isoformat(),
        "contract_value": value, "budget_amount": budget, "cost_to_date": 0,
        "milestones": _milestones(start.date(), end, value),
        "effort": [{"role": role, "budget_days": round(budget * share / rate * 2) / 2,
                    "actual_days": 0, "day_rate": rate} for role, share, rate in ROLES],
        "notes": f"{system.split(' ', 1)[1].capitalize()} for {client.split(' ', 1)[1]}."}
    plan = Plan(region, start, data)
    lead, tester = rng.choice(region.engineers), rng.choice(region.testers)
    data["team"] = [
        {"member": data["project_manager"], "role": "项目经理 Project manager",
         "allocation": 100},
        {"member": lead, "role": "技术负责人 Tech lead", "allocation": 100},
        *[{"member": name, "role": "开发 Developer", "allocation": rng.choice((50, 80, 100))}
          for name in region.engineers if name != lead][:2],
        {"member": tester, "role": "测试负责人 Test lead", "allocation": rng.choice((50, 100))}]
    plan.traits = {"lead": region.engineers.index(lead), "tester": region.testers.index(tester),
                   "overrun": region.overrun * rng.uniform(0.9, 1.15)}
    return plan


def _milestones(start: date, end: date, value: float) -> list[dict[str, Any]]:
    """Return the contract's payment milestones between its start and end."""
    span = (end - start).days
    return [
        {"milestone": "需求确认 Requirements signed off", "amount": round(value * 0.2),
         "due_date": (start + timedelta(days=30)).isoformat(),
         "acceptance_criteria": "需求规格说明书客户签字 SRS signed by the customer",
         "status": "open"},
        {"milestone": "上线试运行 Go-live", "amount": round(value * 0.5),
         "due_date": (start + timedelta(days=max(60, span * 2 // 3))).isoformat(),
         "acceptance_criteria": "试运行30天无一级故障 30 days without a severity-1 incident",
         "status": "open"},
        {"milestone": "终验 Final acceptance", "amount": round(value * 0.3),
         "due_date": end.isoformat(),
         "acceptance_criteria": "终验报告客户签字 Final report signed", "status": "open"}]


def create(session: Session, plans: list[Plan], people: dict[str, User],
           rng: random.Random, until: datetime) -> None:
    """Store each planned project as a record, as its manager, days before it starts."""
    for each in plans:
        signed = each.start - timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 5))
        with clock.frozen(min(signed, until)):
            each.record = create_record(session, "project", each.data,
                                        people[each.data["project_manager"]])
