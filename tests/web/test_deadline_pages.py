"""The inbox shows deadlines and flags what is late; notifications have an unread badge."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from andon import clock
from andon.config import Config
from andon.database import make_session_factory
from andon.worker import handlers, run_once

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
REQUEST = {"title": "Nightly export", "project": "P", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}


def request_change(auth) -> None:
    """Have engineer1 request a change on Monday morning."""
    with clock.frozen(MONDAY):
        auth.login("engineer1")
        assert auth.post("/start/change_request", REQUEST).status_code == 302


def test_the_inbox_shows_the_deadline_and_flags_it_once_late(client, auth):
    request_change(auth)
    auth.login("pm")
    with clock.frozen(datetime(2026, 3, 3, 10, tzinfo=SHANGHAI)):
        page = client.get("/inbox/").get_data(as_text=True)
        assert "On track" in page and "7 h 30 min of working time left" in page
        assert "Nightly export" not in client.get("/inbox/?view=overdue").get_data(as_text=True)
    with clock.frozen(datetime(2026, 3, 4, 14, 30, tzinfo=SHANGHAI)):
        page = client.get("/inbox/?view=overdue").get_data(as_text=True)
        assert "Nightly export" in page and "row-overdue" in page
        assert "3 h 0 min of working time late" in page


def test_escalations_reach_the_manager_with_an_unread_badge(client, auth, engine, tmp_path):
    request_change(auth)
    late = datetime(2026, 3, 4, 10, 30, tzinfo=SHANGHAI)
    with clock.frozen(late):
        run_once(make_session_factory(engine),
                 handlers(Config.from_env({}, instance_path=tmp_path)), late)
    auth.login("pm")  # the manager of the starter's org unit, and a reviewer
    badge = client.get("/notifications/count", headers={"HX-Request": "true"})
    assert ">4<" in badge.get_data(as_text=True)  # new task, reminder, escalation, digest
    page = client.get("/notifications/").get_data(as_text=True)
    assert "New task: “Project manager review” of “Nightly export”, due 2026-03-04 10:00" in page
    assert "Overdue: “Project manager review” of “Nightly export” is past its due time" in page
    assert "Reminder:" in page and 'class="unread"' in page
    auth.post("/notifications/read")
    assert ">" not in client.get("/notifications/count").get_data(as_text=True).strip()


def test_the_record_shows_which_deadlines_were_met(client, auth, session):
    from sqlalchemy import select

    from andon.flows.models import Task

    request_change(auth)
    review = session.scalar(select(Task).where(Task.state == "open"))
    auth.login("pm")
    with clock.frozen(datetime(2026, 3, 5, 9, 30, tzinfo=SHANGHAI)):  # a day late
        page = client.get(f"/tasks/{review.id}").get_data(as_text=True)
        assert "Overdue" in page and "of working time late" in page
        refused = auth.post(f"/tasks/{review.id}", {"decision": "approve"})
        assert refused.status_code == 422  # a late task needs its cause on the page
        auth.post(f"/tasks/{review.id}", {"decision": "approve",
                                          "cause": "internal.people.overload"})
    page = client.get(f"/instances/{review.instance_id}").get_data(as_text=True)
    assert '<span class="deadline deadline-overdue">late</span>' in page
    assert "Cause of the delay: Internal › People" in page


def test_managers_see_their_teams_overdue_tasks(client, auth):
    request_change(auth)
    with clock.frozen(datetime(2026, 3, 6, 10, tzinfo=SHANGHAI)):
        assert "My team" not in client.get("/inbox/").get_data(as_text=True)  # engineer1
        auth.login("pm")
        page = client.get("/inbox/?view=team_overdue").get_data(as_text=True)
        assert "My team's overdue" in page and "Nightly export" in page


def test_the_record_says_when_a_resume_moved_a_due_time(client, auth, session):
    from sqlalchemy import select

    from andon.flows.models import Task

    request_change(auth)  # due Wednesday 10:00
    instance_id = session.scalar(select(Task.instance_id).where(Task.state == "open"))
    auth.login("admin")
    with clock.frozen(datetime(2026, 3, 2, 14, tzinfo=SHANGHAI)):
        auth.post(f"/instances/{instance_id}/suspend", {"text": "Contract on hold"})
    with clock.frozen(datetime(2026, 3, 3, 9, tzinfo=SHANGHAI)):  # four working hours later
        auth.post(f"/instances/{instance_id}/resume")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "got the time the flow was suspended back" in page
    session.expire_all()
    review = session.scalar(select(Task).where(Task.state == "open"))
    assert review.due_at == datetime(2026, 3, 4, 15, 30, tzinfo=SHANGHAI)


def test_the_record_says_why_a_step_has_no_due_time(client, auth, session):
    from pathlib import Path

    from andon.flows.deploy import deploy_flow
    from andon.forms.store import deploy_form

    data = Path(__file__).parent.parent / "data" / "deadlines"
    deploy_form(session, (data / "acceptance.json").read_text(), "acceptance.json")
    deploy_flow(session, (data / "acceptance.bpmn").read_bytes(), "acceptance.bpmn")
    session.commit()
    auth.login("engineer1")
    started = auth.post("/start/acceptance", {"title": "Site acceptance", "acceptance_date": ""})
    page = client.get(started.location).get_data(as_text=True)
    assert "has no due time: its deadline_at expression failed" in page
    assert "Unknown name &#39;acceptance_date&#39;" in page
    chinese = client.get(started.location, headers={"Accept-Language": "zh-CN"})
    assert "未知名称“acceptance_date”" in chinese.get_data(as_text=True)
