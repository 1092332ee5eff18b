"""A task that lands in someone's inbox tells them, once; not the person who just acted."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from andon import clock
from andon.config import Config
from andon.database import make_session_factory
from andon.flows import actions, announcements, runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.i18n import translator
from andon.notifications import preferences
from andon.notifications.center import message_of
from andon.notifications.models import Notification
from andon.worker import handlers, run_once

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
REQUEST = {"title": "Export", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}
REVIEW_OWNER = '<spiff:property name="owner" value="group:project-managers"/>'
DIRECTOR_OWNER = '<spiff:property name="owner" value="group:delivery-directors"/>'


def deploy(session, review: str = "group:project-managers",
           director: str = "group:delivery-directors") -> None:
    """Publish the change request with other owners on its two review steps."""
    source = Path("definitions/flows/change_request.bpmn").read_text()
    assert REVIEW_OWNER in source and DIRECTOR_OWNER in source
    source = source.replace(REVIEW_OWNER, f'<spiff:property name="owner" value="{review}"/>')
    source = source.replace(DIRECTOR_OWNER, f'<spiff:property name="owner" value="{director}"/>')
    deploy_flow(session, source.encode(), "cr.bpmn")
    session.commit()


def start(session, people, starter: str = "engineer1") -> FlowInstance:
    """Start a change request on Monday at 10:00 and commit."""
    with clock.frozen(MONDAY):
        instance = runtime.start_instance(session, "change_request", people[starter], REQUEST)
        session.commit()
    return instance


def told(session, people) -> dict[str, list[str]]:
    """Return each person's new-task notifications in English, by username."""
    session.expire_all()
    names = {user.id: name for name, user in people.items()}
    found: dict[str, list[str]] = {}
    for note in session.scalars(select(Notification).where(Notification.kind == "assigned")
                                .order_by(Notification.id)):
        found.setdefault(names[note.user_id], []).append(
            message_of(note).render(translator("en")))
    return found


def open_task(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def test_the_owner_is_told_of_the_new_task_with_its_due_time(session, people):
    deploy(session, review="user:pm")
    start(session, people)
    assert told(session, people) == {"pm": [
        "New task: “Project manager review” of “Export”, due 2026-03-04 10:00 (Asia/Shanghai) "
        "(15 working hours)"]}  # 7.5 working hours a day


def test_candidates_are_told_but_the_starter_who_acted_is_not(session, people):
    deploy(session, review="group:engineers")
    instance = start(session, people)  # engineer1 starts; engineer1 and engineer2 may take it
    assert list(told(session, people)) == ["engineer2"]
    (note,) = session.scalars(select(Notification).where(Notification.kind == "assigned"))
    assert note.task_id == open_task(instance).id  # the link opens the task


@pytest.mark.parametrize(("limit", "expected"), [
    (3, ["director", "engineer2", "pm"]),
    (2, []),  # more candidates than the limit: nobody is told, the inbox still shows it
])
def test_a_large_pool_of_candidates_is_not_flooded(session, people, monkeypatch, limit, expected):
    monkeypatch.setattr(announcements, "MAX_CANDIDATES", limit)
    deploy(session, review="role:member")  # pm, engineer1, engineer2, director
    instance = start(session, people)
    assert sorted(told(session, people)) == expected
    assert runtime.may_act(open_task(instance), people["engineer2"])


def test_nobody_is_told_of_a_step_their_own_action_opened(session, people):
    deploy(session, review="group:project-managers", director="user:pm")
    instance = start(session, people)
    with clock.frozen(MONDAY):
        runtime.complete_task(session, open_task(instance).id, people["pm"],
                              {"decision": "approve"})
        session.commit()
    assert open_task(instance).step_id == "director_approval"  # pm's own, untold
    with clock.frozen(MONDAY):
        actions.send_back(session, open_task(instance).id, people["pm"], "pm_review", "redo")
        session.commit()
    assert open_task(instance).step_id == "pm_review"  # back to the team pm is in, untold
    assert list(told(session, people)) == ["pm"]  # only when engineer1 opened pm_review
    assert len(told(session, people)["pm"]) == 1


def test_a_retry_tells_nobody_twice(session, people):
    deploy(session, review="user:pm")
    instance = start(session, people)
    assert announcements.announce(session, open_task(instance)) == []
    session.commit()
    assert len(told(session, people)["pm"]) == 1


def test_email_goes_only_to_those_who_want_new_tasks_by_email(session, people, engine,
                                                                tmp_path, server):
    preferences.choose(people["pm"], {"reminder.email": True})  # new tasks: in the app only
    session.commit()
    deploy(session, review="role:member")
    start(session, people)
    assert sorted(told(session, people)) == ["director", "engineer2", "pm"]
    config = Config.from_env({}, instance_path=tmp_path)
    config.smtp = server.settings
    with clock.frozen(MONDAY):
        run_once(make_session_factory(engine), handlers(config), MONDAY)
    mails = {mail["To"]: mail for mail in server.handler.messages}
    assert sorted(mails) == ["director@andon.example", "engineer2@andon.example"]
    mail = mails["engineer2@andon.example"]
    assert "“Export”" in mail["Subject"] and "/tasks/" in mail.get_content()


def test_a_candidate_copied_on_the_step_is_told_once(session, people):
    source = Path("definitions/flows/change_request.bpmn").read_text()
    deploy_flow(session, source.replace(
        REVIEW_OWNER, f'{REVIEW_OWNER}<spiff:property name="cc" value="user:pm"/>').encode(),
        "cr.bpmn")
    session.commit()
    start(session, people)  # pm is both a candidate and copied
    session.expire_all()
    kinds = session.scalars(select(Notification.kind).where(
        Notification.user_id == people["pm"].id))
    assert list(kinds) == ["cc"]
