"""Dashboard pages: home page after sign-in, tiles loaded one by one, shared parameters,
access, digest subscriptions and the unsubscribe link."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from andon import catalog
from andon.reports.dashboard import check_dashboard, dumps
from andon.reports.definition import check_definition
from andon.reports.definition import dumps as dump_report
from andon.reports.models import DigestSubscription

HTMX = {"HX-Request": "true"}


def tile_urls(html: str) -> list[str]:
    """Return the URLs the page's tiles load themselves from."""
    return [url.replace("&amp;", "&") for url in re.findall(r'hx-get="(/dashboards/[^"]+/tiles/'
                                                          r'[^"]+)"', html)]


def test_a_leader_lands_on_the_dashboard_others_on_the_inbox(client, auth):
    signed_in = auth.login("leader")
    assert signed_in.location == "/"
    assert client.get("/").location == "/dashboards/delivery_overview"
    page = client.get("/dashboards/delivery_overview").get_data(as_text=True)
    assert "Delivery overview" in page and 'name="period_from"' in page
    assert len(tile_urls(page)) == 8  # every tile of the shipped definition
    assert "chart-option" not in page  # no tile's numbers hold the page up: each loads itself
    client.post("/auth/logout", data={"csrf_token": auth.csrf("/inbox/")})
    auth.login("engineer1")
    assert client.get("/").location == "/inbox/"
    assert client.get("/dashboards/delivery_overview").status_code == 403
    assert "No dashboards are open to you." in client.get("/dashboards/").get_data(as_text=True)


def test_the_dashboard_speaks_the_readers_language(client, auth):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    auth.login("leader")
    page = client.get("/dashboards/delivery_overview").get_data(as_text=True)
    assert "<h1>交付总览</h1>" in page and "按月按时完成率" in page


def test_the_home_page_is_a_choice_the_person_can_change(client, auth):
    auth.login("leader")
    back = auth.post("/dashboards/home", {"dashboard": ""})
    assert back.location == "/inbox/" and client.get("/").location == "/inbox/"
    assert "Make this my home page" in client.get("/dashboards/delivery_overview").get_data(
        as_text=True)
    auth.post("/dashboards/home", {"dashboard": "delivery_overview"})
    assert client.get("/").location == "/dashboards/delivery_overview"


def test_a_tile_draws_its_chart_formula_and_links_for_the_shared_period(client, auth,
                                                                        report_rows):
    auth.login("leader")
    page = client.get("/dashboards/delivery_overview?period_from=2026-01-11"
                      "&period_to=2026-01-31&flow=&project=&org_unit=").get_data(as_text=True)
    by_flow = tile_urls(page)[1]
    assert "period_from=2026-01-11" in by_flow and "/tiles/1?" in by_flow
    html = client.get(by_flow, headers=HTMX).get_data(as_text=True)
    assert "<html" not in html  # the tile alone, for htmx to swap in
    option = json.loads(re.search(r'class="chart-option">(.*?)</script>', html, re.S).group(1))
    point = option["series"][0]["data"][0]
    assert point["value"] == 50.0  # B: review late, approval on time; A's review was before
    assert "period_from=2026-01-11" in point["drill"] and "g.flow=Change+request" in point["drill"]
    assert "On-time rate = number of Tasks where" in html
    assert 'href="/reports/on_time_rate_by_flow?period_from=2026-01-11&amp;period_to=2026-01-31"' \
        in html
    wider = client.get(by_flow.replace("2026-01-11", "2026-01-01"), headers=HTMX)
    assert '"value": 66.7' in wider.get_data(as_text=True)
    overdue = client.get(tile_urls(page)[2], headers=HTMX).get_data(as_text=True)
    assert "Not narrowed by: Period" in overdue  # overdue is counted now, whatever the period


def test_a_tile_works_without_javascript_as_a_page_of_its_own(client, auth, report_rows):
    auth.login("leader")
    page = client.get("/dashboards/delivery_overview/tiles/0?period_from=2026-01-01"
                      "&period_to=2026-01-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert 'href="/dashboards/delivery_overview"' in html
    assert "66.7%" in html and "Target: 90.0%" in html


def test_bad_shared_parameters_are_named_and_kept(client, auth):
    auth.login("leader")
    page = client.get("/dashboards/delivery_overview?period_from=2026-13-01&period_to=2026-01-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="period_from-error"' in html and 'value="2026-13-01"' in html
    tile = client.get(tile_urls(html)[0], headers=HTMX).get_data(as_text=True)
    assert "Please correct the report's parameters." in tile


def test_a_tile_not_open_to_the_reader_says_so_and_others_show_only_their_rows(
        client, auth, session, report_rows):
    body = dict(catalog.current(session, "report", "workload_per_person").content,
                roles=["member", "leader"])
    report = check_definition(body, "w.json", session)
    catalog.publish(session, "report", report.key, report.title, json.dumps(body),
                    dump_report(report))
    team = {"key": "team", "title": {"en": "Team", "zh-CN": "团队"}, "roles": ["member"],
            "tiles": [{"report": "workload_per_person", "visualisation": {"type": "table"}},
                      {"report": "overdue_tasks_by_owner"}]}
    spec = check_dashboard(team, "team.json", session)
    catalog.publish(session, "dashboard", "team", spec.title, json.dumps(team), dumps(spec))
    session.commit()
    auth.login("engineer1")
    urls = tile_urls(client.get("/dashboards/team").get_data(as_text=True))
    workload = client.get(urls[0], headers=HTMX).get_data(as_text=True)
    assert "Delivery director approval" in workload and "Project manager review" not in workload
    refused = client.get(urls[1], headers=HTMX).get_data(as_text=True)
    assert "This report is not open to your role." in refused and "<table" not in refused


def test_subscribing_names_bad_fields_and_unsubscribing_needs_no_sign_in(client, auth, session):
    auth.login("leader")
    bad = auth.post("/dashboards/delivery_overview/subscriptions", {
        "frequency": "weekly", "day": "9", "locale": "en", "timezone": "Mars/Olympus"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="day-error"' in html and 'id="timezone-error"' in html
    done = auth.post("/dashboards/delivery_overview/subscriptions", {
        "frequency": "weekly", "day": "1", "locale": "en", "timezone": "Asia/Shanghai"})
    assert done.status_code == 302
    page = client.get("/dashboards/delivery_overview").get_data(as_text=True)
    assert "Weekly" in page and "Monday" in page and "Asia/Shanghai" in page
    token = session.scalar(select(DigestSubscription.token))
    client.post("/auth/logout", data={"csrf_token": auth.csrf("/inbox/")})
    confirm = client.get(f"/dashboards/unsubscribe/{token}")
    assert confirm.status_code == 200 and "Delivery overview" in confirm.get_data(as_text=True)
    gone = auth.post(f"/dashboards/unsubscribe/{token}")
    assert "You are unsubscribed" in gone.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(DigestSubscription)) is None
    assert client.get(f"/dashboards/unsubscribe/{token}").status_code == 404
