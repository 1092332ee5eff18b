"""Dashboard digests reach subscribers through a real SMTP server: on their day, once, with
the numbers they may see."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from andon import catalog, clock
from andon.config import Config
from andon.database import make_session_factory
from andon.jobs import WorkItem
from andon.reports import subscriptions
from andon.reports.dashboard import check_dashboard, dumps
from andon.reports.definition import check_definition
from andon.reports.definition import dumps as dump_report
from andon.worker import handlers, run_once

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = {"frequency": "weekly", "day": "1", "locale": "en", "timezone": "Asia/Shanghai"}


def worker(engine, tmp_path, settings):
    """Return a function that runs the worker once at a (Shanghai) time."""
    config = Config.from_env({}, instance_path=tmp_path, base_url="https://andon.example")
    config.smtp = settings
    config.base_url = "https://andon.example"
    work, sessions = handlers(config), make_session_factory(engine)

    def run(*when: int) -> None:
        at = datetime(*when, tzinfo=SHANGHAI)
        with clock.frozen(at):
            run_once(sessions, work, at, "UTC")
    return run


def digests(server) -> list:
    """Return the digests the server received (the other emails are the tasks' own)."""
    return [m for m in server.handler.messages if m["Message-ID"].startswith("<dashboard_digest-")]


def test_a_weekly_digest_goes_on_its_day_once_with_the_periods_numbers(
        session, people, report_rows, engine, tmp_path, server):
    found = subscriptions.subscribe(session, people["leader"], "delivery_overview", WEEKLY)
    session.commit()
    run = worker(engine, tmp_path, server.settings)
    run(2026, 1, 18, 10)  # a Sunday
    run(2026, 1, 19, 7)  # Monday, before 08:00
    assert digests(server) == []
    run(2026, 1, 19, 9)
    run(2026, 1, 19, 9, 5)
    run(2026, 1, 19, 18)
    [mail] = digests(server)
    assert mail["To"] == "leader@andon.example"
    assert mail["Subject"] == "Delivery overview: digest for 2026-01-12 to 2026-01-18"
    assert mail["List-Unsubscribe"] == (f"<https://andon.example/dashboards/unsubscribe/"
                                        f"{found.token}>")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    # B's review (late) and approval (on time) were completed that week; A's review before
    assert "On-time rate: 50.0% (target 90.0%: not met)" in text
    assert "On-time rate\nChange request: 50.0%\n" in text
    assert "Overdue tasks\nOutsider: 1\n" in text  # overdue on the Monday: A's approval only
    assert ("https://andon.example/reports/on_time_rate_by_flow?period_from=2026-01-12"
            "&period_to=2026-01-18") in text
    assert "<strong>50.0%</strong>" in html and "Period covered: 2026-01-12 to 2026-01-18" in html
    run(2026, 1, 26, 9)  # the next Monday: the next week's digest
    assert len(digests(server)) == 2
    assert digests(server)[1]["Subject"].endswith("2026-01-19 to 2026-01-25")


def test_the_day_is_the_subscribers_in_their_zone_and_language(session, people, report_rows,
                                                              engine, tmp_path, server):
    subscriptions.subscribe(session, people["leader"], "delivery_overview",
                            {**WEEKLY, "timezone": "America/New_York", "locale": "zh_Hans_CN"})
    session.commit()
    run = worker(engine, tmp_path, server.settings)
    run(2026, 1, 19, 9)  # Monday in Shanghai, still Sunday evening in New York
    assert digests(server) == []
    run(2026, 1, 19, 22)  # Monday 09:00 in New York
    [mail] = digests(server)
    assert mail["Subject"].startswith("交付总览")
    assert "按时完成率" in mail.get_body(("plain",)).get_content()


def test_a_digest_counts_only_what_its_reader_may_see(session, people, report_rows, engine,
                                                      tmp_path, server):
    body = dict(catalog.current(session, "report", "workload_per_person").content,
                roles=["member", "leader"])
    report = check_definition(body, "w.json", session)
    catalog.publish(session, "report", report.key, report.title, json.dumps(body),
                    dump_report(report))
    team = {"key": "team", "title": {"en": "Team", "zh-CN": "团队"}, "roles": ["member"],
            "tiles": [{"report": "workload_per_person"}, {"report": "overdue_tasks_by_owner"}]}
    spec = check_dashboard(team, "team.json", session)
    catalog.publish(session, "dashboard", "team", spec.title, json.dumps(team), dumps(spec))
    for who in ("engineer1", "admin"):
        subscriptions.subscribe(session, people[who], "team", WEEKLY)
    session.commit()
    worker(engine, tmp_path, server.settings)(2026, 1, 19, 9)
    mails = {m["To"]: m.get_body(("plain",)).get_content() for m in digests(server)}
    member, admin = mails["engineer1@andon.example"], mails["admin@andon.example"]
    assert "Delivery director approval" in member and "Project manager review" not in member
    assert "This report is not open to your role." in member
    assert "Project manager review" in admin and "not open to your role" not in admin


def test_a_retried_digest_is_not_sent_twice(session, people, report_rows, engine, tmp_path,
                                            server):
    subscriptions.subscribe(session, people["leader"], "delivery_overview", WEEKLY)
    session.commit()
    run = worker(engine, tmp_path, server.settings)
    run(2026, 1, 19, 9)
    item = session.scalar(select(WorkItem).where(WorkItem.kind == "dashboard_digest"))
    item.state, item.lease_until, item.lease_owner = "pending", None, None  # as if lost
    session.commit()
    run(2026, 1, 19, 10)
    assert len(digests(server)) == 1


def test_a_reader_who_may_no_longer_open_the_dashboard_gets_no_digest(
        session, people, report_rows, engine, tmp_path, server):
    subscriptions.subscribe(session, people["leader"], "delivery_overview", WEEKLY)
    people["leader"].role_rows.clear()  # no longer a leader
    session.commit()
    worker(engine, tmp_path, server.settings)(2026, 1, 19, 9)
    assert digests(server) == []
