"""The demo organisation: four delivery regions, their people, and two leaders.

The six first demo users (``andon.demo.PEOPLE``) work in the East region; the
people here join them. Every region has a delivery director, project managers,
engineers and testers; each region is an org unit managed by its director.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import demo
from andon.identity.accounts import create_user, ensure_group, ensure_org_unit, new_password
from andon.identity.models import User


@dataclass(frozen=True)
class Region:
    """A delivery region: its org unit, its people by job, and how it tends to deliver."""

    key: str
    name: str
    label: str  # the project form's region value
    director: str
    managers: tuple[str, ...]
    engineers: tuple[str, ...]
    testers: tuple[str, ...]
    lateness: float  # the share of stages it finishes late, before step and trend factors
    overrun: float  # how far its cost runs over the budget's plan (1.0: on plan)


REGIONS = (
    Region("delivery-east", "华东交付中心 East delivery centre", "华东 East", "director",
           ("pm", "sun.li"), ("engineer1", "zhou.tao", "wu.bin"), ("engineer2", "wu.xia"),
           0.14, 1.02),
    Region("delivery-north", "华北交付中心 North delivery centre", "华北 North", "gao.feng",
           ("ma.jun", "yang.hui"), ("he.peng", "lu.yan", "guo.qiang"), ("tian.jing",),
           0.30, 1.12),
    Region("delivery-south", "华南交付中心 South delivery centre", "华南 South", "lin.hong",
           ("huang.wei", "xu.li"), ("chen.hao", "luo.ming", "feng.lei"), ("deng.yu",),
           0.20, 1.05),
    Region("delivery-intl", "国际交付中心 International delivery centre", "国际 International",
           "david.tan", ("priya.nair", "ahmad.rahman"), ("nguyen.an", "somchai.k"),
           ("maria.santos",), 0.42, 1.20),
)

#: display names of the people beyond the first six
NAMES = {
    "sun.li": "孙丽 Sun Li", "zhou.tao": "周涛 Zhou Tao", "wu.bin": "吴斌 Wu Bin",
    "wu.xia": "吴霞 Wu Xia",
    "gao.feng": "高峰 Gao Feng", "ma.jun": "马骏 Ma Jun", "yang.hui": "杨慧 Yang Hui",
    "he.peng": "何鹏 He Peng", "lu.yan": "陆燕 Lu Yan", "guo.qiang": "郭强 Guo Qiang",
    "tian.jing": "田静 Tian Jing",
    "lin.hong": "林红 Lin Hong", "huang.wei": "黄伟 Huang Wei", "xu.li": "徐莉 Xu Li",
    "chen.hao": "陈浩 Chen Hao", "luo.ming": "罗明 Luo Ming", "feng.lei": "冯磊 Feng Lei",
    "deng.yu": "邓雨 Deng Yu",
    "david.tan": "David Tan 陈大卫", "priya.nair": "Priya Nair", "ahmad.rahman": "Ahmad Rahman",
    "nguyen.an": "Nguyen Van An", "somchai.k": "Somchai Kittisak", "maria.santos": "Maria Santos",
    "qian.bo": "钱博 Qian Bo",
}
LEADERS = ("qian.bo",)
GROUPS = {**demo.GROUPS, "testers": "测试工程师 Testers"}
JOBS = {"director": "delivery-directors", "managers": "project-managers",
        "engineers": "engineers", "testers": "testers"}


def ensure_people(session: Session, password: str | None = None) -> dict[str, User]:
    """Create the regions' org units and the people missing; return everyone by user name."""
    groups = {key: ensure_group(session, key, name) for key, name in GROUPS.items()}
    existing = {user.username: user for user in session.scalars(select(User))}
    secret = password or new_password()  # nobody is told it: an admin sets theirs
    first: list[User] = []  # whose password hash the others share (hashing takes long)
    for region in REGIONS:
        unit = ensure_org_unit(session, region.key, region.name)
        for job, group_key in JOBS.items():
            usernames = getattr(region, job)
            for username in (usernames,) if isinstance(usernames, str) else usernames:
                if username in existing:
                    continue
                user = _create(session, username, ("member",), secret, first)
                user.org_unit = unit
                user.groups = [groups[group_key]]
                existing[username] = user
        if region.director in existing and region.key != "delivery-east":
            unit.manager_id = existing[region.director].id
    for username in LEADERS:
        if username not in existing:
            existing[username] = _create(session, username, ("leader",), secret, first)
    for username in REGIONS[0].testers:  # the East test lead is a tester too
        user = existing.get(username)
        if user is not None and groups["testers"] not in user.groups:
            user.groups.append(groups["testers"])
    session.flush()
    return existing


def _create(session: Session, username: str, roles: tuple[str, ...], password: str,
            first: list[User]) -> User:
    """Create one person (without an email address: the history sends no mail)."""
    user = create_user(session, username, NAMES[username], password, roles,
                       like=first[0] if first else None)
    first[:1] = [first[0] if first else user]
    return user


def region_of(label: str) -> Region:
    """Return the region whose project label this is."""
    return next(region for region in REGIONS if region.label == label)
