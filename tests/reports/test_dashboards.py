"""Dashboards: checking definitions, shared parameters reaching tiles, access, home pages."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from andon import catalog
from andon.errors import Forbidden, InvalidDefinition, InvalidSubmission
from andon.reports import dashboards, subscriptions
from andon.reports.dashboard import check_dashboard, dumps
from andon.reports.definition import check_definition
from andon.reports.definition import dumps as dump_report
from andon.reports.headlines import headline
from andon.reports.models import DigestSubscription

SHIPPED = json.loads(Path("definitions/dashboards/delivery_overview.json").read_text())


def broken(**changes) -> dict:
    """Return the shipped dashboard with some parts replaced."""
    body = copy.deepcopy(SHIPPED)
    body.update(changes)
    return body


@pytest.mark.parametrize(("body", "where"), [
    (broken(tiles=[]), "$.tiles"),
    (broken(tiles=[{"report": "on_time_rate_by_flow", "width": 5}]), "$.tiles[0].width"),
    (broken(tiles=[{"report": "on_time_rate_by_flow", "visualisation": {"type": "radar"}}]),
     "$.tiles[0].visualisation.type"),
    (broken(parameters=[{"key": "a", "type": "flow"}, {"key": "b", "type": "flow"}]),
     "$.parameters[1].type"),
    (broken(roles=["boss"]), "$.roles[0]"),
    (broken(title={"en": "No Chinese"}), "$.title"),
])
def test_bad_dashboards_name_the_json_path(body, where):
    with pytest.raises(InvalidDefinition) as caught:
        check_dashboard(body, "d.json")
    assert any(place == f"d.json: {where}" for place, _ in caught.value.problems), \
        caught.value.problems


def test_tiles_must_name_published_reports_and_their_measures(session, people):
    body = broken(tiles=[{"report": "salaries"},
                         {"report": "on_time_rate_by_flow",
                          "visualisation": {"type": "pie", "measures": ["profit"]}}])
    with pytest.raises(InvalidDefinition) as caught:
        check_dashboard(body, "d.json", session)
    assert [place for place, _ in caught.value.problems] == [
        "d.json: $.tiles[0].report", "d.json: $.tiles[1].visualisation.measures[0]"]


def test_the_shipped_dashboard_loads_as_a_versioned_definition(session, people):
    version = catalog.current(session, "dashboard", "delivery_overview")
    assert version.number == 1 and version.title["zh-CN"] == "交付总览"
    spec = dashboards.dashboard(session, "delivery_overview", people["leader"])
    assert [t["report"] for t in spec.tiles][:2] == ["on_time_rate_trend", "on_time_rate_by_flow"]
    with pytest.raises(Forbidden):
        dashboards.dashboard(session, "delivery_overview", people["engineer1"])
    assert dashboards.readable(session, people["engineer1"]) == []


def test_shared_parameters_reach_each_tile_by_type_whatever_the_report_calls_them(session,
                                                                                  people):
    report = catalog.current(session, "report", "workload_per_person").content
    renamed = dict(report, parameters=[{"key": "when", "type": "date_range",
                                        "field": "created_at"}, {"key": "which", "type": "flow"}])
    spec_report = check_definition(renamed, "w.json", session)
    spec = dashboards.spec_of(catalog.current(session, "dashboard", "delivery_overview"))
    values, unused = dashboards.tile_values(spec, spec_report, {
        "period_from": "2026-01-01", "period_to": "2026-01-31", "flow": "change_request",
        "project": "PRJ-A", "org_unit": ""})
    assert values == {"when_from": "2026-01-01", "when_to": "2026-01-31",
                      "which": "change_request"}
    assert unused == ["project", "org_unit"]


def test_the_default_period_is_chosen_once_for_every_tile(session, people):
    spec = dashboards.dashboard(session, "delivery_overview", people["leader"])
    declared = dashboards.shared(spec, {}, today=date(2026, 2, 1))
    values = dashboards.values_of(declared)
    assert values["period_from"] == "2025-11-04" and values["period_to"] == "2026-02-01"
    at = [tile["report"] for tile in spec.body["tiles"]].index("task_burndown")
    burndown = dashboards.tile(session, spec, at, people["leader"], values)
    assert burndown.values["period_from"] == "2025-11-04"
    cleared = dashboards.values_of(dashboards.shared(spec, {"period_from": "", "period_to": ""}))
    assert cleared["period_from"] == "" and cleared["period_to"] == ""


def publish_for_members(session, key: str, tiles: list[dict], roles=("member",)) -> None:
    """Publish a dashboard that members (or other roles) may open."""
    body = {"key": key, "title": {"en": "Team", "zh-CN": "团队"}, "roles": list(roles),
            "parameters": [{"key": "period", "type": "date_range"}], "tiles": tiles}
    spec = check_dashboard(body, f"{key}.json", session)
    catalog.publish(session, "dashboard", key, spec.title, json.dumps(body), dumps(spec))


def open_report_to_members(session, key: str) -> None:
    """Publish a new version of a shipped report that members may open too."""
    body = dict(catalog.current(session, "report", key).content, roles=["member", "leader"])
    spec = check_definition(body, f"{key}.json", session)
    catalog.publish(session, "report", key, spec.title, json.dumps(body), dump_report(spec))


def test_a_tile_the_reader_may_not_open_says_so_and_shows_no_numbers(session, report_rows,
                                                                     people):
    open_report_to_members(session, "workload_per_person")
    publish_for_members(session, "team", [{"report": "workload_per_person"},
                                          {"report": "overdue_tasks_by_owner"}])
    engineer = people["engineer1"]
    spec = dashboards.dashboard(session, "team", engineer)
    workload, overdue = dashboards.tiles(session, spec, engineer, {})
    assert overdue.refusal == "This report is not open to your role."
    refused = headline(session, overdue, "Overdue", engineer, "en", str)
    assert refused.refusal and refused.rows == [] and refused.kpi is None
    mine = headline(session, workload, "Workload", engineer, "en", str)
    leader = headline(session, dashboards.tile(session, spec, 0, people["leader"], {}),
                      "Workload", people["leader"], "en", str)
    assert "Project manager review" not in str(mine.rows)  # C's, of another org unit
    assert "Project manager review" in str(leader.rows)


def test_a_leader_lands_on_the_dashboard_made_home_for_leaders_unless_they_choose(session,
                                                                                  people):
    leader, engineer = people["leader"], people["engineer1"]
    assert dashboards.home_key(session, leader) == "delivery_overview"
    assert dashboards.home_key(session, engineer) is None
    dashboards.choose_home(session, leader, None)
    assert dashboards.home_key(session, leader) is None
    dashboards.choose_home(session, leader, "delivery_overview")
    assert dashboards.home_key(session, leader) == "delivery_overview"
    with pytest.raises(Forbidden):
        dashboards.choose_home(session, engineer, "delivery_overview")
    publish_for_members(session, "team", [{"report": "workload_per_person"}],
                        roles=("member", "leader"))
    dashboards.choose_home(session, leader, "team")
    assert dashboards.home_key(session, leader) == "team"
    publish_for_members(session, "team", [{"report": "workload_per_person"}])  # closed now
    assert dashboards.home_key(session, leader) == "delivery_overview"
    catalog.retire(session, "dashboard", "delivery_overview")
    assert dashboards.home_key(session, leader) is None


def test_a_subscription_names_each_field_that_is_not_valid(session, people):
    with pytest.raises(InvalidSubmission) as caught:
        subscriptions.subscribe(session, people["leader"], "delivery_overview", {
            "frequency": "monthly", "day": "32", "locale": "fr", "timezone": "Mars/Olympus"})
    assert set(caught.value.errors) == {"day", "locale", "timezone"}
    made = subscriptions.subscribe(session, people["leader"], "delivery_overview", {
        "frequency": "weekly", "day": "1", "locale": "en", "timezone": "Asia/Shanghai"})
    assert len(made.token) >= 40 and subscriptions.by_token(session, made.token) is made


@pytest.mark.parametrize(("frequency", "day", "on", "due", "covered"), [
    ("weekly", 1, date(2026, 1, 19), True, (date(2026, 1, 12), date(2026, 1, 18))),
    ("weekly", 1, date(2026, 1, 20), False, None),
    ("monthly", 31, date(2026, 2, 28), True, (date(2026, 1, 28), date(2026, 2, 27))),
    ("monthly", 1, date(2026, 1, 1), True, (date(2025, 12, 1), date(2025, 12, 31))),
    ("monthly", 15, date(2026, 1, 14), False, None),
])
def test_digest_days_and_the_period_they_cover(frequency, day, on, due, covered):
    found = DigestSubscription(frequency=frequency, day=day)
    assert subscriptions.is_due(found, on) is due
    if covered:
        assert subscriptions.period(frequency, on) == covered
